-- Victims' submissions to the victim bank (issue 20). A submission holds
-- no name, contact or picture: its tracking code is its only handle. Its
-- hashes live in bank_entries (the bank "victims"); victim_entries links
-- them, and outlives a withdrawal (the entries themselves are deleted) so
-- that the counts stay true.
CREATE TABLE victim_submissions (
	id INTEGER PRIMARY KEY,
	tracking_code TEXT NOT NULL UNIQUE,
	description TEXT NOT NULL DEFAULT '',
	hashes INTEGER NOT NULL,
	created_at INTEGER NOT NULL,
	withdrawn_at INTEGER,
	flagged_at INTEGER,
	-- A supervisor who clears a flag stops it from being set again.
	cleared_at INTEGER,
	unrelated INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE TABLE victim_entries (
	submission_id INTEGER NOT NULL REFERENCES victim_submissions (id),
	entry_id INTEGER NOT NULL,
	signal TEXT NOT NULL,
	PRIMARY KEY (submission_id, entry_id)
) STRICT;
CREATE INDEX victim_entries_entry ON victim_entries (entry_id);
-- Which media matched an entry: the victim's counts and the flag read it.
CREATE INDEX media_matches_entry ON media_matches (entry_id);
