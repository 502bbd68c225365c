-- Victims' submissions to the victim bank (issue 20). A submission holds
-- no name, contact or picture: its tracking code is its only handle. Its
-- hashes live in bank_entries (the bank "victims"); victim_entries links
-- them, and outlives a withdrawal (the entries themselves are deleted) so
-- that the counts stay true.
CREATE TABLE victim_submissions (
	id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	tracking_code TEXT NOT NULL UNIQUE,
	description TEXT NOT NULL DEFAULT '',
	hashes INTEGER NOT NULL,
	created_at TIMESTAMPTZ NOT NULL,
	withdrawn_at TIMESTAMPTZ,
	flagged_at TIMESTAMPTZ,
	-- A supervisor who clears a flag stops it from being set again.
	cleared_at TIMESTAMPTZ,
	unrelated INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE victim_entries (
	submission_id BIGINT NOT NULL REFERENCES victim_submissions (id),
	entry_id BIGINT NOT NULL,
	signal TEXT NOT NULL,
	PRIMARY KEY (submission_id, entry_id)
);
CREATE INDEX victim_entries_entry ON victim_entries (entry_id);
-- Which media matched an entry: the victim's counts and the flag read it.
CREATE INDEX media_matches_entry ON media_matches (entry_id);
