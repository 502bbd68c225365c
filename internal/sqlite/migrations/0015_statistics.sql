-- Statistics: times to removal kept in seconds beside the timestamps (so
-- that both databases rank and bucket them with the same SQL), and the
-- indexes that the period figures range over.
ALTER TABLE takedowns ADD COLUMN removal_seconds INTEGER;
ALTER TABLE takedowns ADD COLUMN notice_removal_seconds INTEGER;
UPDATE takedowns SET removal_seconds = (removed_at - first_seen_at) / 1000000,
	notice_removal_seconds = CASE WHEN first_notice_at IS NULL THEN NULL ELSE (removed_at - first_notice_at) / 1000000 END
	WHERE removed_at IS NOT NULL;
-- Covering indexes: a period's figures read the index range alone.
CREATE INDEX takedowns_removed_at ON takedowns (removed_at, removal_seconds, notice_removal_seconds, country, provider);
CREATE INDEX takedowns_first_notice_at ON takedowns (first_notice_at, provider, asn);
CREATE INDEX takedowns_created_at ON takedowns (created_at, country);
CREATE INDEX reported_urls_first_reported_at ON reported_urls (first_reported_at);
CREATE INDEX reports_received_source ON reports (received_at, source, language);
CREATE INDEX media_first_seen_at ON media (first_seen_at, status);
CREATE INDEX media_matches_matched_at ON media_matches (matched_at, bank_name, media_id);
CREATE INDEX outbound_sent_at ON outbound (sent_at, state, route_kind, kind);
CREATE INDEX assessments_confirmed_at ON assessments (confirmed_at, state, verdict, age_group, severity);
CREATE INDEX assessments_assessed_at ON assessments (assessed_at);
