-- Videos (issue 14). A bank's vPDQ thresholds: P_q, the share of a
-- query's frames found in a known video, and P_c, the share of the known
-- video's frames found in the query (percent; see vigil.DefaultVideoQueryPercent).
ALTER TABLE banks ADD COLUMN video_query_pct DOUBLE PRECISION NOT NULL DEFAULT 80;
ALTER TABLE banks ADD COLUMN video_comp_pct DOUBLE PRECISION NOT NULL DEFAULT 0;

-- The frame list of a vpdq bank entry (its value is the list's digest),
-- in the reference's text form: one "frame,quality,pdq,timestamp" line a
-- frame. Apart from bank_entries so that paging through hashes stays light.
CREATE TABLE bank_video_frames (
	entry_id BIGINT PRIMARY KEY,
	frames TEXT NOT NULL
);

-- A crawled video's vPDQ hash and header facts, or why it has none.
CREATE TABLE media_video (
	media_id BIGINT PRIMARY KEY REFERENCES media (id),
	frames TEXT NOT NULL DEFAULT '',
	duration DOUBLE PRECISION NOT NULL DEFAULT 0,
	reason TEXT NOT NULL DEFAULT ''
);
