-- Issue 12: the audit chain keyed with a secret kept outside the database,
-- retention and purge, legal holds. Times are Unix microseconds.

-- key_id names the key whose HMAC made an entry's hash; '' for the entries
-- written before the chain was keyed (plain SHA-256). Adding a column
-- touches no row, so the append-only triggers stay as they are.
ALTER TABLE audit_log ADD COLUMN key_id TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_head ADD COLUMN key_id TEXT NOT NULL DEFAULT '';

-- A legal hold keeps a case (a reported URL) and everything of it from the
-- purge until it is lifted: the police may still need it.
CREATE TABLE legal_holds (
	reported_url_id INTEGER PRIMARY KEY REFERENCES reported_urls (id),
	reason TEXT NOT NULL,
	set_by INTEGER NOT NULL,
	set_by_name TEXT NOT NULL,
	set_at INTEGER NOT NULL
) STRICT;

-- A media item whose bytes the purge deleted keeps its hashes (so that it
-- is recognised if it comes back) but no longer has a blob.
ALTER TABLE media ADD COLUMN purged_at INTEGER;
