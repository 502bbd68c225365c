-- The analyst workbench (issue 6). Times are Unix microseconds, booleans 0/1.

-- A queued media item is claimed by one analyst at a time; a claim that
-- has expired is free for anyone.
ALTER TABLE media ADD COLUMN claimed_by INTEGER REFERENCES users (id);
ALTER TABLE media ADD COLUMN claim_expires_at INTEGER;
CREATE INDEX media_queue ON media (queued_at) WHERE queued_at IS NOT NULL;
CREATE INDEX media_claimed_by ON media (claimed_by) WHERE claimed_by IS NOT NULL;

-- Analysts' decisions and their confirmation by a second pair of eyes.
CREATE TABLE assessments (
	id INTEGER PRIMARY KEY,
	media_id INTEGER NOT NULL REFERENCES media (id),
	verdict TEXT NOT NULL,
	age_group TEXT NOT NULL,
	severity TEXT NOT NULL,
	self_generated INTEGER NOT NULL,
	ai_generated INTEGER NOT NULL,
	victim_id INTEGER NOT NULL,
	note TEXT NOT NULL,
	analyst_id INTEGER NOT NULL REFERENCES users (id),
	assessed_at INTEGER NOT NULL,
	applied_from INTEGER,
	state TEXT NOT NULL,
	confirmer_id INTEGER REFERENCES users (id),
	confirmed_at INTEGER,
	confirm_note TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX assessments_media ON assessments (media_id);
CREATE INDEX assessments_pending ON assessments (state, id);

-- Time with media on screen, per analyst and day.
CREATE TABLE exposure (
	user_id INTEGER NOT NULL REFERENCES users (id),
	day TEXT NOT NULL,
	millis INTEGER NOT NULL DEFAULT 0,
	extra_millis INTEGER NOT NULL DEFAULT 0,
	last_at INTEGER,
	PRIMARY KEY (user_id, day)
) STRICT;

CREATE TABLE workbench_prefs (
	user_id INTEGER PRIMARY KEY REFERENCES users (id),
	blur INTEGER NOT NULL,
	grey_reveal INTEGER NOT NULL,
	updated_at INTEGER NOT NULL
) STRICT;
