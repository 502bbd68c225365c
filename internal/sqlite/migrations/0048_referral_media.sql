-- Media a partner sent with its referral (issue 16), age-encrypted to us,
-- kept in the encrypted blob store under blob (a vault name): once per
-- referral and SHA-256.
CREATE TABLE referral_media (
	referral_in_id INTEGER NOT NULL REFERENCES referrals_in (id),
	sha256 TEXT NOT NULL,
	blob TEXT NOT NULL,
	size INTEGER NOT NULL,
	received_at INTEGER NOT NULL,
	PRIMARY KEY (referral_in_id, sha256)
) STRICT;
