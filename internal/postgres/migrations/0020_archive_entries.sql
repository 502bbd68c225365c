-- What a container (an archive, a PDF) held (issue 21): one row per entry,
-- with the media item it became, or why it did not become one (encrypted,
-- not a picture or video, over a limit). The path is a label from the
-- archive, never a file path. Unique per container and path, so that an
-- extraction run again after a crash records each entry once.
CREATE TABLE archive_entries (
	parent_id BIGINT NOT NULL REFERENCES media (id),
	path TEXT NOT NULL,
	media_id BIGINT REFERENCES media (id),
	size BIGINT NOT NULL,
	modified_at TIMESTAMPTZ,
	reason TEXT NOT NULL DEFAULT '',
	recorded_at TIMESTAMPTZ NOT NULL,
	seq BIGINT NOT NULL,
	PRIMARY KEY (parent_id, path)
);
CREATE INDEX archive_entries_media ON archive_entries (media_id) WHERE media_id IS NOT NULL;
