package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/vigil-hotline/vigil"
)

var _ vigil.RetentionService = (*DB)(nil)

// The conditions below are each kind's rule in SQL. A case (reported URL)
// has illegal content when it has a takedown, or when media seen on it are
// classified as anything but not illegal; it is closed when its takedown
// ended with the content removed. "held" is a legal hold on the case.
const (
	heldURL = `EXISTS (SELECT 1 FROM legal_holds h WHERE h.reported_url_id = %s)`

	// A report with no illegal content, closed, received before $1.
	reportGoes = `r.received_at < $1
	AND NOT EXISTS (SELECT 1 FROM report_urls ru JOIN reported_urls u ON u.id = ru.url_id
		WHERE ru.report_id = r.id AND u.status NOT IN ('done', 'failed'))
	AND NOT EXISTS (SELECT 1 FROM report_urls ru JOIN takedowns t ON t.reported_url_id = ru.url_id WHERE ru.report_id = r.id)
	AND NOT EXISTS (SELECT 1 FROM report_urls ru JOIN media_sightings s ON s.reported_url_id = ru.url_id
		JOIN media m ON m.id = s.media_id
		WHERE ru.report_id = r.id AND (m.status IN ('pending', 'unknown') OR (m.classification <> '' AND m.classification <> 'not-illegal')))`
	reportHeld = `EXISTS (SELECT 1 FROM report_urls ru JOIN legal_holds h ON h.reported_url_id = ru.url_id WHERE ru.report_id = r.id)`

	contactGoes = `r.contact IS NOT NULL AND r.received_at < $1`

	// Media not illegal, first seen before $1, bytes still kept.
	mediaNotIllegalGoes = `m.purged_at IS NULL AND m.blob_key <> '' AND m.classification = 'not-illegal' AND m.first_seen_at < $1`
	// Media whose every case ended with the content removed before $1.
	mediaClosedGoes = `m.purged_at IS NULL AND m.blob_key <> ''
	AND EXISTS (SELECT 1 FROM media_sightings s WHERE s.media_id = m.id)
	AND NOT EXISTS (SELECT 1 FROM media_sightings s LEFT JOIN takedowns t ON t.reported_url_id = s.reported_url_id
		WHERE s.media_id = m.id AND (t.id IS NULL OR t.state <> 'removed' OR t.removed_at IS NULL OR t.removed_at >= $1))`
	mediaHeld = `EXISTS (SELECT 1 FROM media_sightings s JOIN legal_holds h ON h.reported_url_id = s.reported_url_id WHERE s.media_id = m.id)`

	// Evidence of fetches before $1, of cases without a takedown or whose
	// takedown ended before $1.
	fetchGoes = `(f.connected <> '' OR f.evidence <> '{}') AND f.started_at < $1
	AND NOT EXISTS (SELECT 1 FROM takedowns t WHERE t.reported_url_id = f.reported_url_id
		AND (t.state <> 'removed' OR t.removed_at IS NULL OR t.removed_at >= $1))
	AND NOT EXISTS (SELECT 1 FROM media_sightings s JOIN media m ON m.id = s.media_id
		WHERE s.reported_url_id = f.reported_url_id AND m.classification <> '' AND m.classification <> 'not-illegal'
		AND NOT EXISTS (SELECT 1 FROM takedowns t WHERE t.reported_url_id = f.reported_url_id))`

	// Rechecks before $1 of takedowns that ended.
	recheckGoes = `c.checked_at < $1 AND EXISTS (SELECT 1 FROM takedowns t WHERE t.id = c.takedown_id AND t.state = 'removed')`
	recheckHeld = `EXISTS (SELECT 1 FROM takedowns t JOIN legal_holds h ON h.reported_url_id = t.reported_url_id WHERE t.id = c.takedown_id)`
)

type purgeQuery struct {
	kind vigil.RetentionKind
	from string // table and alias
	goes string
	held string // "" when no case can hold it
	// apply is the statement for the listed IDs: %[1]s is their
	// placeholders, %[2]s the time of the purge.
	apply string
}

var purgeQueries = []purgeQuery{
	// The report's links to its URLs go with it; the reported URLs stay,
	// as the case record of what was found there.
	{vigil.RetainReports, `reports r`, reportGoes, reportHeld,
		`DELETE FROM report_urls WHERE report_id IN (%[1]s); DELETE FROM reports WHERE id IN (%[1]s)`},
	{vigil.RetainContacts, `reports r`, contactGoes, reportHeld,
		`UPDATE reports SET contact = NULL WHERE id IN (%[1]s)`},
	{vigil.RetainMediaNotIllegal, `media m`, mediaNotIllegalGoes, mediaHeld,
		`UPDATE media SET purged_at = %[2]s, queued_at = NULL, claimed_by = NULL WHERE purged_at IS NULL AND id IN (%[1]s)`},
	{vigil.RetainMediaClosed, `media m`, mediaClosedGoes, mediaHeld,
		`UPDATE media SET purged_at = %[2]s, queued_at = NULL, claimed_by = NULL WHERE purged_at IS NULL AND id IN (%[1]s)`},
	{vigil.RetainFetchEvidence, `fetches f`, fetchGoes, fmt.Sprintf(heldURL, "f.reported_url_id"),
		`UPDATE fetches SET evidence = '{}', connected = '' WHERE id IN (%[1]s)`},
	{vigil.RetainLogs, `rechecks c`, recheckGoes, recheckHeld, `DELETE FROM rechecks WHERE id IN (%[1]s)`},
}

// PlanPurge lists what the policy removes at now.
func (db *DB) PlanPurge(ctx context.Context, policy vigil.RetentionPolicy, now time.Time, limit int) (*vigil.PurgePlan, error) {
	if limit <= 0 {
		limit = 10000
	}
	now = now.UTC()
	plan := &vigil.PurgePlan{Now: now, Policy: policy, IDs: map[vigil.RetentionKind][]int64{}, Counts: map[vigil.RetentionKind]int{}}
	q := db.drv.Reader()
	for _, pq := range purgeQueries {
		cutoff, ok := policy.Cutoff(pq.kind, now)
		if !ok {
			continue
		}
		alias := pq.from[strings.LastIndex(pq.from, " ")+1:]
		ids, err := queryIDs(ctx, q, fmt.Sprintf(`SELECT %s.id FROM %s WHERE %s AND NOT %s ORDER BY %s.id LIMIT $2`,
			alias, pq.from, pq.goes, pq.held, alias), cutoff, limit)
		if err != nil {
			return nil, fmt.Errorf("plan purge of %s: %w", pq.kind, err)
		}
		plan.IDs[pq.kind], plan.Counts[pq.kind] = ids, len(ids)
		// Which held cases were spared, for the operator to know.
		heldIDs, err := queryIDs(ctx, q, fmt.Sprintf(`SELECT %s.id FROM %s WHERE %s AND %s ORDER BY %s.id LIMIT $2`,
			alias, pq.from, pq.goes, pq.held, alias), cutoff, limit)
		if err != nil {
			return nil, fmt.Errorf("plan purge of %s: %w", pq.kind, err)
		}
		plan.Held += len(heldIDs)
	}
	if cutoff, ok := policy.Cutoff(vigil.RetainLogs, now); ok {
		var n int
		if err := q.QueryRow(ctx, `SELECT count(*) FROM sessions WHERE expires_at < $1`, cutoff).Scan(&n); err != nil {
			return nil, fmt.Errorf("plan purge of sessions: %w", err)
		}
		plan.Counts[vigil.RetainLogs] += n
	}
	if cutoff, ok := policy.Cutoff(vigil.RetainExposure, now); ok {
		var n int
		if err := q.QueryRow(ctx, `SELECT count(*) FROM exposure WHERE day < $1`, cutoff.Format(time.DateOnly)).Scan(&n); err != nil {
			return nil, fmt.Errorf("plan purge of exposure: %w", err)
		}
		plan.Counts[vigil.RetainExposure] = n
	}
	return plan, nil
}

// ApplyPurge removes what plan lists, in one transaction. Each listed row
// is removed only if its rule and the holds still allow it now: a hold set
// since the plan was made wins.
func (db *DB) ApplyPurge(ctx context.Context, plan *vigil.PurgePlan) (map[vigil.RetentionKind]int, error) {
	done := map[vigil.RetentionKind]int{}
	err := db.drv.WithTx(ctx, func(tx Tx) error {
		clear(done)
		for _, pq := range purgeQueries {
			ids := plan.IDs[pq.kind]
			cutoff, ok := plan.Policy.Cutoff(pq.kind, plan.Now)
			if !ok || len(ids) == 0 {
				continue
			}
			alias := pq.from[strings.LastIndex(pq.from, " ")+1:]
			args := []any{cutoff}
			ph := make([]string, len(ids))
			for i, id := range ids {
				args = append(args, id)
				ph[i] = fmt.Sprintf("$%d", i+2)
			}
			// Recheck the rule and the holds in the same transaction.
			still, err := queryIDs(ctx, tx, fmt.Sprintf(`SELECT %s.id FROM %s WHERE %s.id IN (%s) AND %s AND NOT %s`,
				alias, pq.from, alias, strings.Join(ph, ", "), pq.goes, pq.held), args...)
			if err != nil {
				return fmt.Errorf("purge %s: %w", pq.kind, err)
			}
			if len(still) == 0 {
				continue
			}
			args = args[:0]
			ph = ph[:len(still)]
			for i, id := range still {
				args = append(args, id)
				ph[i] = fmt.Sprintf("$%d", i+1)
			}
			nowArg := fmt.Sprintf("$%d", len(still)+1)
			for _, stmt := range strings.Split(pq.apply, "; ") {
				a := args
				if strings.Contains(stmt, "%[2]s") {
					a = append(a[:len(a):len(a)], plan.Now)
				}
				n, err := tx.Exec(ctx, fmt.Sprintf(stmt, strings.Join(ph, ", "), nowArg), a...)
				if err != nil {
					return fmt.Errorf("purge %s: %w", pq.kind, err)
				}
				done[pq.kind] = int(n) // the last statement's rows: the reports themselves
			}
		}
		if cutoff, ok := plan.Policy.Cutoff(vigil.RetainLogs, plan.Now); ok {
			n, err := tx.Exec(ctx, `DELETE FROM sessions WHERE expires_at < $1`, cutoff)
			if err != nil {
				return fmt.Errorf("purge sessions: %w", err)
			}
			done[vigil.RetainLogs] += int(n)
		}
		if cutoff, ok := plan.Policy.Cutoff(vigil.RetainExposure, plan.Now); ok {
			n, err := tx.Exec(ctx, `DELETE FROM exposure WHERE day < $1`, cutoff.Format(time.DateOnly))
			if err != nil {
				return fmt.Errorf("purge exposure: %w", err)
			}
			done[vigil.RetainExposure] = int(n)
		}
		return nil
	})
	return done, wrap(err, "apply purge")
}

// PendingBlobPurges lists purged media whose bytes are still stored.
func (db *DB) PendingBlobPurges(ctx context.Context, limit int) ([]vigil.PurgedBlob, error) {
	if limit <= 0 {
		limit = 1000
	}
	rows, err := db.drv.Reader().Query(ctx, `SELECT id, blob_key FROM media WHERE purged_at IS NOT NULL AND blob_key <> ''
		ORDER BY id LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("pending blob purges: %w", err)
	}
	defer rows.Close()
	var out []vigil.PurgedBlob
	for rows.Next() {
		var b vigil.PurgedBlob
		if err := rows.Scan(&b.MediaID, &b.BlobKey); err != nil {
			return nil, fmt.Errorf("pending blob purges: %w", err)
		}
		out = append(out, b)
	}
	return out, wrap(rows.Err(), "pending blob purges")
}

// BlobPurged forgets a purged media item's blob once it is deleted.
func (db *DB) BlobPurged(ctx context.Context, mediaID int64) error {
	return wrap(db.drv.WithTx(ctx, func(tx Tx) error {
		n, err := tx.Exec(ctx, `UPDATE media SET blob_key = '' WHERE id = $1 AND purged_at IS NOT NULL`, mediaID)
		if err == nil && n == 0 {
			return vigil.Errorf(vigil.ENOTFOUND, "no purged media item %d", mediaID)
		}
		return err
	}), "blob purged")
}

// SetLegalHold puts a case on hold (or changes the reason of its hold).
func (db *DB) SetLegalHold(ctx context.Context, h *vigil.LegalHold) error {
	h.Reason = strings.TrimSpace(h.Reason)
	if h.Reason == "" || len(h.Reason) > vigil.MaxHoldReasonLength {
		return vigil.Errorf(vigil.EINVALID, "a legal hold needs a reason of at most %d characters", vigil.MaxHoldReasonLength)
	}
	if h.SetAt.IsZero() {
		h.SetAt = db.Now()
	}
	h.SetAt = h.SetAt.UTC().Truncate(time.Microsecond)
	if _, err := db.FindReportedURL(ctx, h.CaseID); err != nil {
		return err
	}
	return wrap(db.drv.WithTx(ctx, func(tx Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO legal_holds (reported_url_id, reason, set_by, set_by_name, set_at)
			VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (reported_url_id) DO UPDATE SET reason = excluded.reason, set_by = excluded.set_by,
				set_by_name = excluded.set_by_name, set_at = excluded.set_at`,
			h.CaseID, h.Reason, h.SetBy, h.SetByName, h.SetAt)
		return err
	}), "set legal hold")
}

// LiftLegalHold lifts a case's hold.
func (db *DB) LiftLegalHold(ctx context.Context, caseID int64) error {
	return wrap(db.drv.WithTx(ctx, func(tx Tx) error {
		n, err := tx.Exec(ctx, `DELETE FROM legal_holds WHERE reported_url_id = $1`, caseID)
		if err == nil && n == 0 {
			return vigil.Errorf(vigil.ENOTFOUND, "case %d is not on legal hold", caseID)
		}
		return err
	}), "lift legal hold")
}

const holdColumns = `reported_url_id, reason, set_by, set_by_name, set_at`

func scanHold(row Row) (*vigil.LegalHold, error) {
	h := &vigil.LegalHold{}
	return h, row.Scan(&h.CaseID, &h.Reason, &h.SetBy, &h.SetByName, &h.SetAt)
}

// FindLegalHold returns a case's hold; not found when it has none.
func (db *DB) FindLegalHold(ctx context.Context, caseID int64) (*vigil.LegalHold, error) {
	h, err := scanHold(db.drv.Reader().QueryRow(ctx, `SELECT `+holdColumns+` FROM legal_holds WHERE reported_url_id = $1`, caseID))
	if err != nil {
		return nil, notFound(err, "case %d is not on legal hold", caseID)
	}
	return h, nil
}

// ListLegalHolds lists every hold, oldest first.
func (db *DB) ListLegalHolds(ctx context.Context) ([]*vigil.LegalHold, error) {
	rows, err := db.drv.Reader().Query(ctx, `SELECT `+holdColumns+` FROM legal_holds ORDER BY set_at, reported_url_id`)
	if err != nil {
		return nil, fmt.Errorf("list legal holds: %w", err)
	}
	defer rows.Close()
	var out []*vigil.LegalHold
	for rows.Next() {
		h, err := scanHold(rows)
		if err != nil {
			return nil, fmt.Errorf("list legal holds: %w", err)
		}
		out = append(out, h)
	}
	return out, wrap(rows.Err(), "list legal holds")
}
