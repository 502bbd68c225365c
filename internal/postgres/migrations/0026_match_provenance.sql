-- Provenance of a stored match (issue 15): which exchange entry matched and
-- its upstream label, as they were when it matched, so that the case keeps
-- them after the entry is withdrawn upstream.
ALTER TABLE media_matches ADD COLUMN exchange_id BIGINT NOT NULL DEFAULT 0;
ALTER TABLE media_matches ADD COLUMN exchange_name TEXT NOT NULL DEFAULT '';
ALTER TABLE media_matches ADD COLUMN upstream_id TEXT NOT NULL DEFAULT '';
ALTER TABLE media_matches ADD COLUMN upstream_class TEXT NOT NULL DEFAULT '';
