package store

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/pdq"
)

var _ vigil.WorkbenchService = (*DB)(nil)

// The queue is the media that matched no bank (status unknown, queued_at
// set) and that no decisive assessment took out. Its priority:
//
//  1. new material first: media seen in one case only before media the
//     crawler met again in other cases (new material may mean a child
//     being abused now);
//  2. then the oldest report first (the first report of the case the item
//     was seen in first);
//  3. then grouped by case (reported URL) and page, in the order the
//     crawler found them, so that an analyst sees a page's items together.
//
// An analyst is never offered an item they assessed before (a request for
// a second opinion goes to someone else).
const queueFree = `m.queued_at IS NOT NULL AND m.status = 'unknown'
	AND (m.claimed_by IS NULL OR m.claim_expires_at < $1)
	AND NOT EXISTS (SELECT 1 FROM assessments a WHERE a.media_id = m.id AND a.analyst_id = $2)`

const queueOrder = `ORDER BY
	CASE WHEN (SELECT count(DISTINCT s.reported_url_id) FROM media_sightings s WHERE s.media_id = m.id) > 1 THEN 1 ELSE 0 END,
	(SELECT min(u.first_reported_at) FROM media_sightings s JOIN reported_urls u ON u.id = s.reported_url_id WHERE s.media_id = m.id),
	(SELECT min(s.reported_url_id) FROM media_sightings s WHERE s.media_id = m.id),
	(SELECT min(COALESCE(s.page_fetch_id, s.fetch_id)) FROM media_sightings s WHERE s.media_id = m.id),
	m.id`

// extraRow scans a row whose leading columns another scanner reads.
type extraRow struct {
	Row
	extra []any
}

func (r extraRow) Scan(dest ...any) error { return r.Row.Scan(append(dest, r.extra...)...) }

// ClaimQueue renews the analyst's claims and tops them up to n in queue
// order. On PostgreSQL the candidates are locked with SKIP LOCKED, so that
// concurrent analysts take different rows without waiting; SQLite has one
// writer, so the UPDATE's own WHERE is the claim.
func (db *DB) ClaimQueue(ctx context.Context, userID int64, n int, ttl time.Duration) ([]*vigil.QueueItem, error) {
	if n <= 0 || n > 200 {
		return nil, vigil.Errorf(vigil.EINVALID, "claim between 1 and 200 items")
	}
	err := db.drv.WithTx(ctx, func(tx Tx) error {
		now := db.Now()
		until := now.Add(ttl)
		held, err := tx.Exec(ctx, `UPDATE media SET claim_expires_at = $2 WHERE claimed_by = $1 AND queued_at IS NOT NULL
			AND status = 'unknown'`, userID, until)
		if err != nil {
			return err
		}
		need := n - int(held)
		if need <= 0 {
			return nil
		}
		q := `WITH picked AS (SELECT m.id FROM media m WHERE ` + queueFree + ` ` + queueOrder +
			` LIMIT $3` + db.drv.SkipLocked("m") + `)
			UPDATE media SET claimed_by = $2, claim_expires_at = $4 FROM picked WHERE media.id = picked.id`
		_, err = tx.Exec(ctx, q, now, userID, need, until)
		return err
	})
	if err != nil {
		return nil, wrap(err, "claim queue")
	}
	return db.queueItems(ctx, `m.claimed_by = $1 AND m.queued_at IS NOT NULL AND m.status = 'unknown'`, userID)
}

// ReleaseClaims gives back every claim of an analyst.
func (db *DB) ReleaseClaims(ctx context.Context, userID int64) error {
	return wrap(db.drv.WithTx(ctx, func(tx Tx) error {
		_, err := tx.Exec(ctx, `UPDATE media SET claimed_by = NULL, claim_expires_at = NULL WHERE claimed_by = $1`, userID)
		return err
	}), "release claims")
}

// queueItems loads the media matching where (over media m) with their case
// and page, in queue order.
func (db *DB) queueItems(ctx context.Context, where string, args ...any) ([]*vigil.QueueItem, error) {
	rows, err := db.drv.Reader().Query(ctx, `SELECT `+mediaColumns+`, claimed_by, claim_expires_at FROM media m WHERE `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("queue: %w", err)
	}
	var items []*vigil.QueueItem
	for rows.Next() {
		it := &vigil.QueueItem{}
		var by *int64
		m, err := scanMedia(extraRow{rows, []any{&by, &it.ClaimExpiresAt}})
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("queue: %w", err)
		}
		it.Media = m
		if by != nil {
			it.ClaimedBy = *by
		}
		items = append(items, it)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("queue: %w", err)
	}
	pageFetch := map[int64]int64{}
	for _, it := range items {
		pf, err := db.placeItem(ctx, it)
		if err != nil {
			return nil, err
		}
		pageFetch[it.Media.ID] = pf
	}
	slices.SortFunc(items, func(a, b *vigil.QueueItem) int {
		return cmp.Or(cmp.Compare(min(a.Sightings, 2), min(b.Sightings, 2)), a.FirstReported.Compare(b.FirstReported),
			cmp.Compare(a.CaseID, b.CaseID), cmp.Compare(pageFetch[a.Media.ID], pageFetch[b.Media.ID]),
			cmp.Compare(a.Media.ID, b.Media.ID))
	})
	return items, nil
}

// placeItem fills in an item's case, page and sightings: the case is the
// reported URL it was seen in first. It returns the page's fetch, for
// ordering.
func (db *DB) placeItem(ctx context.Context, it *vigil.QueueItem) (int64, error) {
	r := db.drv.Reader()
	if err := r.QueryRow(ctx, `SELECT count(DISTINCT reported_url_id), min(reported_url_id) FROM media_sightings
		WHERE media_id = $1`, it.Media.ID).Scan(&it.Sightings, &it.CaseID); err != nil {
		return 0, fmt.Errorf("queue: sightings: %w", err)
	}
	var pageFetch int64
	err := r.QueryRow(ctx, `SELECT u.url, u.first_reported_at, s.url, COALESCE(f.final_url, ''), COALESCE(s.page_fetch_id, s.fetch_id)
		FROM media_sightings s JOIN reported_urls u ON u.id = s.reported_url_id LEFT JOIN fetches f ON f.id = s.page_fetch_id
		WHERE s.media_id = $1 AND s.reported_url_id = $2 ORDER BY s.seen_at, s.url LIMIT 1`, it.Media.ID, it.CaseID).
		Scan(&it.CaseURL, &it.FirstReported, &it.MediaURL, &it.PageURL, &pageFetch)
	if err != nil {
		return 0, fmt.Errorf("queue: case: %w", err)
	}
	if it.PageURL == "" {
		it.PageURL = it.MediaURL
	}
	return pageFetch, nil
}

// QueueStats counts the queue, its claims and what awaits confirmation.
func (db *DB) QueueStats(ctx context.Context) (vigil.QueueStats, error) {
	var s vigil.QueueStats
	err := db.drv.Reader().QueryRow(ctx, `SELECT
		(SELECT count(*) FROM media WHERE queued_at IS NOT NULL AND status = 'unknown'),
		(SELECT count(*) FROM media WHERE queued_at IS NOT NULL AND status = 'unknown' AND claim_expires_at > $1),
		(SELECT count(*) FROM assessments WHERE state = 'pending')`, db.Now()).Scan(&s.Queued, &s.Claimed, &s.Pending)
	return s, wrap(err, "queue stats")
}

// NearDuplicates compares the item's PDQ hashes with those of the queue.
// The queue is bounded by what analysts can get through, so a scan is
// enough; the match index serves the banks.
func (db *DB) NearDuplicates(ctx context.Context, mediaID, userID int64, threshold, limit int) ([]*vigil.QueueItem, error) {
	m, err := db.FindMedia(ctx, mediaID)
	if err != nil {
		return nil, err
	}
	var hashes []pdq.Hash
	for _, s := range append([]string{m.PDQ}, m.Dihedral...) {
		if h, err := pdq.ParseHex(s); err == nil && s != "" {
			hashes = append(hashes, h)
		}
	}
	if len(hashes) == 0 {
		return nil, nil
	}
	rows, err := db.drv.Reader().Query(ctx, `SELECT id, pdq FROM media m WHERE queued_at IS NOT NULL AND status = 'unknown'
		AND pdq <> '' AND id <> $3 AND (claimed_by IS NULL OR claimed_by = $2 OR claim_expires_at < $1)`, db.Now(), userID, mediaID)
	if err != nil {
		return nil, fmt.Errorf("near duplicates: %w", err)
	}
	dist := map[int64]int{}
	var ids []int64
	for rows.Next() {
		var id int64
		var s string
		if err := rows.Scan(&id, &s); err != nil {
			rows.Close()
			return nil, fmt.Errorf("near duplicates: %w", err)
		}
		h, err := pdq.ParseHex(s)
		if err != nil {
			continue
		}
		best := pdq.Distance(hashes[0], h)
		for _, q := range hashes[1:] {
			best = min(best, pdq.Distance(q, h))
		}
		if best <= threshold {
			dist[id] = best
			ids = append(ids, id)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("near duplicates: %w", err)
	}
	slices.SortFunc(ids, func(a, b int64) int { return cmp.Or(cmp.Compare(dist[a], dist[b]), cmp.Compare(a, b)) })
	var out []*vigil.QueueItem
	for _, id := range ids[:min(len(ids), limit)] {
		items, err := db.queueItems(ctx, `m.id = $1`, id)
		if err != nil {
			return nil, err
		}
		for _, it := range items {
			it.Distance = dist[id]
			out = append(out, it)
		}
	}
	return out, nil
}

const assessmentColumns = `a.id, a.media_id, a.verdict, a.age_group, a.severity, a.self_generated, a.ai_generated, a.victim_id,
	a.note, a.analyst_id, ua.name, a.assessed_at, COALESCE(a.applied_from, 0), a.state, COALESCE(a.confirmer_id, 0),
	COALESCE(uc.name, ''), a.confirmed_at, a.confirm_note`

const assessmentFrom = ` FROM assessments a JOIN users ua ON ua.id = a.analyst_id LEFT JOIN users uc ON uc.id = a.confirmer_id`

func scanAssessment(row Row) (*vigil.Assessment, error) {
	a := &vigil.Assessment{}
	var verdict, age, state string
	err := row.Scan(&a.ID, &a.MediaID, &verdict, &age, &a.Severity, &a.SelfGenerated, &a.AIGenerated, &a.VictimID,
		&a.Note, &a.AnalystID, &a.Analyst, &a.At, &a.AppliedFrom, &state, &a.ConfirmerID, &a.Confirmer, &a.ConfirmedAt,
		&a.ConfirmNote)
	a.Verdict, a.AgeGroup, a.State = vigil.Verdict(verdict), vigil.AgeGroup(age), vigil.AssessmentState(state)
	return a, err
}

// Assess records an assessment and takes the item out of the queue (a
// decisive verdict) or gives it back for another analyst (a second
// opinion), in one transaction: the claim check and the decision cannot
// be split by another analyst.
func (db *DB) Assess(ctx context.Context, a *vigil.Assessment) error {
	if err := a.Validate(nil); err != nil {
		return err
	}
	a.State = vigil.AssessmentPending
	if !a.Verdict.Decisive() {
		a.State = vigil.AssessmentOpinion
	}
	return wrap(db.drv.WithTx(ctx, func(tx Tx) error {
		now := db.Now()
		a.At = now
		q := `UPDATE media SET queued_at = NULL, claimed_by = NULL, claim_expires_at = NULL`
		if !a.Verdict.Decisive() {
			q = `UPDATE media SET claimed_by = NULL, claim_expires_at = NULL`
		}
		n, err := tx.Exec(ctx, q+` WHERE id = $1 AND queued_at IS NOT NULL AND status = 'unknown'
			AND (claimed_by IS NULL OR claimed_by = $2 OR claim_expires_at < $3)`, a.MediaID, a.AnalystID, now)
		if err != nil {
			return err
		}
		if n == 0 {
			return vigil.Errorf(vigil.ECONFLICT, "media item %d is not in the queue, or another analyst holds it", a.MediaID)
		}
		return tx.QueryRow(ctx, `INSERT INTO assessments (media_id, verdict, age_group, severity, self_generated, ai_generated,
			victim_id, note, analyst_id, assessed_at, applied_from, state)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id`,
			a.MediaID, string(a.Verdict), string(a.AgeGroup), a.Severity, a.SelfGenerated, a.AIGenerated, a.VictimID,
			a.Note, a.AnalystID, now, nullID(a.AppliedFrom), string(a.State)).Scan(&a.ID)
	}), "assess")
}

// FindAssessment returns one assessment.
func (db *DB) FindAssessment(ctx context.Context, id int64) (*vigil.Assessment, error) {
	a, err := scanAssessment(db.drv.Reader().QueryRow(ctx, `SELECT `+assessmentColumns+assessmentFrom+` WHERE a.id = $1`, id))
	if err != nil {
		return nil, wrap(notFound(err, "no assessment %d", id), "find assessment")
	}
	return a, nil
}

func (db *DB) listAssessments(ctx context.Context, q string, args ...any) ([]*vigil.Assessment, error) {
	rows, err := db.drv.Reader().Query(ctx, `SELECT `+assessmentColumns+assessmentFrom+` `+q, args...)
	if err != nil {
		return nil, fmt.Errorf("list assessments: %w", err)
	}
	defer rows.Close()
	var out []*vigil.Assessment
	for rows.Next() {
		a, err := scanAssessment(rows)
		if err != nil {
			return nil, fmt.Errorf("list assessments: %w", err)
		}
		out = append(out, a)
	}
	return out, wrap(rows.Err(), "list assessments")
}

// ListAssessments returns a media item's assessments, oldest first.
func (db *DB) ListAssessments(ctx context.Context, mediaID int64) ([]*vigil.Assessment, error) {
	return db.listAssessments(ctx, `WHERE a.media_id = $1 ORDER BY a.id`, mediaID)
}

// PendingAssessments lists what waits for a second pair of eyes.
func (db *DB) PendingAssessments(ctx context.Context, limit int) ([]*vigil.Assessment, error) {
	return db.listAssessments(ctx, `WHERE a.state = 'pending' ORDER BY a.id LIMIT $1`, limit)
}

// ConfirmAssessment closes the four-eyes step and, on confirmation, learns
// the verdict in the same transaction (see learn).
func (db *DB) ConfirmAssessment(ctx context.Context, id, confirmerID int64, confirm bool, note string) (*vigil.Assessment, error) {
	if len(note) > vigil.MaxAssessmentNoteLength {
		return nil, vigil.Errorf(vigil.EINVALID, "the note must be at most %d bytes", vigil.MaxAssessmentNoteLength)
	}
	state := vigil.AssessmentRejected
	if confirm {
		state = vigil.AssessmentConfirmed
	}
	var a *vigil.Assessment
	err := db.drv.WithTx(ctx, func(tx Tx) error {
		now := db.Now()
		n, err := tx.Exec(ctx, `UPDATE assessments SET state = $2, confirmer_id = $3, confirmed_at = $4, confirm_note = $5
			WHERE id = $1 AND state = 'pending' AND analyst_id <> $3`, id, string(state), confirmerID, now, note)
		if err != nil {
			return err
		}
		a, err = scanAssessment(tx.QueryRow(ctx, `SELECT `+assessmentColumns+assessmentFrom+` WHERE a.id = $1`, id))
		if err != nil {
			return notFound(err, "no assessment %d", id)
		}
		switch {
		case n == 0 && a.AnalystID == confirmerID:
			return vigil.Errorf(vigil.EFORBIDDEN, "an assessment is confirmed by someone other than its analyst")
		case n == 0:
			return vigil.Errorf(vigil.ECONFLICT, "assessment %d is %s, not pending", id, a.State)
		}
		if !confirm {
			// Back to the queue, for another analyst.
			_, err := tx.Exec(ctx, `UPDATE media SET queued_at = $2 WHERE id = $1 AND status = 'unknown'`, a.MediaID, now)
			return err
		}
		if err := db.learn(ctx, tx, a, now); err != nil {
			return err
		}
		if !vigil.OpensTakedown(a) {
			return nil
		}
		// The cases that showed the item start on the takedown path.
		return db.openTakedownsForMedia(ctx, tx, a.MediaID, a.BankClassification())
	})
	if err != nil {
		return nil, wrap(err, "confirm assessment")
	}
	return a, nil
}

// learn puts a confirmed item's SHA-256, MD5 and PDQ into the hotline's
// bank (illegal) or the not-illegal bank, creating the bank if needed, and
// makes the item known with its matches, so that the case view says which
// bank knows it. The change feed carries the entries to every matcher, so
// the crawler recognises the picture from then on. It runs in the
// confirmation's transaction: a confirmed verdict is never left unlearnt.
func (db *DB) learn(ctx context.Context, tx Tx, a *vigil.Assessment, now time.Time) error {
	m, err := scanMedia(tx.QueryRow(ctx, `SELECT `+mediaColumns+` FROM media WHERE id = $1`, a.MediaID))
	if err != nil {
		return err
	}
	name, threshold := vigil.HotlineBank, vigil.DefaultPDQThreshold
	if !a.Verdict.Illegal() {
		name, threshold = vigil.NotIllegalBank, vigil.NotIllegalPDQThreshold
	}
	if err := db.lockBankChanges(ctx, tx); err != nil {
		return err
	}
	var bankID int64
	err = tx.QueryRow(ctx, `SELECT id FROM banks WHERE name = $1`, name).Scan(&bankID)
	if errors.Is(err, sql.ErrNoRows) {
		err = tx.QueryRow(ctx, `INSERT INTO banks (name, source, terms, kind, enabled, pdq_threshold, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`, name, string(vigil.SourceHotline),
			"Learnt from the hotline's own confirmed assessments.", string(vigil.BankBlock), true, threshold, now).Scan(&bankID)
		if err == nil {
			err = db.bankChanged(ctx, tx, bankID)
		}
	}
	if err != nil {
		return err
	}
	class := a.BankClassification()
	from := "analyst:" + a.Analyst
	note := fmt.Sprintf("assessment %d, confirmed by %s", a.ID, a.Confirmer)
	var entries []*vigil.BankEntry
	for _, s := range []struct {
		sig vigil.SignalType
		v   string
	}{{vigil.SignalSHA256, m.SHA256}, {vigil.SignalMD5, m.MD5}, {vigil.SignalPDQ, m.PDQ}} {
		if s.v == "" {
			continue
		}
		e := &vigil.BankEntry{Signal: s.sig, Value: s.v, Classification: class, AddedAt: now, AddedFrom: from, Note: note}
		if err := e.Validate(nil); err != nil {
			return err
		}
		entries = append(entries, e)
	}
	// A video's vPDQ hash is learnt too: re-encoded copies and clips of it
	// are then known.
	if frames, err := db.mediaVideoFrames(ctx, tx, m.ID); err != nil {
		return err
	} else if len(frames) > 0 {
		e := &vigil.BankEntry{Signal: vigil.SignalVPDQ, Frames: frames, Classification: class, AddedAt: now, AddedFrom: from, Note: note}
		if err := e.Validate(nil); err != nil {
			return err
		}
		entries = append(entries, e)
	}
	raw := make([][]byte, len(entries))
	for i, e := range entries {
		raw[i], _ = hex.DecodeString(e.Value) // valid: Validate normalised it
	}
	ids := map[vigil.SignalType]int64{}
	var first, last int64
	if err := db.insertEntries(ctx, tx, bankID, entries, raw, func(id int64, signal string, _ []byte) {
		ids[vigil.SignalType(signal)] = id
		if first == 0 || id < first {
			first = id
		}
		last = max(last, id)
	}); err != nil {
		return err
	}
	for _, e := range entries {
		e.ID = ids[e.Signal]
	}
	if err := db.insertVideoFrames(ctx, tx, entries); err != nil {
		return err
	}
	if first != 0 {
		if _, err := tx.Exec(ctx, `INSERT INTO bank_changes (op, bank_id, first_entry_id, last_entry_id, changed_at)
			VALUES ($1, $2, $3, $4, $5)`, string(vigil.ChangeAdd), bankID, first, last, now); err != nil {
			return err
		}
	}
	if _, err := tx.Exec(ctx, `UPDATE media SET status = $2, classification = $3, queued_at = NULL, claimed_by = NULL,
		claim_expires_at = NULL, matched_at = COALESCE(matched_at, $4) WHERE id = $1`,
		m.ID, string(vigil.MediaKnown), class, now); err != nil {
		return err
	}
	for i, e := range entries {
		id, ok := ids[e.Signal]
		if !ok {
			// Known to the bank already (an earlier decision).
			if err := tx.QueryRow(ctx, `SELECT id FROM bank_entries WHERE bank_id = $1 AND signal = $2 AND value = $3`,
				bankID, string(e.Signal), raw[i]).Scan(&id); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, `INSERT INTO media_matches (media_id, bank_id, entry_id, bank_name, signal, distance,
			variant, classification, matched_at) VALUES ($1, $2, $3, $4, $5, 0, 'orig', $6, $7) ON CONFLICT DO NOTHING`,
			m.ID, bankID, id, name, string(e.Signal), class, now); err != nil {
			return err
		}
	}
	return nil
}
