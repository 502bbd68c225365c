-- The analyst workbench (issue 6).

-- A queued media item is claimed by one analyst at a time; a claim that
-- has expired is free for anyone.
ALTER TABLE media ADD COLUMN claimed_by BIGINT REFERENCES users (id);
ALTER TABLE media ADD COLUMN claim_expires_at TIMESTAMPTZ;
CREATE INDEX media_queue ON media (queued_at) WHERE queued_at IS NOT NULL;
CREATE INDEX media_claimed_by ON media (claimed_by) WHERE claimed_by IS NOT NULL;

-- Analysts' decisions and their confirmation by a second pair of eyes.
CREATE TABLE assessments (
	id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	media_id BIGINT NOT NULL REFERENCES media (id),
	verdict TEXT NOT NULL,
	age_group TEXT NOT NULL,
	severity TEXT NOT NULL,
	self_generated BOOLEAN NOT NULL,
	ai_generated BOOLEAN NOT NULL,
	victim_id BOOLEAN NOT NULL,
	note TEXT NOT NULL,
	analyst_id BIGINT NOT NULL REFERENCES users (id),
	assessed_at TIMESTAMPTZ NOT NULL,
	applied_from BIGINT,
	state TEXT NOT NULL,
	confirmer_id BIGINT REFERENCES users (id),
	confirmed_at TIMESTAMPTZ,
	confirm_note TEXT NOT NULL DEFAULT ''
);
CREATE INDEX assessments_media ON assessments (media_id);
CREATE INDEX assessments_pending ON assessments (state, id);

-- Time with media on screen, per analyst and day.
CREATE TABLE exposure (
	user_id BIGINT NOT NULL REFERENCES users (id),
	day TEXT NOT NULL,
	millis BIGINT NOT NULL DEFAULT 0,
	extra_millis BIGINT NOT NULL DEFAULT 0,
	last_at TIMESTAMPTZ,
	PRIMARY KEY (user_id, day)
);

CREATE TABLE workbench_prefs (
	user_id BIGINT PRIMARY KEY REFERENCES users (id),
	blur INTEGER NOT NULL,
	grey_reveal BOOLEAN NOT NULL,
	updated_at TIMESTAMPTZ NOT NULL
);
