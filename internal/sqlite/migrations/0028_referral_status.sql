-- A status a hotline reports back carries its own classification where it
-- differs from the referring hotline's (issue 16): both are kept.
ALTER TABLE referral_status ADD COLUMN classification TEXT NOT NULL DEFAULT '';
