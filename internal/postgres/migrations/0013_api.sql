-- API key scopes, rates and quotas (issue 17). Keys made before scopes
-- existed keep what every key could do: file reports and read statistics.
ALTER TABLE api_keys ADD COLUMN scopes TEXT NOT NULL DEFAULT 'report,stats';
ALTER TABLE api_keys ADD COLUMN rate_per_minute INTEGER NOT NULL DEFAULT 0;
ALTER TABLE api_keys ADD COLUMN daily_quota BIGINT NOT NULL DEFAULT 0;
ALTER TABLE api_keys ADD COLUMN last_used_at TIMESTAMPTZ;

-- Counts per key and UTC day, for quotas and the hotline's statistics:
-- never the hashes asked for.
CREATE TABLE api_key_usage (
	api_key_id BIGINT NOT NULL REFERENCES api_keys (id),
	day TEXT NOT NULL,
	requests BIGINT NOT NULL DEFAULT 0,
	lookups BIGINT NOT NULL DEFAULT 0,
	matches BIGINT NOT NULL DEFAULT 0,
	PRIMARY KEY (api_key_id, day)
);
