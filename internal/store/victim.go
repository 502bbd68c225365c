package store

import (
	"context"
	"database/sql"
	"encoding/hex"
	"errors"
	"time"

	"github.com/vigil-hotline/vigil"
)

var _ vigil.VictimService = (*DB)(nil)

// victimBank returns the victim bank's ID, creating the bank on first use.
func (db *DB) victimBank(ctx context.Context, tx Tx) (int64, error) {
	var id int64
	err := tx.QueryRow(ctx, `SELECT id FROM banks WHERE name = $1`, vigil.VictimBankName).Scan(&id)
	if !errors.Is(err, sql.ErrNoRows) {
		return id, err
	}
	b := &vigil.Bank{Name: vigil.VictimBankName, Source: vigil.SourceVictim, Kind: vigil.BankBlock, Enabled: true,
		PDQThreshold: vigil.DefaultPDQThreshold, CreatedAt: db.Now(),
		Terms: "Hashes sent by the people shown. Matched only: never exported, never listed."}
	if err := tx.QueryRow(ctx, `INSERT INTO banks (name, source, terms, kind, enabled, pdq_threshold, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`, b.Name, string(b.Source), b.Terms, string(b.Kind), b.Enabled,
		b.PDQThreshold, b.CreatedAt).Scan(&id); err != nil {
		return 0, err
	}
	return id, db.bankChanged(ctx, tx, id)
}

// CreateVictimSubmission stores a submission and adds its hashes to the
// victim bank, in one transaction with the change feed's rows, so that
// every process's matcher picks them up within its poll interval.
func (db *DB) CreateVictimSubmission(ctx context.Context, s *vigil.VictimSubmission) error {
	if len(s.Hashes) == 0 || len(s.Hashes) > vigil.MaxVictimHashes {
		return vigil.Errorf(vigil.EINVALID, "a submission holds 1 to %d hashes", vigil.MaxVictimHashes)
	}
	if s.CreatedAt.IsZero() {
		s.CreatedAt = db.Now()
	}
	err := db.drv.WithTx(ctx, func(tx Tx) error {
		if err := db.lockBankChanges(ctx, tx); err != nil {
			return err
		}
		bankID, err := db.victimBank(ctx, tx)
		if err != nil {
			return err
		}
		for attempt := 0; ; attempt++ {
			err := inSavepoint(ctx, tx, "victim", func(tx Tx) error {
				return tx.QueryRow(ctx, `INSERT INTO victim_submissions (tracking_code, description, hashes, created_at)
					VALUES ($1, $2, $3, $4) RETURNING id`, s.TrackingCode, s.Description, len(s.Hashes), s.CreatedAt).Scan(&s.ID)
			})
			if err == nil {
				break
			}
			if !db.drv.IsUniqueViolation(err) || attempt >= 3 {
				return err
			}
			s.TrackingCode = vigil.NewTrackingCode()
		}
		for _, h := range s.Hashes {
			raw, err := hex.DecodeString(h.Value)
			if err != nil {
				return vigil.Errorf(vigil.EINVALID, "hash %q is not hex", h.Value)
			}
			var id int64
			err = tx.QueryRow(ctx, `INSERT INTO bank_entries (bank_id, signal, value, classification, note, added_at, added_from)
				VALUES ($1, $2, $3, $4, '', $5, 'victim') ON CONFLICT (bank_id, signal, value) DO NOTHING RETURNING id`,
				bankID, string(h.Type), raw, vigil.ClassSelfReported, s.CreatedAt).Scan(&id)
			switch {
			case errors.Is(err, sql.ErrNoRows):
				// Another submission holds this hash already: link to it.
				if err := tx.QueryRow(ctx, `SELECT id FROM bank_entries WHERE bank_id = $1 AND signal = $2 AND value = $3`,
					bankID, string(h.Type), raw).Scan(&id); err != nil {
					return err
				}
			case err != nil:
				return err
			default:
				if _, err := tx.Exec(ctx, `INSERT INTO bank_changes (op, bank_id, first_entry_id, last_entry_id, changed_at)
					VALUES ($1, $2, $3, $3, $4)`, string(vigil.ChangeAdd), bankID, id, s.CreatedAt); err != nil {
					return err
				}
			}
			if _, err := tx.Exec(ctx, `INSERT INTO victim_entries (submission_id, entry_id, signal) VALUES ($1, $2, $3)
				ON CONFLICT DO NOTHING`, s.ID, id, string(h.Type)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		s.ID = 0
	}
	return wrap(err, "create victim submission")
}

// findVictimSubmission returns a submission's ID and withdrawal time by
// its tracking code.
func findVictimSubmission(ctx context.Context, q Querier, code string) (int64, *time.Time, error) {
	code, err := vigil.NormalizeTrackingCode(code)
	if err != nil {
		return 0, nil, err
	}
	var id int64
	var withdrawn *time.Time
	err = q.QueryRow(ctx, `SELECT id, withdrawn_at FROM victim_submissions WHERE tracking_code = $1`, code).Scan(&id, &withdrawn)
	if err != nil {
		return 0, nil, notFound(err, "no submission with that tracking code")
	}
	return id, withdrawn, nil
}

// victimCopies counts the reported URLs where media matching a
// submission's hashes were seen, and of those the ones whose takedown
// ended with the content gone.
const victimCopies = `SELECT count(DISTINCT s.reported_url_id),
	count(DISTINCT CASE WHEN t.state = 'removed' THEN s.reported_url_id END)
	FROM victim_entries ve
	JOIN media_matches mm ON mm.entry_id = ve.entry_id
	JOIN media_sightings s ON s.media_id = mm.media_id
	LEFT JOIN takedowns t ON t.reported_url_id = s.reported_url_id
	WHERE ve.submission_id = $1`

// VictimStatus counts the copies found and removed for a tracking code.
func (db *DB) VictimStatus(ctx context.Context, code string) (*vigil.VictimStatus, error) {
	r := db.drv.Reader()
	id, withdrawn, err := findVictimSubmission(ctx, r, code)
	if err != nil {
		return nil, wrap(err, "victim status")
	}
	st := &vigil.VictimStatus{Withdrawn: withdrawn != nil}
	if err := r.QueryRow(ctx, `SELECT hashes FROM victim_submissions WHERE id = $1`, id).Scan(&st.Hashes); err != nil {
		return nil, wrap(err, "victim status")
	}
	if err := r.QueryRow(ctx, victimCopies, id).Scan(&st.Found, &st.Removed); err != nil {
		return nil, wrap(err, "victim status")
	}
	return st, nil
}

// WithdrawVictimSubmission removes the submission's hashes from the victim
// bank, recording each removal in the change feed, which every process's
// matcher follows (250 ms by default). A hash that another live
// submission also sent stays. Withdrawing twice changes nothing.
func (db *DB) WithdrawVictimSubmission(ctx context.Context, code string) error {
	return wrap(db.drv.WithTx(ctx, func(tx Tx) error {
		if err := db.lockBankChanges(ctx, tx); err != nil {
			return err
		}
		id, withdrawn, err := findVictimSubmission(ctx, tx, code)
		if err != nil || withdrawn != nil {
			return err
		}
		now := db.Now()
		if _, err := tx.Exec(ctx, `UPDATE victim_submissions SET withdrawn_at = $2 WHERE id = $1`, id, now); err != nil {
			return err
		}
		ids, err := queryIDs(ctx, tx, `SELECT ve.entry_id FROM victim_entries ve WHERE ve.submission_id = $1
			AND NOT EXISTS (SELECT 1 FROM victim_entries o JOIN victim_submissions vs ON vs.id = o.submission_id
				WHERE o.entry_id = ve.entry_id AND o.submission_id <> ve.submission_id AND vs.withdrawn_at IS NULL)`, id)
		if err != nil {
			return err
		}
		for _, e := range ids {
			var bankID int64
			var signal string
			var raw []byte
			err := tx.QueryRow(ctx, `DELETE FROM bank_entries WHERE id = $1 RETURNING bank_id, signal, value`, e).Scan(&bankID, &signal, &raw)
			if errors.Is(err, sql.ErrNoRows) {
				continue // removed by an administrator already
			}
			if err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `INSERT INTO bank_changes (op, bank_id, first_entry_id, last_entry_id, signal, value, changed_at)
				VALUES ($1, $2, $3, $3, $4, $5, $6)`, string(vigil.ChangeRemove), bankID, e, signal, raw, now); err != nil {
				return err
			}
		}
		return nil
	}), "withdraw victim submission")
}

// ListVictimSubmissions lists submissions for the supervisors, flagged
// first, then newest first, with how many media each matched.
func (db *DB) ListVictimSubmissions(ctx context.Context, limit int) ([]*vigil.VictimSubmissionSummary, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := db.drv.Reader().Query(ctx, `SELECT vs.id, vs.description, vs.hashes, vs.created_at, vs.withdrawn_at,
		vs.flagged_at, vs.unrelated,
		(SELECT count(DISTINCT mm.media_id) FROM victim_entries ve JOIN media_matches mm ON mm.entry_id = ve.entry_id
			WHERE ve.submission_id = vs.id)
		FROM victim_submissions vs
		ORDER BY CASE WHEN vs.flagged_at IS NULL THEN 1 ELSE 0 END, vs.id DESC LIMIT $1`, limit)
	if err != nil {
		return nil, wrap(err, "list victim submissions")
	}
	defer rows.Close()
	var out []*vigil.VictimSubmissionSummary
	for rows.Next() {
		v := &vigil.VictimSubmissionSummary{}
		if err := rows.Scan(&v.ID, &v.Description, &v.Hashes, &v.CreatedAt, &v.WithdrawnAt, &v.FlaggedAt, &v.Unrelated,
			&v.Matched); err != nil {
			return nil, wrap(err, "list victim submissions")
		}
		out = append(out, v)
	}
	return out, wrap(rows.Err(), "list victim submissions")
}

// SetVictimFlag flags a submission, or clears its flag for good: a
// supervisor who has looked at it decides, and the automatic flag does
// not come back.
func (db *DB) SetVictimFlag(ctx context.Context, id int64, flagged bool) error {
	now := db.Now()
	return wrap(db.write(ctx, func(tx Tx) error {
		q := `UPDATE victim_submissions SET flagged_at = $2, cleared_at = NULL WHERE id = $1`
		args := []any{id, &now}
		if !flagged {
			q = `UPDATE victim_submissions SET flagged_at = NULL, cleared_at = $2 WHERE id = $1`
		}
		n, err := tx.Exec(ctx, q, args...)
		if err == nil && n == 0 {
			err = vigil.Errorf(vigil.ENOTFOUND, "no victim submission %d", id)
		}
		return err
	}), "set victim flag")
}

// holdVictimMatches runs in FinishMatch before a media item's verdict is
// stored. For each submission whose hashes the item matched, it recounts
// how many mutually unrelated pictures one of its hashes matches, and
// flags it at vigil.VictimFlagUnrelated. It reports whether the item
// should be held for an analyst: when every illegal match it has is a
// victim-bank match of a flagged submission.
func (db *DB) holdVictimMatches(ctx context.Context, tx Tx, mediaID int64, matches []vigil.Match) (bool, error) {
	victim := map[int64]bool{}
	others := false
	for _, m := range matches {
		switch {
		case m.Classification == vigil.ClassSelfReported:
			victim[m.EntryID] = true
		case m.Classification != vigil.ClassNotIllegal:
			others = true
		}
	}
	if len(victim) == 0 {
		return false, nil
	}
	var pdq string
	if err := tx.QueryRow(ctx, `SELECT pdq FROM media WHERE id = $1`, mediaID).Scan(&pdq); err != nil {
		return false, err
	}
	subs := map[int64]bool{}
	for e := range victim {
		ids, err := queryIDs(ctx, tx, `SELECT submission_id FROM victim_entries WHERE entry_id = $1`, e)
		if err != nil {
			return false, err
		}
		for _, id := range ids {
			subs[id] = true
		}
	}
	held := !others
	for id := range subs {
		flagged, err := db.reflagVictim(ctx, tx, id, mediaID, pdq, victim)
		if err != nil {
			return false, err
		}
		held = held && flagged
	}
	return held, nil
}

// reflagVictim recounts, for each hash of one submission, the mutually
// unrelated pictures it matches (the item being matched included), and
// reports whether the submission is flagged. A victim's hash matches
// copies of one picture; a hash that matches pictures unlike each other
// is too generic to act on without an analyst.
func (db *DB) reflagVictim(ctx context.Context, tx Tx, id, mediaID int64, pdq string, matched map[int64]bool) (bool, error) {
	byEntry := map[int64][]string{}
	for e := range matched {
		byEntry[e] = []string{pdq}
	}
	// A few hundred matched pictures are plenty to tell a victim's
	// copies from a common picture.
	rows, err := tx.Query(ctx, `SELECT mm.entry_id, m.pdq FROM victim_entries ve
		JOIN media_matches mm ON mm.entry_id = ve.entry_id JOIN media m ON m.id = mm.media_id
		WHERE ve.submission_id = $1 AND ve.signal = 'pdq' AND m.id <> $2 AND m.pdq <> '' LIMIT 1000`, id, mediaID)
	if err != nil {
		return false, err
	}
	for rows.Next() {
		var e int64
		var p string
		if err := rows.Scan(&e, &p); err != nil {
			rows.Close()
			return false, err
		}
		byEntry[e] = append(byEntry[e], p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return false, err
	}
	unrelated := 0
	for _, pdqs := range byEntry {
		unrelated = max(unrelated, vigil.UnrelatedPictures(pdqs, vigil.DefaultPDQThreshold))
	}
	var flagged, cleared *time.Time
	var before int
	if err := tx.QueryRow(ctx, `SELECT flagged_at, cleared_at, unrelated FROM victim_submissions WHERE id = $1`, id).Scan(
		&flagged, &cleared, &before); err != nil {
		return false, err
	}
	unrelated = max(unrelated, before)
	if flagged == nil && cleared == nil && unrelated >= vigil.VictimFlagUnrelated {
		now := db.Now()
		flagged = &now
	}
	_, err = tx.Exec(ctx, `UPDATE victim_submissions SET unrelated = $2, flagged_at = $3 WHERE id = $1`, id, unrelated, flagged)
	return flagged != nil, err
}

// queryIDs runs a query that returns one ID column.
func queryIDs(ctx context.Context, q Querier, query string, args ...any) ([]int64, error) {
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// VictimDescriptions returns what the people who sent an entry wrote, for
// the analysts' case view; withdrawn submissions say nothing any more.
func (db *DB) VictimDescriptions(ctx context.Context, entryID int64) ([]string, error) {
	rows, err := db.drv.Reader().Query(ctx, `SELECT vs.description FROM victim_entries ve
		JOIN victim_submissions vs ON vs.id = ve.submission_id
		WHERE ve.entry_id = $1 AND vs.withdrawn_at IS NULL ORDER BY vs.id LIMIT 20`, entryID)
	if err != nil {
		return nil, wrap(err, "victim descriptions")
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var d string
		if err := rows.Scan(&d); err != nil {
			return nil, wrap(err, "victim descriptions")
		}
		out = append(out, d)
	}
	return out, wrap(rows.Err(), "victim descriptions")
}
