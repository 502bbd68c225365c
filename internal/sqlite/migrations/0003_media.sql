-- The crawl of one reported URL is a set of tasks (pages, media, hash,
-- match), each unique per reported URL and done at most once: a job that
-- runs again after a crash finds its task done and stops.
CREATE TABLE crawl_tasks (
	id INTEGER PRIMARY KEY,
	reported_url_id INTEGER NOT NULL REFERENCES reported_urls (id),
	kind TEXT NOT NULL,
	target TEXT NOT NULL,
	depth INTEGER NOT NULL DEFAULT 0,
	page_fetch_id INTEGER,
	media_id INTEGER,
	state TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	done_at INTEGER,
	UNIQUE (reported_url_id, kind, target)
) STRICT;

ALTER TABLE reported_urls ADD COLUMN tasks_pending INTEGER NOT NULL DEFAULT 0;
ALTER TABLE reported_urls ADD COLUMN pages_queued INTEGER NOT NULL DEFAULT 0;
ALTER TABLE reported_urls ADD COLUMN media_queued INTEGER NOT NULL DEFAULT 0;
ALTER TABLE reported_urls ADD COLUMN crawl_started_at INTEGER;
ALTER TABLE reported_urls ADD COLUMN crawl_done_at INTEGER;

-- Evidence: every fetch, what was asked, who answered, what came back.
CREATE TABLE fetches (
	id INTEGER PRIMARY KEY,
	reported_url_id INTEGER NOT NULL REFERENCES reported_urls (id),
	task_id INTEGER NOT NULL REFERENCES crawl_tasks (id),
	kind TEXT NOT NULL,
	requested_url TEXT NOT NULL,
	final_url TEXT NOT NULL,
	status INTEGER NOT NULL,
	started_at INTEGER NOT NULL,
	duration_ms INTEGER NOT NULL,
	bytes INTEGER NOT NULL,
	body_sha256 TEXT NOT NULL,
	content_type TEXT NOT NULL,
	sniffed TEXT NOT NULL,
	class TEXT NOT NULL,
	connected TEXT NOT NULL,
	reason TEXT NOT NULL,
	error TEXT NOT NULL,
	evidence TEXT NOT NULL
) STRICT;
CREATE INDEX fetches_reported_url ON fetches (reported_url_id);

-- Media, deduplicated by SHA-256 across every case. The bytes are in the
-- (encrypted) blob store, never here.
CREATE TABLE media (
	id INTEGER PRIMARY KEY,
	sha256 TEXT NOT NULL UNIQUE,
	md5 TEXT NOT NULL,
	sha1 TEXT NOT NULL,
	size INTEGER NOT NULL,
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
	first_seen_at INTEGER NOT NULL,
	hashed_at INTEGER,
	matched_at INTEGER,
	queued_at INTEGER
) STRICT;
CREATE INDEX media_status ON media (status, queued_at);
CREATE INDEX media_pdq ON media (pdq);

-- Where each media item was seen: which reported URL, which page, which
-- fetch.
CREATE TABLE media_sightings (
	media_id INTEGER NOT NULL REFERENCES media (id),
	reported_url_id INTEGER NOT NULL REFERENCES reported_urls (id),
	fetch_id INTEGER NOT NULL REFERENCES fetches (id),
	page_fetch_id INTEGER REFERENCES fetches (id),
	url TEXT NOT NULL,
	seen_at INTEGER NOT NULL,
	PRIMARY KEY (media_id, reported_url_id, url)
) STRICT;
CREATE INDEX media_sightings_url ON media_sightings (reported_url_id);

-- Why a media item is known: the bank entries it matched.
CREATE TABLE media_matches (
	media_id INTEGER NOT NULL REFERENCES media (id),
	bank_id INTEGER NOT NULL,
	entry_id INTEGER NOT NULL,
	bank_name TEXT NOT NULL,
	signal TEXT NOT NULL,
	distance INTEGER NOT NULL,
	variant TEXT NOT NULL,
	classification TEXT NOT NULL,
	matched_at INTEGER NOT NULL,
	PRIMARY KEY (media_id, entry_id)
) STRICT;
