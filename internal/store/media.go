package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/vigil-hotline/vigil"
)

func joinHashes(hs []string) string { return strings.Join(hs, ",") }

func splitHashes(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

const mediaColumns = `id, sha256, md5, sha1, size, class, mime, blob_key, pdq, pdq_quality, dihedral, width, height,
	format, hash_error, hash_runs, match_runs, status, classification, first_seen_at, hashed_at, matched_at, queued_at`

func scanMedia(row Row) (*vigil.Media, error) {
	m := &vigil.Media{}
	var dihedral, status string
	err := row.Scan(&m.ID, &m.SHA256, &m.MD5, &m.SHA1, &m.Size, &m.Class, &m.MIME, &m.BlobKey, &m.PDQ, &m.Quality,
		&dihedral, &m.Width, &m.Height, &m.Format, &m.HashError, &m.HashRuns, &m.MatchRuns, &status,
		&m.Classification, &m.FirstSeenAt, &m.HashedAt, &m.MatchedAt, &m.QueuedAt)
	m.Dihedral, m.Status = splitHashes(dihedral), vigil.MediaStatus(status)
	return m, err
}

// FindMedia returns a media item.
func (db *DB) FindMedia(ctx context.Context, id int64) (*vigil.Media, error) {
	m, err := scanMedia(db.drv.Reader().QueryRow(ctx, `SELECT `+mediaColumns+` FROM media WHERE id = $1`, id))
	if err != nil {
		return nil, wrap(notFound(err, "no media item %d", id), "find media")
	}
	return m, nil
}

// ListMediaForURL returns the media seen in a reported URL's crawl.
func (db *DB) ListMediaForURL(ctx context.Context, reportedURLID int64) ([]*vigil.Media, error) {
	return db.listMedia(ctx, `SELECT `+mediaColumns+` FROM media WHERE id IN
		(SELECT media_id FROM media_sightings WHERE reported_url_id = $1) ORDER BY id`, reportedURLID)
}

func (db *DB) listMedia(ctx context.Context, q string, args ...any) ([]*vigil.Media, error) {
	rows, err := db.drv.Reader().Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list media: %w", err)
	}
	defer rows.Close()
	var out []*vigil.Media
	for rows.Next() {
		m, err := scanMedia(rows)
		if err != nil {
			return nil, fmt.Errorf("list media: %w", err)
		}
		out = append(out, m)
	}
	return out, wrap(rows.Err(), "list media")
}

// ListFetches returns the evidence of a reported URL's crawl, in order.
func (db *DB) ListFetches(ctx context.Context, reportedURLID int64) ([]*vigil.Fetch, error) {
	rows, err := db.drv.Reader().Query(ctx, `SELECT id, reported_url_id, task_id, kind, requested_url, final_url, status,
		started_at, duration_ms, bytes, body_sha256, content_type, sniffed, class, connected, reason, error, evidence
		FROM fetches WHERE reported_url_id = $1 ORDER BY id`, reportedURLID)
	if err != nil {
		return nil, fmt.Errorf("list fetches: %w", err)
	}
	defer rows.Close()
	var out []*vigil.Fetch
	for rows.Next() {
		f := &vigil.Fetch{}
		var kind string
		var ms int64
		if err := rows.Scan(&f.ID, &f.ReportedURLID, &f.TaskID, &kind, &f.RequestedURL, &f.FinalURL, &f.Status,
			&f.StartedAt, &ms, &f.Bytes, &f.BodySHA256, &f.ContentType, &f.Sniffed, &f.Class, &f.Connected,
			&f.Reason, &f.Error, &f.Evidence); err != nil {
			return nil, fmt.Errorf("list fetches: %w", err)
		}
		f.Kind, f.Duration = vigil.TaskKind(kind), time.Duration(ms)*time.Millisecond
		out = append(out, f)
	}
	return out, wrap(rows.Err(), "list fetches")
}

// MediaMatches returns the bank entries a media item matched, best first.
func (db *DB) MediaMatches(ctx context.Context, mediaID int64) ([]vigil.Match, error) {
	rows, err := db.drv.Reader().Query(ctx, `SELECT bank_id, entry_id, bank_name, signal, distance, variant, classification,
		exchange_id, exchange_name, upstream_id, upstream_class
		FROM media_matches WHERE media_id = $1 ORDER BY distance, entry_id`, mediaID)
	if err != nil {
		return nil, fmt.Errorf("media matches: %w", err)
	}
	defer rows.Close()
	var out []vigil.Match
	for rows.Next() {
		var m vigil.Match
		var signal string
		if err := rows.Scan(&m.BankID, &m.EntryID, &m.BankName, &signal, &m.Distance, &m.Variant, &m.Classification,
			&m.ExchangeID, &m.ExchangeName, &m.UpstreamID, &m.UpstreamClassification); err != nil {
			return nil, fmt.Errorf("media matches: %w", err)
		}
		m.Signal = vigil.SignalType(signal)
		out = append(out, m)
	}
	return out, wrap(rows.Err(), "media matches")
}

// MediaCounts counts media by status.
func (db *DB) MediaCounts(ctx context.Context) (vigil.MediaCounts, error) {
	var c vigil.MediaCounts
	err := db.drv.Reader().QueryRow(ctx, `SELECT count(*),
		COALESCE(SUM(CASE WHEN status = 'known' THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN status = 'unknown' THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN status = 'pending' THEN 1 ELSE 0 END), 0) FROM media`).
		Scan(&c.Media, &c.Known, &c.Unknown, &c.Pending)
	return c, wrap(err, "count media")
}
