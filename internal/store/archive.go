package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/vigil-hotline/vigil"
)

// ArchiveEntryPaths lists the entries of a container recorded so far for
// a crawl.
func (db *DB) ArchiveEntryPaths(ctx context.Context, parentID, reportedURLID int64) ([]string, error) {
	rows, err := db.drv.Reader().Query(ctx, `SELECT path FROM archive_entries e WHERE parent_id = $1 AND (media_id IS NULL
		OR EXISTS (SELECT 1 FROM media_sightings s WHERE s.media_id = e.media_id AND s.reported_url_id = $2))`, parentID, reportedURLID)
	if err != nil {
		return nil, fmt.Errorf("archive entry paths: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			return nil, fmt.Errorf("archive entry paths: %w", err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("archive entry paths: %w", err)
	}
	return out, nil
}

// FetchURL returns the final URL of a fetch.
func (db *DB) FetchURL(ctx context.Context, fetchID int64) (string, error) {
	var u string
	err := db.drv.Reader().QueryRow(ctx, `SELECT final_url FROM fetches WHERE id = $1`, fetchID).Scan(&u)
	if err != nil {
		return "", wrap(notFound(err, "no fetch %d", fetchID), "fetch url")
	}
	return u, nil
}

// maxNestingWalk bounds the walk up the parents: deeper than any limit a
// hotline would set, and an end to a cycle (an archive that holds itself).
const maxNestingWalk = 32

// ArchiveNesting counts the containers around a media item, following its
// first recorded parent each step.
func (db *DB) ArchiveNesting(ctx context.Context, mediaID int64) (int, error) {
	n, id := 0, mediaID
	for n < maxNestingWalk {
		var parent int64
		err := db.drv.Reader().QueryRow(ctx, `SELECT parent_id FROM archive_entries WHERE media_id = $1
			ORDER BY recorded_at, parent_id LIMIT 1`, id).Scan(&parent)
		if err := ignoreNoRows(err); err != nil {
			return 0, fmt.Errorf("archive nesting: %w", err)
		}
		if parent == 0 {
			break
		}
		n, id = n+1, parent
	}
	return n, nil
}

// FinishEntry records one entry of a container (see vigil.CrawlService).
func (db *DB) FinishEntry(ctx context.Context, task *vigil.CrawlTask, e *vigil.ArchiveEntry, m *vigil.Media, h *vigil.MediaHashes,
	matches []vigil.Match, next vigil.TaskKind) error {
	return wrap(db.write(ctx, func(tx Tx) error {
		now := db.Now()
		// Every step is idempotent: recorded already (a run after a
		// crash, another crawl), only what is missing is added.
		if _, err := tx.Exec(ctx, `INSERT INTO archive_entries (parent_id, path, size, modified_at, reason, recorded_at, seq)
			VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (parent_id, path) DO NOTHING`,
			task.MediaID, e.Path, e.Size, e.Modified, e.Reason, now, e.Seq); err != nil {
			return err
		}
		e.ParentID, e.RecordedAt = task.MediaID, now
		if m == nil {
			return nil
		}
		label, err := db.entryLabel(ctx, tx, task, e.Path)
		if err != nil {
			return err
		}
		if err := db.insertMedia(ctx, tx, m); err != nil {
			return err
		}
		e.MediaID = m.ID
		if _, err := tx.Exec(ctx, `UPDATE archive_entries SET media_id = $3 WHERE parent_id = $1 AND path = $2`,
			task.MediaID, e.Path, m.ID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO media_sightings (media_id, reported_url_id, fetch_id, page_fetch_id, url, seen_at)
			VALUES ($1, $2, $3, $3, $4, $5) ON CONFLICT DO NOTHING`,
			m.ID, task.ReportedURLID, task.PageFetchID, label, now); err != nil {
			return err
		}
		if h != nil {
			n, err := db.recordHashes(ctx, tx, m.ID, h)
			if err != nil {
				return err
			}
			if n == 1 {
				if err := db.recordVerdict(ctx, tx, m.ID, matches); err != nil {
					return err
				}
			}
		}
		if next == "" {
			return nil
		}
		return db.queueTasks(ctx, tx, task, task.PageFetchID, []vigil.CrawlChild{{Kind: next,
			Target: fmt.Sprintf("media:%d", m.ID), MediaID: m.ID, Depth: task.Depth}}, vigil.CrawlBudget{}, false)
	}), "finish entry")
}

// entryLabel is where an entry was seen, as a URL that keeps pointing at
// what can be fetched: the archive's URL with the path inside it as the
// fragment (https://host/a.zip#dir/b.tar.gz!/c.jpg for nested archives).
func (db *DB) entryLabel(ctx context.Context, tx Tx, task *vigil.CrawlTask, path string) (string, error) {
	var parent string
	err := tx.QueryRow(ctx, `SELECT url FROM media_sightings WHERE media_id = $1 AND reported_url_id = $2
		ORDER BY seen_at, url LIMIT 1`, task.MediaID, task.ReportedURLID).Scan(&parent)
	if err != nil {
		return "", notFound(err, "no sighting of container %d", task.MediaID)
	}
	if strings.Contains(parent, "#") {
		return parent + "!/" + path, nil
	}
	return parent + "#" + path, nil
}

// insertMedia inserts a media item unless one with its SHA-256 exists,
// setting m.ID either way.
func (db *DB) insertMedia(ctx context.Context, tx Tx, m *vigil.Media) error {
	err := tx.QueryRow(ctx, `INSERT INTO media (sha256, md5, sha1, size, class, mime, blob_key, status, first_seen_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (sha256) DO NOTHING RETURNING id`,
		m.SHA256, m.MD5, m.SHA1, m.Size, m.Class, m.MIME, m.BlobKey, string(vigil.MediaPending), db.Now()).Scan(&m.ID)
	if err := ignoreNoRows(err); err != nil {
		return err
	}
	if m.ID == 0 {
		return tx.QueryRow(ctx, `SELECT id FROM media WHERE sha256 = $1`, m.SHA256).Scan(&m.ID)
	}
	return nil
}

// FinishExtract finishes a container's extraction (see vigil.CrawlService).
func (db *DB) FinishExtract(ctx context.Context, task *vigil.CrawlTask, h *vigil.MediaHashes, matches []vigil.Match,
	children []vigil.CrawlChild, b vigil.CrawlBudget) error {
	return wrap(db.write(ctx, func(tx Tx) error {
		if claimed, err := db.claimTask(ctx, tx, task.ID); err != nil || !claimed {
			return err
		}
		n, err := db.recordHashes(ctx, tx, task.MediaID, h)
		if err != nil {
			return err
		}
		if n == 1 {
			if err := db.recordVerdictQueued(ctx, tx, task.MediaID, matches, h.Error != ""); err != nil {
				return err
			}
		}
		// Links found inside (a PDF's) hang off the container's fetch.
		return db.queueChildren(ctx, tx, task, task.PageFetchID, children, b)
	}), "finish extract")
}

// ListArchiveEntries returns what a container held, in order.
func (db *DB) ListArchiveEntries(ctx context.Context, parentID int64) ([]*vigil.ArchiveEntry, error) {
	rows, err := db.drv.Reader().Query(ctx, `SELECT parent_id, seq, path, size, modified_at, COALESCE(media_id, 0), reason, recorded_at
		FROM archive_entries WHERE parent_id = $1 ORDER BY seq, path`, parentID)
	if err != nil {
		return nil, fmt.Errorf("list archive entries: %w", err)
	}
	defer rows.Close()
	var out []*vigil.ArchiveEntry
	for rows.Next() {
		e := &vigil.ArchiveEntry{}
		var modified *time.Time
		if err := rows.Scan(&e.ParentID, &e.Seq, &e.Path, &e.Size, &modified, &e.MediaID, &e.Reason, &e.RecordedAt); err != nil {
			return nil, fmt.Errorf("list archive entries: %w", err)
		}
		e.Modified = modified
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list archive entries: %w", err)
	}
	return out, nil
}
