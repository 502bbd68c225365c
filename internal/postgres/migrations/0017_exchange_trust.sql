-- Trust controls on exchanges (issue 15). A suppressed entry stays in its
-- bank with its provenance but leaves the match indexes: suppressing writes
-- a remove to the change feed, lifting it an add.
ALTER TABLE bank_entries ADD COLUMN suppressed TEXT NOT NULL DEFAULT '';
ALTER TABLE bank_entries ADD COLUMN suppressed_at TIMESTAMPTZ;
ALTER TABLE bank_entries ADD COLUMN suppressed_hits BIGINT NOT NULL DEFAULT 0;
ALTER TABLE bank_entries ADD COLUMN suppressed_total BIGINT NOT NULL DEFAULT 0;
CREATE INDEX bank_entries_suppressed ON bank_entries (suppressed_at) WHERE suppressed <> '';
-- The quarantine counts an entry's hits in a window.
CREATE INDEX media_matches_entry_time ON media_matches (matched_at, entry_id);

-- Per-exchange trust settings; an exchange without a row has the defaults.
CREATE TABLE exchange_trust (
	exchange_id BIGINT PRIMARY KEY,
	class_map TEXT NOT NULL DEFAULT '',
	quarantine_share DOUBLE PRECISION NOT NULL DEFAULT 0,
	quarantine_min_hits INTEGER NOT NULL DEFAULT 0
);

-- Analysts' verdicts on upstream entries, and the feedback each sends back
-- (the outbox of the exactly-once protocol: pending, sending, sent, failed,
-- uncertain).
CREATE TABLE upstream_verdicts (
	id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	entry_id BIGINT NOT NULL,
	exchange_id BIGINT NOT NULL,
	exchange_kind TEXT NOT NULL,
	upstream_id TEXT NOT NULL,
	signal TEXT NOT NULL,
	value TEXT NOT NULL,
	media_id BIGINT NOT NULL DEFAULT 0,
	verdict TEXT NOT NULL,
	user_id BIGINT NOT NULL,
	note TEXT NOT NULL DEFAULT '',
	created_at TIMESTAMPTZ NOT NULL,
	feedback TEXT NOT NULL,
	feedback_key TEXT NOT NULL UNIQUE,
	attempts INTEGER NOT NULL DEFAULT 0,
	feedback_error TEXT NOT NULL DEFAULT '',
	sent_at TIMESTAMPTZ
);
CREATE INDEX upstream_verdicts_entry ON upstream_verdicts (entry_id);
