package store

import (
	"context"
	"fmt"
	"strings"

	"github.com/riverqueue/river"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/jobargs"
)

// StartCrawl queues the first page of a reported URL's crawl. Running it
// again (a retried crawl job) changes nothing.
func (db *DB) StartCrawl(ctx context.Context, urlID int64) error {
	return wrap(db.write(ctx, func(tx Tx) error {
		var url string
		if err := tx.QueryRow(ctx, `SELECT url FROM reported_urls WHERE id = $1`, urlID).Scan(&url); err != nil {
			return notFound(err, "no reported URL %d", urlID)
		}
		now := db.Now()
		var taskID int64
		err := tx.QueryRow(ctx, `INSERT INTO crawl_tasks (reported_url_id, kind, target, depth, state, created_at)
			VALUES ($1, $2, $3, 0, 'pending', $4) ON CONFLICT (reported_url_id, kind, target) DO NOTHING RETURNING id`,
			urlID, string(vigil.TaskPage), url, now).Scan(&taskID)
		if err != nil {
			return ignoreNoRows(err)
		}
		if _, err := tx.Exec(ctx, `UPDATE reported_urls SET status = $2, status_reason = '', tasks_pending = tasks_pending + 1,
			pages_queued = pages_queued + 1, crawl_started_at = $3, updated_at = $3 WHERE id = $1`,
			urlID, string(vigil.URLCrawling), now); err != nil {
			return err
		}
		return tx.InsertJobs(ctx, []river.InsertManyParams{jobargs.TaskJob(string(vigil.TaskPage), taskID)})
	}), "start crawl")
}

const taskColumns = `id, reported_url_id, kind, target, depth, COALESCE(page_fetch_id, 0), COALESCE(media_id, 0), state`

// FindTask returns a crawl task.
func (db *DB) FindTask(ctx context.Context, id int64) (*vigil.CrawlTask, error) {
	t := &vigil.CrawlTask{}
	var kind, state string
	err := db.drv.Reader().QueryRow(ctx, `SELECT `+taskColumns+` FROM crawl_tasks WHERE id = $1`, id).
		Scan(&t.ID, &t.ReportedURLID, &kind, &t.Target, &t.Depth, &t.PageFetchID, &t.MediaID, &state)
	if err != nil {
		return nil, wrap(notFound(err, "no crawl task %d", id), "find task")
	}
	t.Kind, t.Done = vigil.TaskKind(kind), state == "done"
	return t, nil
}

// FinishPage records a page's fetch and queues what it calls for. A root
// page that could not be fetched fails its reported URL.
func (db *DB) FinishPage(ctx context.Context, task *vigil.CrawlTask, f *vigil.Fetch, children []vigil.CrawlChild, b vigil.CrawlBudget) error {
	return wrap(db.write(ctx, func(tx Tx) error {
		if claimed, err := db.claimTask(ctx, tx, task.ID); err != nil || !claimed {
			return err
		}
		fetchID, err := db.insertFetch(ctx, tx, task, f)
		if err != nil {
			return err
		}
		if err := db.graphPage(ctx, tx, task, f); err != nil {
			return err
		}
		if f.Reason != "" && task.Depth == 0 {
			if _, err := tx.Exec(ctx, `UPDATE reported_urls SET status_reason = $2 WHERE id = $1`,
				task.ReportedURLID, failureReason(f)); err != nil {
				return err
			}
			// A referred URL we could not fetch: the partner hears so.
			if err := db.queueStatusForURL(ctx, tx, task.ReportedURLID, "not_found", "", failureReason(f), db.Now()); err != nil {
				return err
			}
		}
		return db.queueChildren(ctx, tx, task, fetchID, children, b)
	}), "finish page")
}

func failureReason(f *vigil.Fetch) string {
	switch {
	case f.Error == "":
		return f.Reason
	case strings.HasPrefix(f.Error, f.Reason):
		return f.Error
	}
	return f.Reason + ": " + f.Error
}

// FinishMedia records a media fetch and, when it brought a file, the media
// item (deduplicated by SHA-256), where it was seen, and its hash task.
func (db *DB) FinishMedia(ctx context.Context, task *vigil.CrawlTask, f *vigil.Fetch, m *vigil.Media) error {
	return wrap(db.write(ctx, func(tx Tx) error {
		if claimed, err := db.claimTask(ctx, tx, task.ID); err != nil || !claimed {
			return err
		}
		if m == nil {
			if _, err := db.insertFetch(ctx, tx, task, f); err != nil {
				return err
			}
			return db.queueChildren(ctx, tx, task, 0, nil, vigil.CrawlBudget{})
		}
		if err := db.recordMedia(ctx, tx, task, f, m); err != nil {
			return err
		}
		if vigil.IsContainer(m.Class) {
			// The extraction carries the container's fetch: its entries
			// were seen through it.
			return db.queueChildren(ctx, tx, task, f.ID, []vigil.CrawlChild{{Kind: vigil.TaskExtract,
				Target: fmt.Sprintf("media:%d", m.ID), MediaID: m.ID, Depth: task.Depth}}, vigil.CrawlBudget{})
		}
		return db.queueChildren(ctx, tx, task, 0, []vigil.CrawlChild{{Kind: vigil.TaskHash, Target: fmt.Sprintf("media:%d", m.ID), MediaID: m.ID}}, vigil.CrawlBudget{})
	}), "finish media")
}

// FinishImage records a fetched image with its hashes and verdict in one
// transaction (see vigil.CrawlService).
func (db *DB) FinishImage(ctx context.Context, task *vigil.CrawlTask, f *vigil.Fetch, m *vigil.Media, h *vigil.MediaHashes, matches []vigil.Match) error {
	return db.FinishImageLinks(ctx, task, f, m, h, matches, nil, vigil.CrawlBudget{})
}

// FinishImageLinks is FinishImage with the pictures an image references
// (see vigil.CrawlService), found through its fetch.
func (db *DB) FinishImageLinks(ctx context.Context, task *vigil.CrawlTask, f *vigil.Fetch, m *vigil.Media, h *vigil.MediaHashes,
	matches []vigil.Match, children []vigil.CrawlChild, b vigil.CrawlBudget) error {
	return wrap(db.write(ctx, func(tx Tx) error {
		if claimed, err := db.claimTask(ctx, tx, task.ID); err != nil || !claimed {
			return err
		}
		if err := db.recordMedia(ctx, tx, task, f, m); err != nil {
			return err
		}
		if h != nil {
			n, err := db.recordHashes(ctx, tx, m.ID, h)
			if err != nil {
				return err
			}
			// n is 0 when another crawl hashed the item first: its verdict
			// is that crawl's to record.
			if n == 1 {
				if err := db.recordVerdict(ctx, tx, m.ID, matches); err != nil {
					return err
				}
			}
		}
		return db.queueChildren(ctx, tx, task, f.ID, children, b)
	}), "finish image")
}

// MediaHashed reports whether the media item with this SHA-256 is hashed;
// false when there is none.
func (db *DB) MediaHashed(ctx context.Context, sha256 string) (bool, error) {
	var hashed bool
	err := db.drv.Reader().QueryRow(ctx, `SELECT hashed_at IS NOT NULL FROM media WHERE sha256 = $1`, sha256).Scan(&hashed)
	if err := ignoreNoRows(err); err != nil {
		return false, wrap(err, "media hashed")
	}
	return hashed, nil
}

// recordMedia inserts a media fetch, the media item (deduplicated by
// SHA-256; m.ID is set) and where it was seen.
func (db *DB) recordMedia(ctx context.Context, tx Tx, task *vigil.CrawlTask, f *vigil.Fetch, m *vigil.Media) error {
	fetchID, err := db.insertFetch(ctx, tx, task, f)
	if err != nil {
		return err
	}
	now := db.Now()
	if err := db.insertMedia(ctx, tx, m); err != nil {
		return err
	}
	var pageFetch *int64
	if task.PageFetchID != 0 {
		pageFetch = &task.PageFetchID
	}
	if _, err = tx.Exec(ctx, `INSERT INTO media_sightings (media_id, reported_url_id, fetch_id, page_fetch_id, url, seen_at)
		VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`,
		m.ID, task.ReportedURLID, fetchID, pageFetch, task.Target, now); err != nil {
		return err
	}
	return db.graphMedia(ctx, tx, task, f, m)
}

// recordHashes stores a media item's hashes unless it was hashed already,
// returning how many rows changed (0 or 1).
func (db *DB) recordHashes(ctx context.Context, tx Tx, mediaID int64, h *vigil.MediaHashes) (int64, error) {
	return tx.Exec(ctx, `UPDATE media SET pdq = $2, pdq_quality = $3, dihedral = $4, width = $5, height = $6,
		format = $7, hash_error = $8, hash_runs = hash_runs + 1, hashed_at = $9 WHERE id = $1 AND hashed_at IS NULL`,
		mediaID, h.PDQ, h.Quality, joinHashes(h.Dihedral), h.Width, h.Height, h.Format, h.Error, db.Now())
}

// FinishHash stores a media item's hashes (h is nil when another crawl
// hashed it already) and queues its match task. A media item is hashed
// once, whatever the number of crawls that meet it.
func (db *DB) FinishHash(ctx context.Context, task *vigil.CrawlTask, h *vigil.MediaHashes) error {
	return wrap(db.write(ctx, func(tx Tx) error {
		if claimed, err := db.claimTask(ctx, tx, task.ID); err != nil || !claimed {
			return err
		}
		if h != nil {
			if _, err := db.recordHashes(ctx, tx, task.MediaID, h); err != nil {
				return err
			}
			if err := db.saveMediaVideo(ctx, tx, task.MediaID, h); err != nil {
				return err
			}
		}
		return db.queueChildren(ctx, tx, task, 0, []vigil.CrawlChild{{Kind: vigil.TaskMatch, Target: task.Target, MediaID: task.MediaID}}, vigil.CrawlBudget{})
	}), "finish hash")
}

// FinishMatch stores a media item's verdict: known, with the bank entries
// it matched, or unknown and queued for an analyst. done is false when
// another crawl matched the item already and matches is to be ignored.
func (db *DB) FinishMatch(ctx context.Context, task *vigil.CrawlTask, matches []vigil.Match, done bool) error {
	return wrap(db.write(ctx, func(tx Tx) error {
		if claimed, err := db.claimTask(ctx, tx, task.ID); err != nil || !claimed {
			return err
		}
		if done {
			if err := db.recordVerdict(ctx, tx, task.MediaID, matches); err != nil {
				return err
			}
		}
		return db.queueChildren(ctx, tx, task, 0, nil, vigil.CrawlBudget{})
	}), "finish match")
}

// recordVerdict stores a media item's verdict: known, with the bank
// entries it matched, or unknown and queued for an analyst; nothing when it
// was matched already.
func (db *DB) recordVerdict(ctx context.Context, tx Tx, mediaID int64, matches []vigil.Match) error {
	return db.recordVerdictQueued(ctx, tx, mediaID, matches, true)
}

// recordVerdictQueued is recordVerdict; an unknown item waits for an
// analyst only when queue is true (a container wholly examined does not:
// its entries do).
func (db *DB) recordVerdictQueued(ctx context.Context, tx Tx, mediaID int64, matches []vigil.Match, queue bool) error {
	now := db.Now()
	status, class, queued := vigil.MediaUnknown, "", &now
	if !queue {
		queued = nil
	}
	if len(matches) > 0 {
		status, class, queued = vigil.MediaKnown, matches[0].Classification, nil
		// A match in the hotline's not-illegal list never hides
		// a match in a bank of illegal material.
		for _, m := range matches {
			if m.Classification != vigil.ClassNotIllegal {
				class = m.Classification
				break
			}
		}
		// Matches only of a flagged victim submission wait for an
		// analyst instead of opening the takedown path.
		held, err := db.holdVictimMatches(ctx, tx, mediaID, matches)
		if err != nil {
			return err
		}
		if held {
			status, class, queued = vigil.MediaUnknown, "", &now
		}
	}
	n, err := tx.Exec(ctx, `UPDATE media SET status = $2, classification = $3, match_runs = match_runs + 1,
		matched_at = $4, queued_at = $5 WHERE id = $1 AND matched_at IS NULL`,
		mediaID, string(status), class, now, queued)
	if err != nil {
		return err
	}
	if n == 1 {
		if err := db.graphVerdict(ctx, tx, mediaID, matches); err != nil {
			return err
		}
	}
	for _, m := range matches {
		if n == 0 {
			break
		}
		if _, err := tx.Exec(ctx, `INSERT INTO media_matches (media_id, bank_id, entry_id, bank_name, signal, distance,
			variant, classification, matched_at, exchange_id, exchange_name, upstream_id, upstream_class)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) ON CONFLICT DO NOTHING`,
			mediaID, m.BankID, m.EntryID, m.BankName, string(m.Signal), m.Distance, m.Variant, m.Classification, now,
			m.ExchangeID, m.ExchangeName, m.UpstreamID, m.UpstreamClassification); err != nil {
			return err
		}
	}
	return nil
}

// claimTask marks a pending task done, reporting false when it was done
// already: the work of a job that runs twice is then thrown away whole.
func (db *DB) claimTask(ctx context.Context, tx Tx, id int64) (bool, error) {
	n, err := tx.Exec(ctx, `UPDATE crawl_tasks SET state = 'done', done_at = $2 WHERE id = $1 AND state = 'pending'`, id, db.Now())
	return n == 1, err
}

func (db *DB) insertFetch(ctx context.Context, tx Tx, task *vigil.CrawlTask, f *vigil.Fetch) (int64, error) {
	err := tx.QueryRow(ctx, `INSERT INTO fetches (reported_url_id, task_id, kind, requested_url, final_url, status, started_at,
		duration_ms, bytes, body_sha256, content_type, sniffed, class, connected, reason, error, evidence)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) RETURNING id`,
		task.ReportedURLID, task.ID, string(task.Kind), f.RequestedURL, f.FinalURL, f.Status, f.StartedAt,
		f.Duration.Milliseconds(), f.Bytes, f.BodySHA256, f.ContentType, f.Sniffed, f.Class, f.Connected,
		f.Reason, f.Error, f.Evidence).Scan(&f.ID)
	f.ReportedURLID, f.TaskID, f.Kind = task.ReportedURLID, task.ID, task.Kind
	return f.ID, err
}

// queueChildren inserts the new tasks a finished task calls for, within the
// crawl's budget, queues their jobs, and closes the reported URL's crawl
// when no task is left. Pages and media found on a page carry the page's
// fetch, so a case shows what was seen where.
func (db *DB) queueChildren(ctx context.Context, tx Tx, task *vigil.CrawlTask, pageFetchID int64, children []vigil.CrawlChild, b vigil.CrawlBudget) error {
	return db.queueTasks(ctx, tx, task, pageFetchID, children, b, true)
}

// queueTasks is queueChildren, for a task that finishes (its own pending
// count goes) or goes on (an extraction between entries).
func (db *DB) queueTasks(ctx context.Context, tx Tx, task *vigil.CrawlTask, pageFetchID int64, children []vigil.CrawlChild, b vigil.CrawlBudget, finishing bool) error {
	var pages, media int
	if err := tx.QueryRow(ctx, `SELECT pages_queued, media_queued FROM reported_urls WHERE id = $1`,
		task.ReportedURLID).Scan(&pages, &media); err != nil {
		return err
	}
	now := db.Now()
	var queued []river.InsertManyParams
	for _, c := range children {
		if !b.Admits(c.Kind, pages, media) {
			continue
		}
		var id int64
		err := tx.QueryRow(ctx, `INSERT INTO crawl_tasks (reported_url_id, kind, target, depth, page_fetch_id, media_id, state, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7) ON CONFLICT (reported_url_id, kind, target) DO NOTHING RETURNING id`,
			task.ReportedURLID, string(c.Kind), c.Target, c.Depth, nullID(pageFetchID), nullID(c.MediaID), now).Scan(&id)
		if err := ignoreNoRows(err); err != nil {
			return err
		}
		if id == 0 {
			continue // already queued by another page
		}
		switch c.Kind {
		case vigil.TaskPage:
			pages++
		case vigil.TaskMedia:
			media++
		}
		queued = append(queued, jobargs.TaskJob(string(c.Kind), id))
	}
	var pending int
	var reason string
	if err := tx.QueryRow(ctx, `UPDATE reported_urls SET tasks_pending = tasks_pending + $2, pages_queued = $3,
		media_queued = $4, updated_at = $5 WHERE id = $1 RETURNING tasks_pending, status_reason`,
		task.ReportedURLID, len(queued)-finished(finishing), pages, media, now).Scan(&pending, &reason); err != nil {
		return err
	}
	if status, ended := vigil.CrawlEnded(pending, reason); ended {
		if _, err := tx.Exec(ctx, `UPDATE reported_urls SET crawl_done_at = $2, status = $3 WHERE id = $1`,
			task.ReportedURLID, now, string(status)); err != nil {
			return err
		}
		if err := db.openTakedownIfIllegal(ctx, tx, task.ReportedURLID); err != nil {
			return err
		}
	}
	if len(queued) == 0 {
		return nil
	}
	return tx.InsertJobs(ctx, queued)
}

func finished(finishing bool) int {
	if finishing {
		return 1
	}
	return 0
}

func nullID(id int64) *int64 {
	if id == 0 {
		return nil
	}
	return &id
}
