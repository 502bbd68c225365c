-- Hash exchanges (issue 15): configured sources bound to a bank, fetched on
-- a schedule. Credentials are sealed by the store (enc1:…) and never read
-- back except by the fetcher. The lease (lease_owner, lease_until) makes one
-- fetch per exchange across processes; the checkpoint is written in the
-- same transaction as each page's entries.
CREATE TABLE exchanges (
	-- AUTOINCREMENT: an ID is never reused, since bank entries keep the ID of
	-- the exchange they came from after it is removed.
	id INTEGER PRIMARY KEY AUTOINCREMENT,
	name TEXT NOT NULL UNIQUE,
	kind TEXT NOT NULL,
	bank_id INTEGER NOT NULL REFERENCES banks (id),
	url TEXT NOT NULL DEFAULT '',
	token TEXT NOT NULL DEFAULT '',
	username TEXT NOT NULL DEFAULT '',
	password TEXT NOT NULL DEFAULT '',
	schedule_s INTEGER NOT NULL DEFAULT 0,
	allow_private INTEGER NOT NULL DEFAULT 0,
	enabled INTEGER NOT NULL DEFAULT 1,
	signal_types TEXT NOT NULL DEFAULT '',
	classifications TEXT NOT NULL DEFAULT '',
	checkpoint TEXT NOT NULL DEFAULT '',
	-- The current pass over a full list (http-list); entries carry the
	-- pass that last delivered them (bank_entries.seen_round).
	list_round INTEGER NOT NULL DEFAULT 0,
	created_at INTEGER NOT NULL,
	next_fetch_at INTEGER NOT NULL,
	lease_owner TEXT NOT NULL DEFAULT '',
	lease_until INTEGER NOT NULL DEFAULT 0,
	last_started_at INTEGER,
	last_finished_at INTEGER,
	last_added INTEGER NOT NULL DEFAULT 0,
	last_removed INTEGER NOT NULL DEFAULT 0,
	last_skipped INTEGER NOT NULL DEFAULT 0,
	last_error TEXT NOT NULL DEFAULT '',
	last_lag_max_ms INTEGER NOT NULL DEFAULT 0,
	last_lag_mean_ms INTEGER NOT NULL DEFAULT 0
) STRICT;

-- Provenance of bank entries (also issue 17's upstream id).
ALTER TABLE bank_entries ADD COLUMN exchange_id INTEGER NOT NULL DEFAULT 0;
ALTER TABLE bank_entries ADD COLUMN upstream_id TEXT NOT NULL DEFAULT '';
ALTER TABLE bank_entries ADD COLUMN upstream_class TEXT NOT NULL DEFAULT '';
ALTER TABLE bank_entries ADD COLUMN tags TEXT NOT NULL DEFAULT '';
ALTER TABLE bank_entries ADD COLUMN fetched_at INTEGER;
ALTER TABLE bank_entries ADD COLUMN seen_round INTEGER NOT NULL DEFAULT 0;
CREATE INDEX bank_entries_exchange ON bank_entries (exchange_id, upstream_id) WHERE exchange_id <> 0;
