-- Hash banks. Entry values are raw bytes (half the size of hex).
CREATE TABLE banks (
	id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	name TEXT NOT NULL UNIQUE,
	source TEXT NOT NULL,
	terms TEXT NOT NULL DEFAULT '',
	kind TEXT NOT NULL,
	enabled BOOLEAN NOT NULL DEFAULT TRUE,
	pdq_threshold INTEGER NOT NULL,
	created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE bank_entries (
	id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	bank_id BIGINT NOT NULL REFERENCES banks (id),
	signal TEXT NOT NULL,
	value BYTEA NOT NULL,
	classification TEXT NOT NULL DEFAULT '',
	added_at TIMESTAMPTZ NOT NULL,
	added_from TEXT NOT NULL DEFAULT '',
	note TEXT NOT NULL DEFAULT '',
	UNIQUE (bank_id, signal, value)
);
-- Paging through one bank in ID order (export, index loading).
CREATE INDEX bank_entries_bank_id ON bank_entries (bank_id, id);

-- The change feed: one row per batch of added entries, per removed entry,
-- per bank change. Matchers poll it to keep their index in step. Writers
-- take an advisory lock first (see internal/store), so seq order is commit
-- order.
CREATE TABLE bank_changes (
	seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	op TEXT NOT NULL,
	bank_id BIGINT NOT NULL,
	first_entry_id BIGINT NOT NULL DEFAULT 0,
	last_entry_id BIGINT NOT NULL DEFAULT 0,
	signal TEXT NOT NULL DEFAULT '',
	value BYTEA,
	changed_at TIMESTAMPTZ NOT NULL
);
