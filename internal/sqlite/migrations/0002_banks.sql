-- Hash banks. Entry values are raw bytes (half the size of hex); entry and
-- change IDs use AUTOINCREMENT so that an ID is never reused: match indexes
-- in other processes key on it.
CREATE TABLE banks (
	id INTEGER PRIMARY KEY,
	name TEXT NOT NULL UNIQUE,
	source TEXT NOT NULL,
	terms TEXT NOT NULL DEFAULT '',
	kind TEXT NOT NULL,
	enabled INTEGER NOT NULL DEFAULT 1,
	pdq_threshold INTEGER NOT NULL,
	created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE bank_entries (
	id INTEGER PRIMARY KEY AUTOINCREMENT,
	bank_id INTEGER NOT NULL REFERENCES banks (id),
	signal TEXT NOT NULL,
	value BLOB NOT NULL,
	classification TEXT NOT NULL DEFAULT '',
	added_at INTEGER NOT NULL,
	added_from TEXT NOT NULL DEFAULT '',
	note TEXT NOT NULL DEFAULT '',
	UNIQUE (bank_id, signal, value)
) STRICT;
-- Paging through one bank in ID order (export, index loading).
CREATE INDEX bank_entries_bank_id ON bank_entries (bank_id, id);

-- The change feed: one row per batch of added entries, per removed entry,
-- per bank change. Matchers poll it to keep their index in step.
CREATE TABLE bank_changes (
	seq INTEGER PRIMARY KEY AUTOINCREMENT,
	op TEXT NOT NULL,
	bank_id INTEGER NOT NULL,
	first_entry_id INTEGER NOT NULL DEFAULT 0,
	last_entry_id INTEGER NOT NULL DEFAULT 0,
	signal TEXT NOT NULL DEFAULT '',
	value BLOB,
	changed_at INTEGER NOT NULL
) STRICT;
