CREATE TABLE api_keys (
	id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	name TEXT NOT NULL UNIQUE,
	key_hash BYTEA NOT NULL UNIQUE,
	created_at TIMESTAMPTZ NOT NULL,
	revoked BOOLEAN NOT NULL DEFAULT FALSE
);

CREATE TABLE reports (
	id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	tracking_code TEXT NOT NULL UNIQUE,
	received_at TIMESTAMPTZ NOT NULL,
	language TEXT NOT NULL,
	source TEXT NOT NULL,
	api_key_id BIGINT REFERENCES api_keys (id),
	description TEXT NOT NULL DEFAULT '',
	saw_images BOOLEAN NOT NULL DEFAULT FALSE,
	saw_videos BOOLEAN NOT NULL DEFAULT FALSE,
	saw_other BOOLEAN NOT NULL DEFAULT FALSE,
	contact TEXT,
	status TEXT NOT NULL
);
CREATE INDEX reports_received_at ON reports (received_at);

CREATE TABLE reported_urls (
	id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	url TEXT NOT NULL UNIQUE,
	host TEXT NOT NULL,
	first_reported_at TIMESTAMPTZ NOT NULL,
	last_reported_at TIMESTAMPTZ NOT NULL,
	report_count INTEGER NOT NULL,
	status TEXT NOT NULL,
	status_reason TEXT NOT NULL DEFAULT '',
	updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX reported_urls_host ON reported_urls (host);
CREATE INDEX reported_urls_status ON reported_urls (status);

CREATE TABLE report_urls (
	report_id BIGINT NOT NULL REFERENCES reports (id),
	url_id BIGINT NOT NULL REFERENCES reported_urls (id),
	position INTEGER NOT NULL,
	PRIMARY KEY (report_id, url_id)
);
CREATE INDEX report_urls_url ON report_urls (url_id);

CREATE TABLE users (
	id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	name TEXT NOT NULL UNIQUE,
	role TEXT NOT NULL,
	password_hash TEXT NOT NULL,
	created_at TIMESTAMPTZ NOT NULL,
	disabled BOOLEAN NOT NULL DEFAULT FALSE
);

CREATE TABLE sessions (
	token_hash BYTEA PRIMARY KEY,
	user_id BIGINT NOT NULL REFERENCES users (id),
	created_at TIMESTAMPTZ NOT NULL,
	last_seen_at TIMESTAMPTZ NOT NULL,
	expires_at TIMESTAMPTZ NOT NULL
);
