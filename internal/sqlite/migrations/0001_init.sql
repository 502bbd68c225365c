-- Times are Unix microseconds (the driver converts), booleans 0/1.
CREATE TABLE api_keys (
	id INTEGER PRIMARY KEY,
	name TEXT NOT NULL UNIQUE,
	key_hash BLOB NOT NULL UNIQUE,
	created_at INTEGER NOT NULL,
	revoked INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE TABLE reports (
	id INTEGER PRIMARY KEY,
	tracking_code TEXT NOT NULL UNIQUE,
	received_at INTEGER NOT NULL,
	language TEXT NOT NULL,
	source TEXT NOT NULL,
	api_key_id INTEGER REFERENCES api_keys (id),
	description TEXT NOT NULL DEFAULT '',
	saw_images INTEGER NOT NULL DEFAULT 0,
	saw_videos INTEGER NOT NULL DEFAULT 0,
	saw_other INTEGER NOT NULL DEFAULT 0,
	contact TEXT,
	status TEXT NOT NULL
) STRICT;
CREATE INDEX reports_received_at ON reports (received_at);

CREATE TABLE reported_urls (
	id INTEGER PRIMARY KEY,
	url TEXT NOT NULL UNIQUE,
	host TEXT NOT NULL,
	first_reported_at INTEGER NOT NULL,
	last_reported_at INTEGER NOT NULL,
	report_count INTEGER NOT NULL,
	status TEXT NOT NULL,
	status_reason TEXT NOT NULL DEFAULT '',
	updated_at INTEGER NOT NULL
) STRICT;
CREATE INDEX reported_urls_host ON reported_urls (host);
CREATE INDEX reported_urls_status ON reported_urls (status);

CREATE TABLE report_urls (
	report_id INTEGER NOT NULL REFERENCES reports (id),
	url_id INTEGER NOT NULL REFERENCES reported_urls (id),
	position INTEGER NOT NULL,
	PRIMARY KEY (report_id, url_id)
) STRICT;
CREATE INDEX report_urls_url ON report_urls (url_id);

CREATE TABLE users (
	id INTEGER PRIMARY KEY,
	name TEXT NOT NULL UNIQUE,
	role TEXT NOT NULL,
	password_hash TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	disabled INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE TABLE sessions (
	token_hash BLOB PRIMARY KEY,
	user_id INTEGER NOT NULL REFERENCES users (id),
	created_at INTEGER NOT NULL,
	last_seen_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL
) STRICT;
