-- One case on its way to removal per reported URL with illegal content.
CREATE TABLE takedowns (
	id INTEGER PRIMARY KEY,
	reported_url_id INTEGER NOT NULL UNIQUE REFERENCES reported_urls (id),
	url TEXT NOT NULL,
	state TEXT NOT NULL,
	classification TEXT NOT NULL DEFAULT '',
	severity TEXT NOT NULL DEFAULT '',
	country TEXT NOT NULL DEFAULT '',
	asn INTEGER NOT NULL DEFAULT 0,
	as_org TEXT NOT NULL DEFAULT '',
	cdn TEXT NOT NULL DEFAULT '',
	provider TEXT NOT NULL DEFAULT '',
	routes TEXT NOT NULL DEFAULT '',
	route_plan TEXT NOT NULL DEFAULT '',
	deadline INTEGER,
	first_seen_at INTEGER NOT NULL,
	traced_at INTEGER,
	first_notice_at INTEGER,
	last_notice_at INTEGER,
	notices INTEGER NOT NULL DEFAULT 0,
	rechecks INTEGER NOT NULL DEFAULT 0,
	escalated INTEGER NOT NULL DEFAULT 0,
	next_check_at INTEGER,
	removed_at INTEGER,
	created_at INTEGER NOT NULL,
	trace TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX takedowns_state ON takedowns (state);

-- Every message sent, stored rendered, with its delivery result.
CREATE TABLE outbound (
	id INTEGER PRIMARY KEY,
	takedown_id INTEGER NOT NULL REFERENCES takedowns (id),
	key TEXT NOT NULL UNIQUE,
	kind TEXT NOT NULL,
	route_kind TEXT NOT NULL,
	recipient TEXT NOT NULL,
	message_id TEXT NOT NULL,
	raw BLOB NOT NULL,
	state TEXT NOT NULL,
	attempts INTEGER NOT NULL DEFAULT 0,
	reply TEXT NOT NULL DEFAULT '',
	error TEXT NOT NULL DEFAULT '',
	created_at INTEGER NOT NULL,
	sent_at INTEGER
) STRICT;
CREATE INDEX outbound_takedown ON outbound (takedown_id);

-- Every recheck of a notified URL, as evidence.
CREATE TABLE rechecks (
	id INTEGER PRIMARY KEY,
	takedown_id INTEGER NOT NULL REFERENCES takedowns (id),
	checked_at INTEGER NOT NULL,
	up INTEGER NOT NULL,
	detail TEXT NOT NULL
) STRICT;
