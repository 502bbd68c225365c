-- An API key of scope referral belongs to one partner hotline (issue 16):
-- a referral or status is accepted only when the partner that signed it
-- is the key's partner, so that one partner's key cannot carry another's
-- signature. NULL: a key of no partner, refused on the referral API.
ALTER TABLE api_keys ADD COLUMN partner_id INTEGER REFERENCES partners (id);

-- Processes keep keys in memory (see 0022): a binding changed must move
-- the generation too.
DROP TRIGGER api_keys_generation_update;
CREATE TRIGGER api_keys_generation_update
	AFTER UPDATE OF name, key_hash, revoked, scopes, rate_per_minute, daily_quota, partner_id ON api_keys
BEGIN UPDATE api_key_generation SET generation = generation + 1 WHERE one = 1; END;
