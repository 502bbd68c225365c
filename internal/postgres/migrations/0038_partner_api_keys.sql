-- An API key of scope referral belongs to one partner hotline (issue 16):
-- a referral or status is accepted only when the partner that signed it
-- is the key's partner, so that one partner's key cannot carry another's
-- signature. NULL: a key of no partner, refused on the referral API.
ALTER TABLE api_keys ADD COLUMN partner_id BIGINT REFERENCES partners (id);

-- Processes keep keys in memory (see 0022): a binding changed must move
-- the generation too.
DROP TRIGGER api_keys_generation ON api_keys;
CREATE TRIGGER api_keys_generation AFTER INSERT OR DELETE OR TRUNCATE
	OR UPDATE OF name, key_hash, revoked, scopes, rate_per_minute, daily_quota, partner_id ON api_keys
	FOR EACH STATEMENT EXECUTE FUNCTION api_keys_generation_bump();
