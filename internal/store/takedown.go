package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/jobargs"
)

// openTakedownIfIllegal opens the takedown path for a reported URL whose
// crawl found media known to be illegal (vigil.CaseClassification), in the
// transaction that closes the crawl.
func (db *DB) openTakedownIfIllegal(ctx context.Context, tx Tx, urlID int64) error {
	rows, err := tx.Query(ctx, `SELECT DISTINCT m.classification FROM media m JOIN media_sightings s ON s.media_id = m.id
		WHERE s.reported_url_id = $1 AND m.status = 'known'`, urlID)
	if err != nil {
		return err
	}
	var known []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			rows.Close()
			return err
		}
		known = append(known, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	class, open := vigil.CaseClassification(known)
	if !open {
		return nil
	}
	return db.openTakedown(ctx, tx, urlID, class)
}

// openTakedownsForMedia opens the takedown path for every reported URL
// whose crawl showed a media item.
func (db *DB) openTakedownsForMedia(ctx context.Context, tx Tx, mediaID int64, class string) error {
	rows, err := tx.Query(ctx, `SELECT DISTINCT reported_url_id FROM media_sightings WHERE media_id = $1`, mediaID)
	if err != nil {
		return err
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return err
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, id := range ids {
		if err := db.openTakedown(ctx, tx, id, class); err != nil {
			return err
		}
	}
	return nil
}

func (db *DB) openTakedown(ctx context.Context, tx Tx, urlID int64, class string) error {
	var url string
	var firstSeen time.Time
	if err := tx.QueryRow(ctx, `SELECT url, first_reported_at FROM reported_urls WHERE id = $1`, urlID).Scan(&url, &firstSeen); err != nil {
		return notFound(err, "no reported URL %d", urlID)
	}
	now := db.Now()
	var id int64
	err := tx.QueryRow(ctx, `INSERT INTO takedowns (reported_url_id, url, state, classification, severity, first_seen_at, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (reported_url_id) DO NOTHING RETURNING id`,
		urlID, url, string(vigil.TakedownTracing), class, vigil.TakedownSeverity(class), firstSeen, now).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	// A referred case reports its assessment back to the partner.
	if err := db.queueStatusForTakedown(ctx, tx, id, "assessed", class, "", now); err != nil {
		return err
	}
	return tx.InsertJobs(ctx, []river.InsertManyParams{jobargs.TakedownJob(jobargs.TraceArgs{TakedownID: id}, time.Time{})})
}

const takedownColumns = `id, reported_url_id, url, state, classification, severity, country, asn, as_org, cdn, provider,
	routes, deadline, first_seen_at, traced_at, first_notice_at, last_notice_at, notices, escalated, next_check_at,
	removed_at, created_at, trace`

func scanTakedown(row Row) (*vigil.Takedown, error) {
	t := &vigil.Takedown{}
	var state, routes string
	var asn int64
	err := row.Scan(&t.ID, &t.ReportedURLID, &t.URL, &state, &t.Classification, &t.Severity, &t.Country, &asn, &t.ASOrg,
		&t.CDN, &t.Provider, &routes, &t.Deadline, &t.FirstSeenAt, &t.TracedAt, &t.FirstNoticeAt, &t.LastNoticeAt,
		&t.Notices, &t.Escalated, &t.NextCheckAt, &t.RemovedAt, &t.CreatedAt, &t.Trace)
	t.State, t.ASN = vigil.TakedownState(state), uint32(asn)
	if routes != "" {
		t.Routes = strings.Split(routes, ",")
	}
	return t, err
}

// FindTakedown returns a case on the takedown path.
func (db *DB) FindTakedown(ctx context.Context, id int64) (*vigil.Takedown, error) {
	t, err := scanTakedown(db.drv.Reader().QueryRow(ctx, `SELECT `+takedownColumns+` FROM takedowns WHERE id = $1`, id))
	if err != nil {
		return nil, wrap(notFound(err, "no takedown %d", id), "find takedown")
	}
	return t, nil
}

// FindTakedownByURL returns the case of a reported URL.
func (db *DB) FindTakedownByURL(ctx context.Context, urlID int64) (*vigil.Takedown, error) {
	t, err := scanTakedown(db.drv.Reader().QueryRow(ctx, `SELECT `+takedownColumns+` FROM takedowns WHERE reported_url_id = $1`, urlID))
	if err != nil {
		return nil, wrap(notFound(err, "no takedown for reported URL %d", urlID), "find takedown")
	}
	return t, nil
}

// ListTakedowns lists cases in a state (every state when empty), newest
// first.
func (db *DB) ListTakedowns(ctx context.Context, state vigil.TakedownState, limit int) ([]*vigil.Takedown, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := db.drv.Reader().Query(ctx, `SELECT `+takedownColumns+` FROM takedowns
		WHERE $1 = '' OR state = $1 ORDER BY id DESC LIMIT $2`, string(state), limit)
	if err != nil {
		return nil, fmt.Errorf("list takedowns: %w", err)
	}
	defer rows.Close()
	var out []*vigil.Takedown
	for rows.Next() {
		t, err := scanTakedown(rows)
		if err != nil {
			return nil, fmt.Errorf("list takedowns: %w", err)
		}
		out = append(out, t)
	}
	return out, wrap(rows.Err(), "list takedowns")
}

// RecordTrace stores a case's trace and routes, the messages they call
// for, and schedules their sending and the first recheck. It does nothing
// when the case was traced already.
func (db *DB) RecordTrace(ctx context.Context, id int64, r *vigil.TraceResult) error {
	return wrap(db.write(ctx, func(tx Tx) error {
		now := db.Now()
		n, err := tx.Exec(ctx, `UPDATE takedowns SET state = $2, country = $3, asn = $4, as_org = $5, cdn = $6, provider = $7,
			routes = $8, route_plan = $9, deadline = $10, traced_at = $11, trace = $12, next_check_at = $13
			WHERE id = $1 AND state = $14`, id, string(r.State), r.Country, int64(r.ASN), r.ASOrg, r.CDN, r.Provider,
			strings.Join(r.Routes, ","), r.Plan, r.Deadline, now, r.Trace, r.FirstRecheck, string(vigil.TakedownTracing))
		if err != nil || n == 0 {
			return err
		}
		if err := db.graphTrace(ctx, tx, id, r); err != nil {
			return err
		}
		queued, err := db.insertOutbound(ctx, tx, id, r.Messages)
		if err != nil {
			return err
		}
		queued = append(queued, jobargs.TakedownJob(jobargs.RecheckArgs{TakedownID: id, Seq: 1}, r.FirstRecheck))
		return tx.InsertJobs(ctx, queued)
	}), "record trace")
}

func (db *DB) insertOutbound(ctx context.Context, tx Tx, takedownID int64, msgs []*vigil.Outbound) ([]river.InsertManyParams, error) {
	var queued []river.InsertManyParams
	now := db.Now()
	for _, m := range msgs {
		err := tx.QueryRow(ctx, `INSERT INTO outbound (takedown_id, key, kind, route_kind, recipient, message_id, raw, state, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (key) DO NOTHING RETURNING id`,
			takedownID, m.Key, m.Kind, m.RouteKind, m.Recipient, m.MessageID, m.Raw, string(vigil.OutboundPending), now).Scan(&m.ID)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return nil, err
		}
		queued = append(queued, jobargs.TakedownJob(jobargs.SendArgs{OutboundID: m.ID}, time.Time{}))
	}
	return queued, nil
}

const outboundColumns = `id, takedown_id, key, kind, route_kind, recipient, message_id, raw, state, attempts, reply, error, created_at, sent_at`

func scanOutbound(row Row) (*vigil.Outbound, error) {
	m := &vigil.Outbound{}
	var state string
	err := row.Scan(&m.ID, &m.TakedownID, &m.Key, &m.Kind, &m.RouteKind, &m.Recipient, &m.MessageID, &m.Raw, &state,
		&m.Attempts, &m.Reply, &m.Error, &m.CreatedAt, &m.SentAt)
	m.State = vigil.OutboundState(state)
	return m, err
}

// ClaimOutbound marks a message "sending", durably, before it is sent, and
// returns it; nil when it must not be sent: sent or failed already, or
// found "sending", which means a crash came between sending and recording
// — it is then marked "uncertain" for a person, never sent again.
func (db *DB) ClaimOutbound(ctx context.Context, id int64) (*vigil.Outbound, error) {
	var out *vigil.Outbound
	err := db.drv.WithTx(ctx, func(tx Tx) error {
		m, err := scanOutbound(tx.QueryRow(ctx, `SELECT `+outboundColumns+` FROM outbound WHERE id = $1`, id))
		if err != nil {
			return notFound(err, "no outbound message %d", id)
		}
		switch m.State {
		case vigil.OutboundPending, vigil.OutboundRetry:
			if _, err := tx.Exec(ctx, `UPDATE outbound SET state = $2, attempts = attempts + 1 WHERE id = $1`,
				id, string(vigil.OutboundSending)); err != nil {
				return err
			}
			m.State, m.Attempts = vigil.OutboundSending, m.Attempts+1
			out = m
		case vigil.OutboundSending:
			if m.Kind == vigil.OutboundReferral {
				// The partner takes a referral once per reference:
				// sending it again delivers it once.
				if _, err := tx.Exec(ctx, `UPDATE outbound SET attempts = attempts + 1 WHERE id = $1`, id); err != nil {
					return err
				}
				m.Attempts++
				out = m
				return nil
			}
			_, err := tx.Exec(ctx, `UPDATE outbound SET state = $2, error = $3 WHERE id = $1`, id,
				string(vigil.OutboundUncertain), "interrupted between sending and recording: check the mail server's log for "+m.MessageID)
			return err
		}
		return nil
	})
	return out, wrap(err, "claim outbound")
}

// RecordOutbound records a send's outcome; a sent notice counts on its
// case.
func (db *DB) RecordOutbound(ctx context.Context, m *vigil.Outbound, state vigil.OutboundState, reply, errText string) error {
	return wrap(db.write(ctx, func(tx Tx) error {
		now := db.Now()
		var sentAt *time.Time
		if state == vigil.OutboundSent {
			sentAt = &now
		}
		n, err := tx.Exec(ctx, `UPDATE outbound SET state = $2, reply = $3, error = $4, sent_at = $5 WHERE id = $1 AND state = $6`,
			m.ID, string(state), reply, errText, sentAt, string(vigil.OutboundSending))
		if err != nil || n == 0 || state != vigil.OutboundSent {
			return err
		}
		// A referred case reports its notices and forwards back.
		switch m.RouteKind {
		case "police":
			if err := db.queueStatusForTakedown(ctx, tx, m.TakedownID, "forwarded", "", "to the police", now); err != nil {
				return err
			}
		case "provider":
			if err := db.queueStatusForTakedown(ctx, tx, m.TakedownID, "notice_sent", "", "", now); err != nil {
				return err
			}
		}
		if m.RouteKind != "provider" {
			return nil
		}
		_, err = tx.Exec(ctx, `UPDATE takedowns SET notices = notices + 1, last_notice_at = $2,
			first_notice_at = COALESCE(first_notice_at, $2) WHERE id = $1`, m.TakedownID, now)
		return err
	}), "record outbound")
}

// ListOutbound returns a case's messages, oldest first (all cases when
// takedownID is 0).
func (db *DB) ListOutbound(ctx context.Context, takedownID int64) ([]*vigil.Outbound, error) {
	rows, err := db.drv.Reader().Query(ctx, `SELECT `+outboundColumns+` FROM outbound
		WHERE $1 = 0 OR takedown_id = $1 ORDER BY id`, takedownID)
	if err != nil {
		return nil, fmt.Errorf("list outbound: %w", err)
	}
	defer rows.Close()
	var out []*vigil.Outbound
	for rows.Next() {
		m, err := scanOutbound(rows)
		if err != nil {
			return nil, fmt.Errorf("list outbound: %w", err)
		}
		out = append(out, m)
	}
	return out, wrap(rows.Err(), "list outbound")
}

// RoutePlan returns a case's routes as decided (JSON).
func (db *DB) RoutePlan(ctx context.Context, id int64) (string, error) {
	var plan string
	err := db.drv.Reader().QueryRow(ctx, `SELECT route_plan FROM takedowns WHERE id = $1`, id).Scan(&plan)
	return plan, wrap(notFound(err, "no takedown %d", id), "route plan")
}

// RecordRecheck stores a recheck. Content gone closes the case as removed;
// content still up queues the messages and the next recheck. A recheck
// recorded once is never recorded again (a job run twice).
func (db *DB) RecordRecheck(ctx context.Context, id int64, r *vigil.Recheck) error {
	return wrap(db.write(ctx, func(tx Tx) error {
		now := db.Now()
		n, err := tx.Exec(ctx, `UPDATE takedowns SET rechecks = $2 WHERE id = $1 AND rechecks = $3 AND state <> $4`,
			id, r.Seq, r.Seq-1, string(vigil.TakedownRemoved))
		if err != nil || n == 0 {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO rechecks (takedown_id, checked_at, up, detail) VALUES ($1, $2, $3, $4)`,
			id, now, r.Up, r.Detail); err != nil {
			return err
		}
		if !r.Up {
			if err := db.queueStatusForTakedown(ctx, tx, id, "removed", "", "", now); err != nil {
				return err
			}
			return markRemoved(ctx, tx, id, now)
		}
		queued, err := db.insertOutbound(ctx, tx, id, r.Messages)
		if err != nil {
			return err
		}
		if r.Escalate {
			if _, err := tx.Exec(ctx, `UPDATE takedowns SET escalated = $2 WHERE id = $1`, id, true); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, `UPDATE takedowns SET next_check_at = $2 WHERE id = $1`, id, r.NextCheck); err != nil {
			return err
		}
		queued = append(queued, jobargs.TakedownJob(jobargs.RecheckArgs{TakedownID: id, Seq: r.Seq + 1}, r.NextCheck))
		return tx.InsertJobs(ctx, queued)
	}), "record recheck")
}

// CaseMedia returns the illegal media seen in a reported URL's crawl.
func (db *DB) CaseMedia(ctx context.Context, urlID int64) ([]vigil.KnownMedia, error) {
	rows, err := db.drv.Reader().Query(ctx, `SELECT m.id, s.url, m.sha256, m.md5, m.pdq, m.classification, s.seen_at, s.fetch_id
		FROM media m JOIN media_sightings s ON s.media_id = m.id
		WHERE s.reported_url_id = $1 AND m.status = 'known' AND m.classification <> 'not-illegal' ORDER BY m.id`, urlID)
	if err != nil {
		return nil, fmt.Errorf("case media: %w", err)
	}
	defer rows.Close()
	var out []vigil.KnownMedia
	for rows.Next() {
		var k vigil.KnownMedia
		if err := rows.Scan(&k.MediaID, &k.URL, &k.SHA256, &k.MD5, &k.PDQ, &k.Classification, &k.SeenAt, &k.FetchID); err != nil {
			return nil, fmt.Errorf("case media: %w", err)
		}
		out = append(out, k)
	}
	return out, wrap(rows.Err(), "case media")
}

// TakedownStats gathers the takedown figures.
func (db *DB) TakedownStats(ctx context.Context) (vigil.TakedownStats, error) {
	var s vigil.TakedownStats
	q := db.drv.Reader()
	if err := q.QueryRow(ctx, `SELECT
		(SELECT count(*) FROM outbound WHERE state = 'sent' AND kind IN ('notice', 'renotice', 'escalation')),
		(SELECT count(*) FROM takedowns WHERE state = 'removed')`).Scan(&s.NoticesSent, &s.URLsRemoved); err != nil {
		return s, fmt.Errorf("takedown stats: %w", err)
	}
	rows, err := q.Query(ctx, `SELECT first_seen_at, first_notice_at, removed_at, routes, country, provider
		FROM takedowns WHERE state = 'removed'`)
	if err != nil {
		return s, fmt.Errorf("takedown stats: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var seen, removed time.Time
		var notice *time.Time
		var routes string
		var t vigil.TimeToRemoval
		if err := rows.Scan(&seen, &notice, &removed, &routes, &t.Country, &t.Provider); err != nil {
			return s, fmt.Errorf("takedown stats: %w", err)
		}
		t.FromFirstSeen = removed.Sub(seen)
		if notice != nil {
			t.FromFirstNotice = removed.Sub(*notice)
		}
		if routes != "" {
			t.Routes = strings.Split(routes, ",")
		}
		s.TimesToRemoval = append(s.TimesToRemoval, t)
	}
	return s, wrap(rows.Err(), "takedown stats")
}

// markRemoved closes a case as removed. The times to removal are kept in
// seconds beside the timestamps, so that the statistics rank and bucket
// them in SQL that both databases accept.
func markRemoved(ctx context.Context, tx Tx, id int64, now time.Time) error {
	var seen time.Time
	var notice *time.Time
	if err := tx.QueryRow(ctx, `SELECT first_seen_at, first_notice_at FROM takedowns WHERE id = $1`, id).
		Scan(&seen, &notice); err != nil {
		return err
	}
	var fromNotice *int64
	if notice != nil {
		s := int64(now.Sub(*notice) / time.Second)
		fromNotice = &s
	}
	_, err := tx.Exec(ctx, `UPDATE takedowns SET state = $2, removed_at = $3, next_check_at = NULL,
		removal_seconds = $4, notice_removal_seconds = $5 WHERE id = $1`,
		id, string(vigil.TakedownRemoved), now, int64(now.Sub(seen)/time.Second), fromNotice)
	return err
}
