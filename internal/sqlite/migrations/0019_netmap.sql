-- The network map (see netmap.go): nodes and edges derived from crawls,
-- media, verdicts and traces, written in the same transactions. No foreign
-- keys: a node stands for a URL, host or hash, not for one row.
CREATE TABLE graph_nodes (
	id INTEGER PRIMARY KEY,
	kind TEXT NOT NULL,
	key TEXT NOT NULL,
	label TEXT NOT NULL DEFAULT '',
	ref_id INTEGER NOT NULL DEFAULT 0,
	country TEXT NOT NULL DEFAULT '',
	cdn TEXT NOT NULL DEFAULT '',
	first_seen_at INTEGER NOT NULL,
	last_seen_at INTEGER NOT NULL,
	UNIQUE (kind, key)
) STRICT;
CREATE INDEX graph_nodes_ref ON graph_nodes (kind, ref_id);

CREATE TABLE graph_edges (
	src INTEGER NOT NULL,
	dst INTEGER NOT NULL,
	kind TEXT NOT NULL,
	first_seen_at INTEGER NOT NULL,
	last_seen_at INTEGER NOT NULL,
	PRIMARY KEY (src, dst, kind)
) STRICT, WITHOUT ROWID;
CREATE INDEX graph_edges_dst ON graph_edges (dst);

-- Which nodes each case's crawl reached: what clusters are computed from.
CREATE TABLE graph_presence (
	node_id INTEGER NOT NULL,
	case_id INTEGER NOT NULL,
	first_seen_at INTEGER NOT NULL,
	last_seen_at INTEGER NOT NULL,
	PRIMARY KEY (node_id, case_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX graph_presence_case ON graph_presence (case_id);
