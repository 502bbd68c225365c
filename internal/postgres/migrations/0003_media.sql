CREATE TABLE crawl_tasks (
	id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	reported_url_id BIGINT NOT NULL REFERENCES reported_urls (id),
	kind TEXT NOT NULL,
	target TEXT NOT NULL,
	depth INTEGER NOT NULL DEFAULT 0,
	page_fetch_id BIGINT,
	media_id BIGINT,
	state TEXT NOT NULL,
	created_at TIMESTAMPTZ NOT NULL,
	done_at TIMESTAMPTZ,
	UNIQUE (reported_url_id, kind, target)
);

ALTER TABLE reported_urls ADD COLUMN tasks_pending INTEGER NOT NULL DEFAULT 0;
ALTER TABLE reported_urls ADD COLUMN pages_queued INTEGER NOT NULL DEFAULT 0;
ALTER TABLE reported_urls ADD COLUMN media_queued INTEGER NOT NULL DEFAULT 0;
ALTER TABLE reported_urls ADD COLUMN crawl_started_at TIMESTAMPTZ;
ALTER TABLE reported_urls ADD COLUMN crawl_done_at TIMESTAMPTZ;

CREATE TABLE fetches (
	id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	reported_url_id BIGINT NOT NULL REFERENCES reported_urls (id),
	task_id BIGINT NOT NULL REFERENCES crawl_tasks (id),
	kind TEXT NOT NULL,
	requested_url TEXT NOT NULL,
	final_url TEXT NOT NULL,
	status INTEGER NOT NULL,
	started_at TIMESTAMPTZ NOT NULL,
	duration_ms BIGINT NOT NULL,
	bytes BIGINT NOT NULL,
	body_sha256 TEXT NOT NULL,
	content_type TEXT NOT NULL,
	sniffed TEXT NOT NULL,
	class TEXT NOT NULL,
	connected TEXT NOT NULL,
	reason TEXT NOT NULL,
	error TEXT NOT NULL,
	evidence JSONB NOT NULL
);
CREATE INDEX fetches_reported_url ON fetches (reported_url_id);

CREATE TABLE media (
	id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	sha256 TEXT NOT NULL UNIQUE,
	md5 TEXT NOT NULL,
	sha1 TEXT NOT NULL,
	size BIGINT NOT NULL,
	class TEXT NOT NULL,
	mime TEXT NOT NULL,
	blob_key TEXT NOT NULL,
	pdq TEXT NOT NULL DEFAULT '',
	pdq_quality INTEGER NOT NULL DEFAULT 0,
	dihedral TEXT NOT NULL DEFAULT '',
	width INTEGER NOT NULL DEFAULT 0,
	height INTEGER NOT NULL DEFAULT 0,
	format TEXT NOT NULL DEFAULT '',
	hash_error TEXT NOT NULL DEFAULT '',
	hash_runs INTEGER NOT NULL DEFAULT 0,
	match_runs INTEGER NOT NULL DEFAULT 0,
	status TEXT NOT NULL,
	classification TEXT NOT NULL DEFAULT '',
	first_seen_at TIMESTAMPTZ NOT NULL,
	hashed_at TIMESTAMPTZ,
	matched_at TIMESTAMPTZ,
	queued_at TIMESTAMPTZ
);
CREATE INDEX media_status ON media (status, queued_at);
CREATE INDEX media_pdq ON media (pdq);

CREATE TABLE media_sightings (
	media_id BIGINT NOT NULL REFERENCES media (id),
	reported_url_id BIGINT NOT NULL REFERENCES reported_urls (id),
	fetch_id BIGINT NOT NULL REFERENCES fetches (id),
	page_fetch_id BIGINT REFERENCES fetches (id),
	url TEXT NOT NULL,
	seen_at TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (media_id, reported_url_id, url)
);
CREATE INDEX media_sightings_url ON media_sightings (reported_url_id);

CREATE TABLE media_matches (
	media_id BIGINT NOT NULL REFERENCES media (id),
	bank_id BIGINT NOT NULL,
	entry_id BIGINT NOT NULL,
	bank_name TEXT NOT NULL,
	signal TEXT NOT NULL,
	distance INTEGER NOT NULL,
	variant TEXT NOT NULL,
	classification TEXT NOT NULL,
	matched_at TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (media_id, entry_id)
);
