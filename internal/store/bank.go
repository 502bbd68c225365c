package store

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/vigil-hotline/vigil"
)

var _ vigil.BankService = (*DB)(nil)

const bankColumns = `id, name, source, terms, kind, enabled, pdq_threshold, video_query_pct, video_comp_pct, created_at`

func scanBank(row Row) (*vigil.Bank, error) {
	b := &vigil.Bank{}
	var source, kind string
	err := row.Scan(&b.ID, &b.Name, &source, &b.Terms, &kind, &b.Enabled, &b.PDQThreshold, &b.VideoQueryPercent,
		&b.VideoCompPercent, &b.CreatedAt)
	b.Source, b.Kind = vigil.BankSource(source), vigil.BankKind(kind)
	return b, err
}

// bankChangesLock is the advisory lock key that serialises writers of the
// change feed on PostgreSQL ("vigb").
const bankChangesLock = 0x76696762

// lockBankChanges makes the change feed's sequence numbers commit in order:
// on PostgreSQL two transactions could otherwise draw 10 and 11 and commit
// 11 first, and a matcher that had read 11 would never see 10. The lock is
// held until commit. SQLite has a single writer, so order is given.
func (db *DB) lockBankChanges(ctx context.Context, tx Tx) error {
	return db.drv.LockKey(ctx, tx, bankChangesLock)
}

func (db *DB) bankChanged(ctx context.Context, tx Tx, id int64) error {
	_, err := tx.Exec(ctx, `INSERT INTO bank_changes (op, bank_id, changed_at) VALUES ($1, $2, $3)`,
		string(vigil.ChangeBank), id, db.Now())
	return err
}

// CreateBank stores a new bank (of kind block when Kind is empty).
func (db *DB) CreateBank(ctx context.Context, b *vigil.Bank) error {
	if b.Kind == "" {
		b.Kind = vigil.BankBlock
	}
	if b.VideoQueryPercent == 0 {
		b.VideoQueryPercent = vigil.DefaultVideoQueryPercent
	}
	if err := b.Validate(); err != nil {
		return err
	}
	if b.CreatedAt.IsZero() {
		b.CreatedAt = db.Now()
	}
	err := db.drv.WithTx(ctx, func(tx Tx) error {
		if err := db.lockBankChanges(ctx, tx); err != nil {
			return err
		}
		err := tx.QueryRow(ctx, `INSERT INTO banks (name, source, terms, kind, enabled, pdq_threshold, video_query_pct,
			video_comp_pct, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
			b.Name, string(b.Source), b.Terms, string(b.Kind), b.Enabled, b.PDQThreshold, b.VideoQueryPercent,
			b.VideoCompPercent, b.CreatedAt).Scan(&b.ID)
		if err != nil {
			return err
		}
		return db.bankChanged(ctx, tx, b.ID)
	})
	if db.drv.IsUniqueViolation(err) {
		return vigil.Errorf(vigil.ECONFLICT, "a bank named %q exists already", b.Name)
	}
	return wrap(err, "create bank")
}

// FindBankByName returns a bank by name.
func (db *DB) FindBankByName(ctx context.Context, name string) (*vigil.Bank, error) {
	b, err := scanBank(db.drv.Reader().QueryRow(ctx, `SELECT `+bankColumns+` FROM banks WHERE name = $1`, name))
	if err != nil {
		return nil, wrap(notFound(err, "no bank named %q", name), "find bank")
	}
	return b, nil
}

// FindBankByID returns a bank by ID.
func (db *DB) FindBankByID(ctx context.Context, id int64) (*vigil.Bank, error) {
	b, err := scanBank(db.drv.Reader().QueryRow(ctx, `SELECT `+bankColumns+` FROM banks WHERE id = $1`, id))
	if err != nil {
		return nil, wrap(notFound(err, "no bank %d", id), "find bank")
	}
	return b, nil
}

// ListBanks returns every bank by name.
func (db *DB) ListBanks(ctx context.Context) ([]*vigil.Bank, error) {
	rows, err := db.drv.Reader().Query(ctx, `SELECT `+bankColumns+` FROM banks ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list banks: %w", err)
	}
	defer rows.Close()
	var out []*vigil.Bank
	for rows.Next() {
		b, err := scanBank(rows)
		if err != nil {
			return nil, fmt.Errorf("list banks: %w", err)
		}
		out = append(out, b)
	}
	return out, wrap(rows.Err(), "list banks")
}

// updateBank runs one UPDATE on a bank and records the change.
func (db *DB) updateBank(ctx context.Context, id int64, what, query string, args ...any) error {
	return wrap(db.drv.WithTx(ctx, func(tx Tx) error {
		if err := db.lockBankChanges(ctx, tx); err != nil {
			return err
		}
		n, err := tx.Exec(ctx, query, append([]any{id}, args...)...)
		if err != nil {
			return err
		}
		if n == 0 {
			return vigil.Errorf(vigil.ENOTFOUND, "no bank %d", id)
		}
		return db.bankChanged(ctx, tx, id)
	}), what)
}

// SetBankEnabled enables or disables a bank.
func (db *DB) SetBankEnabled(ctx context.Context, id int64, enabled bool) error {
	return db.updateBank(ctx, id, "enable bank", `UPDATE banks SET enabled = $2 WHERE id = $1`, enabled)
}

// SetBankThreshold sets a bank's PDQ threshold.
func (db *DB) SetBankThreshold(ctx context.Context, id int64, threshold int) error {
	if err := vigil.ValidatePDQThreshold(threshold); err != nil {
		return err
	}
	return db.updateBank(ctx, id, "set bank threshold", `UPDATE banks SET pdq_threshold = $2 WHERE id = $1`, threshold)
}

// SetBankVideoThresholds sets a bank's vPDQ thresholds P_q and P_c.
func (db *DB) SetBankVideoThresholds(ctx context.Context, id int64, queryPercent, compPercent float64) error {
	if err := vigil.ValidateVideoThresholds(queryPercent, compPercent); err != nil {
		return err
	}
	return db.updateBank(ctx, id, "set bank video thresholds",
		`UPDATE banks SET video_query_pct = $2, video_comp_pct = $3 WHERE id = $1`, queryPercent, compPercent)
}

// CountBankEntries counts a bank's entries.
func (db *DB) CountBankEntries(ctx context.Context, bankID int64) (int64, error) {
	var n int64
	err := db.drv.Reader().QueryRow(ctx, `SELECT count(*) FROM bank_entries WHERE bank_id = $1`, bankID).Scan(&n)
	return n, wrap(err, "count bank entries")
}

// entryRowsPerStatement bounds one multi-row INSERT on SQLite: 13
// parameters a row keeps it at 26,000, under SQLite's limit of 32,766.
const entryRowsPerStatement = 2000

const entryInsertColumns = `bank_id, signal, value, classification, note, added_at, added_from,
	exchange_id, upstream_id, upstream_class, tags, fetched_at, seen_round`

// insertEntriesSQLite returns the multi-row INSERT for n entries. It uses
// anonymous "?" parameters: SQLite looks named ones ($n) up in a list, which
// makes a statement with thousands of them quadratic to prepare and bind.
func insertEntriesSQLite(n int, tail string) string {
	var s strings.Builder
	s.Grow(30*n + len(tail))
	s.WriteString(`INSERT INTO bank_entries (` + entryInsertColumns + `) VALUES `)
	for i := 0; i < n; i++ {
		if i > 0 {
			s.WriteByte(',')
		}
		s.WriteString("(?,?,?,?,?,?,?,?,?,?,?,?,?)")
	}
	s.WriteString(tail)
	return s.String()
}

const entryInsertTail = ` ON CONFLICT (bank_id, signal, value) DO NOTHING RETURNING id, signal, value`

// exchangeInsertTail: an entry an exchange delivers again is its own (the
// same exchange's) and is marked seen in this round with its provenance
// refreshed; an entry that came from elsewhere is left alone. Updated rows
// are returned too: the caller tells new ones by their ID.
const exchangeInsertTail = ` ON CONFLICT (bank_id, signal, value) DO UPDATE SET seen_round = excluded.seen_round,
	upstream_id = excluded.upstream_id, upstream_class = excluded.upstream_class, tags = excluded.tags,
	fetched_at = excluded.fetched_at WHERE bank_entries.exchange_id = excluded.exchange_id
	RETURNING id, signal, value`

// insertEntriesPostgres inserts a whole batch as arrays: one short
// statement, instead of one with thousands of parameters to parse and plan.
const insertEntriesPostgres = `INSERT INTO bank_entries (` + entryInsertColumns + `)
	SELECT $1, s, v, c, n, a, f, $8, u, uc, t, $12::timestamptz, $13
	FROM unnest($2::text[], $3::bytea[], $4::text[], $5::text[], $6::timestamptz[], $7::text[], $9::text[], $10::text[], $11::text[])
	AS x(s, v, c, n, a, f, u, uc, t)`

// entrySource says who inserts entries: an exchange (ID, delivery time,
// full-list round) or nobody in particular (zero).
type entrySource struct {
	exchangeID int64
	fetchedAt  *time.Time
	round      int64
}

// formatTags stores tags as a JSON array ("" for none).
func formatTags(tags []string) string {
	if len(tags) == 0 {
		return ""
	}
	b, _ := json.Marshal(tags)
	return string(b)
}

func parseTags(s string) []string {
	if s == "" {
		return nil
	}
	var tags []string
	_ = json.Unmarshal([]byte(s), &tags) // written by formatTags
	return tags
}

// insertEntries runs the INSERTs for a batch and calls fn for each new row.
func (db *DB) insertEntries(ctx context.Context, tx Tx, bankID int64, entries []*vigil.BankEntry, raw [][]byte,
	fn func(id int64, signal string, value []byte)) error {
	return db.insertEntriesFrom(ctx, tx, bankID, entrySource{}, entries, raw, fn)
}

// insertEntriesFrom inserts entries from src; fn sees each row inserted
// or, for an exchange, delivered again.
func (db *DB) insertEntriesFrom(ctx context.Context, tx Tx, bankID int64, src entrySource, entries []*vigil.BankEntry,
	raw [][]byte, fn func(id int64, signal string, value []byte)) error {
	tail := entryInsertTail
	if src.exchangeID != 0 {
		tail = exchangeInsertTail
	}
	scan := func(rows Rows) error {
		defer rows.Close()
		for rows.Next() {
			var id int64
			var signal string
			var value []byte
			if err := rows.Scan(&id, &signal, &value); err != nil {
				return err
			}
			fn(id, signal, value)
		}
		return rows.Err()
	}
	if db.drv.ArrayParams() {
		n := len(entries)
		signals, classes, notes, froms := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		ups, upClasses, tags := make([]string, n), make([]string, n), make([]string, n)
		ats := make([]time.Time, n)
		for i, e := range entries {
			signals[i], classes[i], notes[i], froms[i], ats[i] = string(e.Signal), e.Classification, e.Note, e.AddedFrom, e.AddedAt
			ups[i], upClasses[i], tags[i] = e.UpstreamID, e.UpstreamClassification, formatTags(e.Tags)
		}
		rows, err := tx.Query(ctx, insertEntriesPostgres+tail, bankID, signals, raw, classes, notes, ats, froms,
			src.exchangeID, ups, upClasses, tags, src.fetchedAt, src.round)
		if err != nil {
			return err
		}
		return scan(rows)
	}
	args := make([]any, 0, 13*entryRowsPerStatement)
	for start := 0; start < len(entries); start += entryRowsPerStatement {
		end := min(start+entryRowsPerStatement, len(entries))
		args = args[:0]
		for i := start; i < end; i++ {
			e := entries[i]
			// The sqlite driver stores times as Unix microseconds.
			args = append(args, bankID, string(e.Signal), raw[i], e.Classification, e.Note, e.AddedAt, e.AddedFrom,
				src.exchangeID, e.UpstreamID, e.UpstreamClassification, formatTags(e.Tags), src.fetchedAt, src.round)
		}
		rows, err := tx.Query(ctx, insertEntriesSQLite(end-start, tail), args...)
		if err != nil {
			return err
		}
		if err := scan(rows); err != nil {
			return err
		}
	}
	return nil
}

// AddBankEntries adds entries to a bank, skipping those it holds already.
func (db *DB) AddBankEntries(ctx context.Context, bankID int64, entries []*vigil.BankEntry) (int, error) {
	now := db.Now()
	raw := make([][]byte, len(entries))
	for i, e := range entries {
		if err := e.Validate(nil); err != nil {
			return 0, err
		}
		e.BankID, e.ID = bankID, 0
		if e.AddedAt.IsZero() {
			e.AddedAt = now
		}
		raw[i], _ = hex.DecodeString(e.Value) // valid: Validate normalised it
	}
	if len(entries) == 0 {
		return 0, nil
	}
	var added int
	err := db.drv.WithTx(ctx, func(tx Tx) error {
		var err error
		added, err = db.addEntriesTx(ctx, tx, bankID, entries, raw, now)
		return err
	})
	if err != nil {
		for _, e := range entries {
			e.ID = 0
		}
		return 0, wrap(err, "add bank entries")
	}
	return added, nil
}

// addEntriesTx adds validated entries (raw: their values' bytes) in tx,
// recording the change for matchers; it returns how many were new.
func (db *DB) addEntriesTx(ctx context.Context, tx Tx, bankID int64, entries []*vigil.BankEntry, raw [][]byte, now time.Time) (int, error) {
	added := 0
	if err := db.lockBankChanges(ctx, tx); err != nil {
		return 0, err
	}
	var one int
	if err := tx.QueryRow(ctx, `SELECT 1 FROM banks WHERE id = $1`, bankID).Scan(&one); err != nil {
		return 0, notFound(err, "no bank %d", bankID)
	}
	// New rows are matched back to their entries to set their IDs.
	byKey := make(map[string]*vigil.BankEntry, len(entries))
	for i, e := range entries {
		k := string(e.Signal) + ":" + string(raw[i])
		if _, ok := byKey[k]; !ok {
			byKey[k] = e
		}
	}
	var first, last int64
	err := db.insertEntries(ctx, tx, bankID, entries, raw, func(id int64, signal string, value []byte) {
		if e := byKey[signal+":"+string(value)]; e != nil {
			e.ID = id
		}
		if first == 0 || id < first {
			first = id
		}
		last = max(last, id)
		added++
	})
	if err != nil {
		return 0, err
	}
	if added == 0 {
		return 0, nil
	}
	if err := db.insertVideoFrames(ctx, tx, entries); err != nil {
		return 0, err
	}
	_, err = tx.Exec(ctx, `INSERT INTO bank_changes (op, bank_id, first_entry_id, last_entry_id, changed_at)
		VALUES ($1, $2, $3, $4, $5)`, string(vigil.ChangeAdd), bankID, first, last, now)
	return added, err
}

// RemoveBankEntry removes one entry and records its signal and value in
// the change feed, for matchers to take it out of their exact index.
func (db *DB) RemoveBankEntry(ctx context.Context, bankID int64, signal vigil.SignalType, value string) error {
	value, err := vigil.NormalizeSignalValue(signal, value)
	if err != nil {
		return err
	}
	raw, _ := hex.DecodeString(value)
	return wrap(db.drv.WithTx(ctx, func(tx Tx) error {
		if err := db.lockBankChanges(ctx, tx); err != nil {
			return err
		}
		var id int64
		err := tx.QueryRow(ctx, `DELETE FROM bank_entries WHERE bank_id = $1 AND signal = $2 AND value = $3 RETURNING id`,
			bankID, string(signal), raw).Scan(&id)
		if err != nil {
			return notFound(err, "bank %d has no %s entry %s", bankID, signal, value)
		}
		if signal == vigil.SignalVPDQ {
			if _, err := tx.Exec(ctx, `DELETE FROM bank_video_frames WHERE entry_id = $1`, id); err != nil {
				return err
			}
		}
		_, err = tx.Exec(ctx, `INSERT INTO bank_changes (op, bank_id, first_entry_id, last_entry_id, signal, value, changed_at)
			VALUES ($1, $2, $3, $3, $4, $5, $6)`, string(vigil.ChangeRemove), bankID, id, string(signal), raw, db.Now())
		return err
	}), "remove bank entry")
}

// entryColumns are read from bank_entries (alias e), with the name of the
// exchange the entry came from: queries join exchanges (alias x) or select
// ” in its place (entryColumnsNoName).
const entryColumnsBase = `e.id, e.bank_id, e.signal, e.value, e.classification, e.added_at, e.added_from, e.note,
	e.exchange_id, e.upstream_id, e.upstream_class, e.tags, e.fetched_at, e.suppressed`
const entryColumns = entryColumnsBase + `, COALESCE(x.name, '')`
const entryColumnsNoName = entryColumnsBase + `, ''`

func scanEntry(row Row) (*vigil.BankEntry, error) {
	e := &vigil.BankEntry{}
	var signal, tags string
	var value []byte
	var fetched *time.Time
	err := row.Scan(&e.ID, &e.BankID, &signal, &value, &e.Classification, &e.AddedAt, &e.AddedFrom, &e.Note,
		&e.ExchangeID, &e.UpstreamID, &e.UpstreamClassification, &tags, &fetched, &e.Suppressed, &e.ExchangeName)
	e.Signal, e.Value, e.Tags = vigil.SignalType(signal), hex.EncodeToString(value), parseTags(tags)
	if fetched != nil {
		e.FetchedAt = *fetched
	}
	return e, err
}

func (db *DB) queryEntries(ctx context.Context, what, query string, args ...any) ([]*vigil.BankEntry, error) {
	rows, err := db.drv.Reader().Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	var out []*vigil.BankEntry
	for rows.Next() {
		e, err := scanEntry(rows)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		out = append(out, e)
	}
	return out, wrap(rows.Err(), what)
}

// BankEntries returns one page of a bank's entries in ID order.
func (db *DB) BankEntries(ctx context.Context, bankID, afterID int64, limit int) ([]*vigil.BankEntry, error) {
	if limit <= 0 {
		limit = 1000
	}
	es, err := db.queryEntries(ctx, "list bank entries", `SELECT `+entryColumnsNoName+` FROM bank_entries e
		WHERE e.bank_id = $1 AND e.id > $2 ORDER BY e.id LIMIT $3`, bankID, afterID, limit)
	if err != nil {
		return nil, err
	}
	return es, db.attachVideoFrames(ctx, es)
}

// FindBankEntries returns the entries with these IDs that exist.
func (db *DB) FindBankEntries(ctx context.Context, ids []int64) ([]*vigil.BankEntry, error) {
	const chunk = 500
	var out []*vigil.BankEntry
	for start := 0; start < len(ids); start += chunk {
		in, args := inList(ids[start:min(start+chunk, len(ids))])
		es, err := db.queryEntries(ctx, "find bank entries",
			`SELECT `+entryColumns+` FROM bank_entries e
			LEFT JOIN exchanges x ON x.id = e.exchange_id WHERE e.id IN (`+in+`)`, args...)
		if err != nil {
			return nil, err
		}
		out = append(out, es...)
	}
	return out, db.attachVideoFrames(ctx, out)
}

// BankChanges returns changes after afterSeq in order.
func (db *DB) BankChanges(ctx context.Context, afterSeq int64, limit int) ([]vigil.BankChange, error) {
	if limit <= 0 {
		limit = 1000
	}
	rows, err := db.drv.Reader().Query(ctx, `SELECT seq, op, bank_id, first_entry_id, last_entry_id, signal, value, changed_at
		FROM bank_changes WHERE seq > $1 ORDER BY seq LIMIT $2`, afterSeq, limit)
	if err != nil {
		return nil, fmt.Errorf("bank changes: %w", err)
	}
	defer rows.Close()
	var out []vigil.BankChange
	for rows.Next() {
		var c vigil.BankChange
		var op, signal string
		var value []byte
		if err := rows.Scan(&c.Seq, &op, &c.BankID, &c.FirstEntryID, &c.LastEntryID, &signal, &value, &c.At); err != nil {
			return nil, fmt.Errorf("bank changes: %w", err)
		}
		c.Op, c.Signal = vigil.BankChangeOp(op), vigil.SignalType(signal)
		if value != nil {
			c.Value = hex.EncodeToString(value)
		}
		out = append(out, c)
	}
	return out, wrap(rows.Err(), "bank changes")
}

// LastBankChange returns the highest change sequence number.
func (db *DB) LastBankChange(ctx context.Context) (int64, error) {
	var n int64
	err := db.drv.Reader().QueryRow(ctx, `SELECT COALESCE(max(seq), 0) FROM bank_changes`).Scan(&n)
	return n, wrap(err, "last bank change")
}
