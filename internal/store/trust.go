package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/jobargs"
)

var _ vigil.TrustService = (*DB)(nil)

// SetExchangeTrust stores an exchange's trust settings.
func (db *DB) SetExchangeTrust(ctx context.Context, t vigil.ExchangeTrust) error {
	if err := t.Validate(); err != nil {
		return err
	}
	if _, err := db.FindExchangeByID(ctx, t.ExchangeID); err != nil {
		return err
	}
	m := ""
	if t.ClassMap != nil {
		m = t.ClassMap.String()
	}
	err := db.drv.WithTx(ctx, func(tx Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO exchange_trust (exchange_id, class_map, quarantine_share, quarantine_min_hits)
		VALUES ($1, $2, $3, $4) ON CONFLICT (exchange_id) DO UPDATE SET class_map = excluded.class_map,
		quarantine_share = excluded.quarantine_share, quarantine_min_hits = excluded.quarantine_min_hits`,
			t.ExchangeID, m, t.QuarantineShare, t.QuarantineMinHits)
		return err
	})
	return wrap(err, "set exchange trust")
}

// FindExchangeTrust returns an exchange's trust settings.
func (db *DB) FindExchangeTrust(ctx context.Context, exchangeID int64) (vigil.ExchangeTrust, error) {
	if _, err := db.FindExchangeByID(ctx, exchangeID); err != nil {
		return vigil.ExchangeTrust{}, err
	}
	all, err := db.exchangeTrusts(ctx, db.drv.Reader())
	if err != nil {
		return vigil.ExchangeTrust{}, err
	}
	if t, ok := all[exchangeID]; ok {
		return t, nil
	}
	return vigil.ExchangeTrust{ExchangeID: exchangeID, ClassMap: vigil.DefaultClassificationMap()}, nil
}

func (db *DB) exchangeTrusts(ctx context.Context, q Querier) (map[int64]vigil.ExchangeTrust, error) {
	rows, err := q.Query(ctx, `SELECT exchange_id, class_map, quarantine_share, quarantine_min_hits FROM exchange_trust`)
	if err != nil {
		return nil, fmt.Errorf("exchange trust: %w", err)
	}
	defer rows.Close()
	out := map[int64]vigil.ExchangeTrust{}
	for rows.Next() {
		var t vigil.ExchangeTrust
		var m string
		if err := rows.Scan(&t.ExchangeID, &m, &t.QuarantineShare, &t.QuarantineMinHits); err != nil {
			return nil, fmt.Errorf("exchange trust: %w", err)
		}
		if t.ClassMap, err = vigil.ParseClassificationMap(m, nil); err != nil {
			return nil, fmt.Errorf("exchange trust %d: %w", t.ExchangeID, err)
		}
		out[t.ExchangeID] = t
	}
	return out, wrap(rows.Err(), "exchange trust")
}

// suppress takes an entry out of the match indexes (a remove in the change
// feed); false when it was suppressed already or is gone. The caller holds
// the change-feed lock.
func (db *DB) suppress(ctx context.Context, tx Tx, entryID int64, reason string, hits, total int64, now time.Time) (bool, error) {
	var bankID int64
	var signal string
	var raw []byte
	err := tx.QueryRow(ctx, `UPDATE bank_entries SET suppressed = $2, suppressed_at = $3, suppressed_hits = $4, suppressed_total = $5
		WHERE id = $1 AND suppressed = '' RETURNING bank_id, signal, value`, entryID, reason, now, hits, total).Scan(&bankID, &signal, &raw)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	_, err = tx.Exec(ctx, `INSERT INTO bank_changes (op, bank_id, first_entry_id, last_entry_id, signal, value, changed_at)
		VALUES ($1, $2, $3, $3, $4, $5, $6)`, string(vigil.ChangeRemove), bankID, entryID, signal, raw, now)
	return err == nil, err
}

// QuarantineFloods quarantines the upstream entries that flood the hotline.
func (db *DB) QuarantineFloods(ctx context.Context, now time.Time) ([]*vigil.SuppressedEntry, error) {
	since := now.Add(-vigil.QuarantineWindow)
	r := db.drv.Reader()
	var total int64
	if err := r.QueryRow(ctx, `SELECT count(*) FROM media WHERE matched_at >= $1`, since).Scan(&total); err != nil {
		return nil, fmt.Errorf("quarantine: %w", err)
	}
	trust, err := db.exchangeTrusts(ctx, r)
	if err != nil {
		return nil, err
	}
	minHits := int64(vigil.DefaultQuarantineMinHits)
	for _, t := range trust {
		minHits = min(minHits, int64(t.MinHits()))
	}
	rows, err := r.Query(ctx, `SELECT e.id, e.exchange_id, count(DISTINCT mm.media_id) FROM media_matches mm
		JOIN bank_entries e ON e.id = mm.entry_id
		WHERE mm.matched_at >= $1 AND e.exchange_id <> 0 AND e.suppressed = ''
		GROUP BY e.id, e.exchange_id HAVING count(DISTINCT mm.media_id) >= $2`, since, minHits)
	if err != nil {
		return nil, fmt.Errorf("quarantine: %w", err)
	}
	type hit struct{ entry, hits int64 }
	var floods []hit
	for rows.Next() {
		var h hit
		var exchangeID int64
		if err := rows.Scan(&h.entry, &exchangeID, &h.hits); err != nil {
			rows.Close()
			return nil, fmt.Errorf("quarantine: %w", err)
		}
		t, ok := trust[exchangeID]
		if !ok {
			t = vigil.ExchangeTrust{ExchangeID: exchangeID}
		}
		if t.Floods(h.hits, total) {
			floods = append(floods, h)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("quarantine: %w", err)
	}
	if len(floods) == 0 {
		return nil, nil
	}
	var ids []int64
	err = db.drv.WithTx(ctx, func(tx Tx) error {
		if err := db.lockBankChanges(ctx, tx); err != nil {
			return err
		}
		for _, h := range floods {
			ok, err := db.suppress(ctx, tx, h.entry, vigil.SuppressQuarantine, h.hits, total, db.Now())
			if err != nil {
				return err
			}
			if ok {
				ids = append(ids, h.entry)
			}
		}
		return nil
	})
	if err != nil {
		return nil, wrap(err, "quarantine")
	}
	return db.suppressedEntries(ctx, `e.id IN (`+inListOf(ids)+`)`, len(ids))
}

func inListOf(ids []int64) string {
	s := ""
	for i, id := range ids {
		if i > 0 {
			s += ","
		}
		s += fmt.Sprint(id)
	}
	if s == "" {
		return "0"
	}
	return s
}

// ListSuppressedEntries lists suppressed entries, newest first.
func (db *DB) ListSuppressedEntries(ctx context.Context, limit int) ([]*vigil.SuppressedEntry, error) {
	if limit <= 0 {
		limit = 100
	}
	return db.suppressedEntries(ctx, `e.suppressed <> ''`, limit)
}

func (db *DB) suppressedEntries(ctx context.Context, where string, limit int) ([]*vigil.SuppressedEntry, error) {
	rows, err := db.drv.Reader().Query(ctx, `SELECT `+entryColumns+`, e.suppressed, e.suppressed_at, e.suppressed_hits, e.suppressed_total
		FROM bank_entries e LEFT JOIN exchanges x ON x.id = e.exchange_id
		WHERE `+where+` ORDER BY e.suppressed_at DESC, e.id DESC LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("suppressed entries: %w", err)
	}
	defer rows.Close()
	var out []*vigil.SuppressedEntry
	for rows.Next() {
		s := &vigil.SuppressedEntry{}
		var at *time.Time
		e, err := scanEntry(extraRow{rows, []any{&s.Reason, &at, &s.Hits, &s.Total}})
		if err != nil {
			return nil, fmt.Errorf("suppressed entries: %w", err)
		}
		s.Entry = e
		if at != nil {
			s.At = *at
		}
		out = append(out, s)
	}
	return out, wrap(rows.Err(), "suppressed entries")
}

// ReleaseEntry lifts an entry's suppression: it matches again.
func (db *DB) ReleaseEntry(ctx context.Context, entryID int64) error {
	return wrap(db.drv.WithTx(ctx, func(tx Tx) error {
		if err := db.lockBankChanges(ctx, tx); err != nil {
			return err
		}
		var bankID int64
		err := tx.QueryRow(ctx, `UPDATE bank_entries SET suppressed = '', suppressed_at = NULL, suppressed_hits = 0, suppressed_total = 0
			WHERE id = $1 AND suppressed <> '' RETURNING bank_id`, entryID).Scan(&bankID)
		if err != nil {
			return notFound(err, "no suppressed entry %d", entryID)
		}
		_, err = tx.Exec(ctx, `INSERT INTO bank_changes (op, bank_id, first_entry_id, last_entry_id, changed_at)
			VALUES ($1, $2, $3, $3, $4)`, string(vigil.ChangeAdd), bankID, entryID, db.Now())
		return err
	}), "release entry")
}

const verdictColumns = `id, entry_id, exchange_id, exchange_kind, upstream_id, signal, value, media_id, verdict, user_id, note,
	created_at, feedback, feedback_key, attempts, feedback_error, sent_at`

func scanVerdict(row Row) (*vigil.UpstreamVerdict, error) {
	v := &vigil.UpstreamVerdict{}
	var signal, fb string
	var sent *time.Time
	err := row.Scan(&v.ID, &v.EntryID, &v.ExchangeID, &v.ExchangeKind, &v.UpstreamID, &signal, &v.Value, &v.MediaID,
		&v.Verdict, &v.UserID, &v.Note, &v.CreatedAt, &fb, &v.FeedbackKey, &v.Attempts, &v.FeedbackError, &sent)
	v.Signal, v.Feedback = vigil.SignalType(signal), vigil.FeedbackState(fb)
	if sent != nil {
		v.SentAt = *sent
	}
	return v, err
}

// JudgeUpstreamEntry records an analyst's verdict on an upstream entry.
func (db *DB) JudgeUpstreamEntry(ctx context.Context, v *vigil.UpstreamVerdict) error {
	if err := v.Validate(); err != nil {
		return err
	}
	key := make([]byte, 16)
	if _, err := rand.Read(key); err != nil {
		return fmt.Errorf("judge upstream entry: %w", err)
	}
	return wrap(db.drv.WithTx(ctx, func(tx Tx) error {
		if err := db.lockBankChanges(ctx, tx); err != nil {
			return err
		}
		var raw []byte
		var signal string
		err := tx.QueryRow(ctx, `SELECT e.exchange_id, COALESCE(x.kind, ''), e.upstream_id, e.signal, e.value
			FROM bank_entries e LEFT JOIN exchanges x ON x.id = e.exchange_id WHERE e.id = $1`, v.EntryID).
			Scan(&v.ExchangeID, &v.ExchangeKind, &v.UpstreamID, &signal, &raw)
		if err != nil {
			return notFound(err, "no bank entry %d", v.EntryID)
		}
		if v.ExchangeID == 0 {
			return vigil.Errorf(vigil.EINVALID, "entry %d did not come from an exchange", v.EntryID)
		}
		now := db.Now()
		v.Signal, v.Value, v.CreatedAt = vigil.SignalType(signal), hex.EncodeToString(raw), now
		v.FeedbackKey = "vigil-fb-" + hex.EncodeToString(key)
		v.Feedback = vigil.FeedbackNone
		if vigil.ExchangeTakesFeedback(v.ExchangeKind) {
			v.Feedback = vigil.FeedbackPending
		}
		if v.Verdict == vigil.VerdictDispute {
			if _, err := db.suppress(ctx, tx, v.EntryID, vigil.SuppressDispute, 0, 0, now); err != nil {
				return err
			}
		}
		err = tx.QueryRow(ctx, `INSERT INTO upstream_verdicts (entry_id, exchange_id, exchange_kind, upstream_id, signal, value,
			media_id, verdict, user_id, note, created_at, feedback, feedback_key)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id`,
			v.EntryID, v.ExchangeID, v.ExchangeKind, v.UpstreamID, signal, v.Value, v.MediaID, v.Verdict, v.UserID, v.Note,
			now, string(v.Feedback), v.FeedbackKey).Scan(&v.ID)
		if err != nil {
			return err
		}
		if v.Feedback != vigil.FeedbackPending {
			return nil
		}
		return tx.InsertJobs(ctx, []river.InsertManyParams{{
			Args:       jobargs.ExchangeFeedbackArgs{VerdictID: v.ID},
			InsertOpts: &river.InsertOpts{Queue: jobargs.QueueExchange, MaxAttempts: jobargs.MaxAttempts},
		}})
	}), "judge upstream entry")
}

// FindUpstreamVerdict returns one verdict.
func (db *DB) FindUpstreamVerdict(ctx context.Context, id int64) (*vigil.UpstreamVerdict, error) {
	v, err := scanVerdict(db.drv.Reader().QueryRow(ctx, `SELECT `+verdictColumns+` FROM upstream_verdicts WHERE id = $1`, id))
	if err != nil {
		return nil, notFound(err, "no upstream verdict %d", id)
	}
	return v, nil
}

// ListUpstreamVerdicts lists an entry's verdicts, newest first.
func (db *DB) ListUpstreamVerdicts(ctx context.Context, entryID int64) ([]*vigil.UpstreamVerdict, error) {
	rows, err := db.drv.Reader().Query(ctx, `SELECT `+verdictColumns+` FROM upstream_verdicts WHERE entry_id = $1 ORDER BY id DESC`, entryID)
	if err != nil {
		return nil, fmt.Errorf("list upstream verdicts: %w", err)
	}
	defer rows.Close()
	var out []*vigil.UpstreamVerdict
	for rows.Next() {
		v, err := scanVerdict(rows)
		if err != nil {
			return nil, fmt.Errorf("list upstream verdicts: %w", err)
		}
		out = append(out, v)
	}
	return out, wrap(rows.Err(), "list upstream verdicts")
}

// ClaimFeedback moves a verdict's feedback from pending to sending (step 2
// of the exactly-once protocol): only the worker whose update changed the
// row sends.
func (db *DB) ClaimFeedback(ctx context.Context, id int64) (bool, error) {
	var n int64
	err := db.drv.WithTx(ctx, func(tx Tx) error {
		var err error
		n, err = tx.Exec(ctx, `UPDATE upstream_verdicts SET feedback = $2, attempts = attempts + 1
			WHERE id = $1 AND feedback = $3`, id, string(vigil.FeedbackSending), string(vigil.FeedbackPending))
		return err
	})
	if err != nil {
		return false, fmt.Errorf("claim feedback: %w", err)
	}
	return n == 1, nil
}

// RecordFeedback records the outcome of a claimed send (step 4).
func (db *DB) RecordFeedback(ctx context.Context, id int64, state vigil.FeedbackState, errText string) error {
	switch state {
	case vigil.FeedbackSent, vigil.FeedbackFailed, vigil.FeedbackUncertain, vigil.FeedbackPending:
	default:
		return vigil.Errorf(vigil.EINVALID, "feedback cannot be recorded as %q", state)
	}
	var sent *time.Time
	if state == vigil.FeedbackSent {
		now := db.Now()
		sent = &now
	}
	if len(errText) > 1000 {
		errText = errText[:1000]
	}
	var n int64
	err := db.drv.WithTx(ctx, func(tx Tx) error {
		var err error
		n, err = tx.Exec(ctx, `UPDATE upstream_verdicts SET feedback = $2, feedback_error = $3, sent_at = $4
			WHERE id = $1 AND feedback = $5`, id, string(state), errText, sent, string(vigil.FeedbackSending))
		return err
	})
	if err != nil {
		return fmt.Errorf("record feedback: %w", err)
	}
	if n != 1 {
		return vigil.Errorf(vigil.ECONFLICT, "feedback of verdict %d is not being sent", id)
	}
	return nil
}
