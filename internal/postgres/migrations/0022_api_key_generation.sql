-- One number that moves whenever an API key is created, changed, revoked
-- or removed (by Vigil or by hand): each process keeps the keys it has
-- seen in memory and reads only this number per request, so that a
-- revocation still holds from the next request in every process.
CREATE TABLE api_key_generation (
	one INTEGER PRIMARY KEY CHECK (one = 1),
	generation BIGINT NOT NULL
);
INSERT INTO api_key_generation (one, generation) VALUES (1, 0);

CREATE FUNCTION api_keys_generation_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	UPDATE api_key_generation SET generation = generation + 1 WHERE one = 1;
	RETURN NULL;
END
$$;
-- last_used_at is left out: it is written about once a second.
CREATE TRIGGER api_keys_generation AFTER INSERT OR DELETE OR TRUNCATE
	OR UPDATE OF name, key_hash, revoked, scopes, rate_per_minute, daily_quota ON api_keys
	FOR EACH STATEMENT EXECUTE FUNCTION api_keys_generation_bump();
