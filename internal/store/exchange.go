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

var _ vigil.ExchangeService = (*DB)(nil)

const exchangeColumns = `x.id, x.name, x.kind, x.bank_id, b.name, x.url, x.schedule_s, x.allow_private, x.enabled,
	x.signal_types, x.classifications, x.token <> '', x.username <> '', x.checkpoint, x.created_at, x.next_fetch_at,
	x.last_started_at, x.last_finished_at, x.last_added, x.last_removed, x.last_skipped, x.last_error,
	x.last_lag_max_ms, x.last_lag_mean_ms`

const exchangeFrom = ` FROM exchanges x JOIN banks b ON b.id = x.bank_id`

func scanExchange(row Row) (*vigil.Exchange, error) {
	x := &vigil.Exchange{}
	var schedule, lagMax, lagMean int64
	var signals, classes string
	var hasToken, hasUser bool
	var started, finished *time.Time
	err := row.Scan(&x.ID, &x.Name, &x.Kind, &x.BankID, &x.BankName, &x.URL, &schedule, &x.AllowPrivate, &x.Enabled,
		&signals, &classes, &hasToken, &hasUser, &x.Checkpoint, &x.CreatedAt, &x.NextFetchAt,
		&started, &finished, &x.Last.Added, &x.Last.Removed, &x.Last.Skipped, &x.Last.Error, &lagMax, &lagMean)
	if err != nil {
		return nil, err
	}
	x.Schedule = time.Duration(schedule) * time.Second
	x.Last.LagMax, x.Last.LagMean = time.Duration(lagMax)*time.Millisecond, time.Duration(lagMean)*time.Millisecond
	if started != nil {
		x.Last.StartedAt = *started
	}
	if finished != nil {
		x.Last.FinishedAt = *finished
	}
	for _, s := range strings.Split(signals, ",") {
		if s != "" {
			x.SignalTypes = append(x.SignalTypes, vigil.SignalType(s))
		}
	}
	if classes != "" {
		_ = json.Unmarshal([]byte(classes), &x.Classifications) // written by CreateExchange
	}
	x.Auth = "none"
	if hasToken {
		x.Auth = "token"
	} else if hasUser {
		x.Auth = "basic"
	}
	return x, nil
}

// Sealing contexts of the credential columns (see seal.go).
const (
	sealExchangeToken    = "exchange_token"
	sealExchangeUser     = "exchange_user"
	sealExchangePassword = "exchange_password"
)

// CreateExchange stores a new exchange with its credentials sealed.
func (db *DB) CreateExchange(ctx context.Context, x *vigil.Exchange, c vigil.ExchangeCredentials) error {
	if err := x.Validate(c); err != nil {
		return err
	}
	token, err := db.sealValue(sealExchangeToken, c.Token)
	if err != nil {
		return fmt.Errorf("create exchange: %w", err)
	}
	user, err := db.sealValue(sealExchangeUser, c.User)
	if err != nil {
		return fmt.Errorf("create exchange: %w", err)
	}
	password, err := db.sealValue(sealExchangePassword, c.Password)
	if err != nil {
		return fmt.Errorf("create exchange: %w", err)
	}
	signals := make([]string, len(x.SignalTypes))
	for i, t := range x.SignalTypes {
		signals[i] = string(t)
	}
	classes := ""
	if len(x.Classifications) > 0 {
		b, _ := json.Marshal(x.Classifications)
		classes = string(b)
	}
	now := db.Now()
	if x.CreatedAt.IsZero() {
		x.CreatedAt = now
	}
	x.NextFetchAt, x.Auth = now, c.AuthKind()
	err = db.drv.WithTx(ctx, func(tx Tx) error {
		var one int
		if err := tx.QueryRow(ctx, `SELECT 1 FROM banks WHERE id = $1`, x.BankID).Scan(&one); err != nil {
			return notFound(err, "no bank %d", x.BankID)
		}
		return tx.QueryRow(ctx, `INSERT INTO exchanges (name, kind, bank_id, url, token, username, password, schedule_s,
			allow_private, enabled, signal_types, classifications, created_at, next_fetch_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING id`,
			x.Name, x.Kind, x.BankID, x.URL, token, user, password, int64(x.Schedule/time.Second), x.AllowPrivate,
			x.Enabled, strings.Join(signals, ","), classes, x.CreatedAt, x.NextFetchAt).Scan(&x.ID)
	})
	if db.drv.IsUniqueViolation(err) {
		return vigil.Errorf(vigil.ECONFLICT, "an exchange named %q exists already", x.Name)
	}
	return wrap(err, "create exchange")
}

func (db *DB) findExchange(ctx context.Context, where string, arg any, what string) (*vigil.Exchange, error) {
	x, err := scanExchange(db.drv.Reader().QueryRow(ctx, `SELECT `+exchangeColumns+exchangeFrom+` WHERE `+where, arg))
	if err != nil {
		return nil, wrap(notFound(err, "no exchange %v", what), "find exchange")
	}
	err = db.drv.Reader().QueryRow(ctx, `SELECT count(*) FROM bank_entries WHERE exchange_id = $1`, x.ID).Scan(&x.Entries)
	return x, wrap(err, "count exchange entries")
}

// FindExchangeByName returns an exchange by name, with its entry count.
func (db *DB) FindExchangeByName(ctx context.Context, name string) (*vigil.Exchange, error) {
	return db.findExchange(ctx, `x.name = $1`, name, fmt.Sprintf("named %q", name))
}

// FindExchangeByID returns an exchange by ID, with its entry count.
func (db *DB) FindExchangeByID(ctx context.Context, id int64) (*vigil.Exchange, error) {
	return db.findExchange(ctx, `x.id = $1`, id, fmt.Sprint(id))
}

func (db *DB) queryExchanges(ctx context.Context, where string, args ...any) ([]*vigil.Exchange, error) {
	rows, err := db.drv.Reader().Query(ctx, `SELECT `+exchangeColumns+exchangeFrom+where+` ORDER BY x.name`, args...)
	if err != nil {
		return nil, fmt.Errorf("list exchanges: %w", err)
	}
	defer rows.Close()
	var out []*vigil.Exchange
	for rows.Next() {
		x, err := scanExchange(rows)
		if err != nil {
			return nil, fmt.Errorf("list exchanges: %w", err)
		}
		out = append(out, x)
	}
	return out, wrap(rows.Err(), "list exchanges")
}

// ListExchanges returns every exchange by name (without entry counts).
func (db *DB) ListExchanges(ctx context.Context) ([]*vigil.Exchange, error) {
	return db.queryExchanges(ctx, "")
}

// DueExchanges returns the exchanges whose scheduled fetch is due and
// that no live lease holds.
func (db *DB) DueExchanges(ctx context.Context, now time.Time) ([]*vigil.Exchange, error) {
	return db.queryExchanges(ctx, ` WHERE x.enabled AND x.schedule_s > 0 AND x.next_fetch_at <= $1
		AND (x.lease_owner = '' OR x.lease_until < $1)`, now)
}

// ExchangeCredentials unseals an exchange's credentials.
func (db *DB) ExchangeCredentials(ctx context.Context, id int64) (vigil.ExchangeCredentials, error) {
	var c vigil.ExchangeCredentials
	var token, user, password string
	err := db.drv.Reader().QueryRow(ctx, `SELECT token, username, password FROM exchanges WHERE id = $1`, id).
		Scan(&token, &user, &password)
	if err != nil {
		return c, wrap(notFound(err, "no exchange %d", id), "exchange credentials")
	}
	if c.Token, err = db.openValue(sealExchangeToken, token); err != nil {
		return c, err
	}
	if c.User, err = db.openValue(sealExchangeUser, user); err != nil {
		return c, err
	}
	c.Password, err = db.openValue(sealExchangePassword, password)
	return c, err
}

func (db *DB) updateExchange(ctx context.Context, id int64, what, query string, args ...any) error {
	n, err := db.drvExec(ctx, query, append([]any{id}, args...)...)
	if err == nil && n == 0 {
		err = vigil.Errorf(vigil.ENOTFOUND, "no exchange %d", id)
	}
	return wrap(err, what)
}

func (db *DB) drvExec(ctx context.Context, query string, args ...any) (int64, error) {
	var n int64
	err := db.drv.WithTx(ctx, func(tx Tx) error {
		var err error
		n, err = tx.Exec(ctx, query, args...)
		return err
	})
	return n, err
}

// SetExchangeEnabled switches an exchange's fetches on or off.
func (db *DB) SetExchangeEnabled(ctx context.Context, id int64, enabled bool) error {
	return db.updateExchange(ctx, id, "enable exchange", `UPDATE exchanges SET enabled = $2 WHERE id = $1`, enabled)
}

// RemoveExchange deletes an exchange; its entries keep their upstream id
// and exchange id, which no longer names one.
func (db *DB) RemoveExchange(ctx context.Context, id int64) error {
	return db.updateExchange(ctx, id, "remove exchange", `DELETE FROM exchanges WHERE id = $1`)
}

// AcquireExchangeLease takes or renews the fetch lease.
func (db *DB) AcquireExchangeLease(ctx context.Context, id int64, owner string, ttl time.Duration) error {
	if owner == "" {
		return vigil.Errorf(vigil.EINVALID, "a lease needs an owner")
	}
	now := db.Now()
	n, err := db.drvExec(ctx, `UPDATE exchanges SET lease_owner = $2, lease_until = $3
		WHERE id = $1 AND (lease_owner = '' OR lease_owner = $2 OR lease_until < $4)`, id, owner, now.Add(ttl), now)
	if err != nil {
		return fmt.Errorf("exchange lease: %w", err)
	}
	if n == 1 {
		return nil
	}
	if _, err := db.FindExchangeByID(ctx, id); err != nil {
		return err
	}
	return vigil.Errorf(vigil.ECONFLICT, "exchange %d is being fetched by another process", id)
}

// ReleaseExchangeLease gives the lease up if owner holds it.
func (db *DB) ReleaseExchangeLease(ctx context.Context, id int64, owner string) error {
	_, err := db.drvExec(ctx, `UPDATE exchanges SET lease_owner = '' WHERE id = $1 AND lease_owner = $2`, id, owner)
	return wrap(err, "release exchange lease")
}

// holdsLease checks, inside tx, that owner holds the exchange's lease, and
// locks its row until commit. It returns the exchange's bank and round.
func (db *DB) holdsLease(ctx context.Context, tx Tx, id int64, owner string) (bankID, round int64, err error) {
	var holder string
	err = tx.QueryRow(ctx, `SELECT bank_id, list_round, lease_owner FROM exchanges WHERE id = $1`+db.drv.ForUpdate(), id).
		Scan(&bankID, &round, &holder)
	if err != nil {
		return 0, 0, notFound(err, "no exchange %d", id)
	}
	if holder != owner {
		return 0, 0, vigil.Errorf(vigil.ECONFLICT, "exchange %d: the fetch lease was lost to another process", id)
	}
	return bankID, round, nil
}

// StartExchangeFetch records a fetch's start. A fetch that resumes one
// that never finished keeps counting where it stopped.
func (db *DB) StartExchangeFetch(ctx context.Context, id int64, owner string) error {
	return wrap(db.drv.WithTx(ctx, func(tx Tx) error {
		if _, _, err := db.holdsLease(ctx, tx, id, owner); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `UPDATE exchanges SET last_started_at = $2, last_finished_at = NULL, last_error = '',
			last_added = CASE WHEN last_finished_at IS NULL AND last_started_at IS NOT NULL THEN last_added ELSE 0 END,
			last_removed = CASE WHEN last_finished_at IS NULL AND last_started_at IS NOT NULL THEN last_removed ELSE 0 END,
			last_skipped = CASE WHEN last_finished_at IS NULL AND last_started_at IS NOT NULL THEN last_skipped ELSE 0 END
			WHERE id = $1`, id, db.Now())
		return err
	}), "start exchange fetch")
}

// FinishExchangeFetch records the end of a fetch and releases the lease.
func (db *DB) FinishExchangeFetch(ctx context.Context, id int64, owner string, f vigil.ExchangeFetch) error {
	now := db.Now()
	if len(f.Error) > 2000 {
		f.Error = f.Error[:2000]
	}
	return wrap(db.drv.WithTx(ctx, func(tx Tx) error {
		if _, _, err := db.holdsLease(ctx, tx, id, owner); err != nil {
			return err
		}
		// The next fetch is due a schedule after this one ended.
		var schedule int64
		if err := tx.QueryRow(ctx, `SELECT schedule_s FROM exchanges WHERE id = $1`, id).Scan(&schedule); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `UPDATE exchanges SET last_finished_at = $2, last_error = $3,
			last_skipped = last_skipped + $4, last_lag_max_ms = $5, last_lag_mean_ms = $6, lease_owner = '',
			next_fetch_at = $7 WHERE id = $1`,
			id, now, f.Error, f.Skipped, f.LagMax.Milliseconds(), f.LagMean.Milliseconds(), now.Add(nextFetchIn(schedule, f.Error != "")))
		return err
	}), "finish exchange fetch")
}

// exchangeRetryAfter is the most a failed fetch waits for the next try: a
// transient failure must not cost a day's list.
const exchangeRetryAfter = 15 * time.Minute

// nextFetchIn is the wait until an exchange's next fetch.
func nextFetchIn(scheduleSeconds int64, failed bool) time.Duration {
	d := time.Duration(scheduleSeconds) * time.Second
	if failed {
		d = min(d, exchangeRetryAfter)
	}
	return d
}

// StoreExchangePage stores a page of a fetch and its checkpoint at once.
func (db *DB) StoreExchangePage(ctx context.Context, id int64, owner string, p *vigil.ExchangePage) (vigil.ExchangePageResult, error) {
	var res vigil.ExchangePageResult
	now := db.Now()
	// One row per (signal, value): the last delivery wins (an upsert may
	// not touch a row twice in one statement).
	entries := make([]*vigil.BankEntry, 0, len(p.Entries))
	seen := make(map[string]int, len(p.Entries))
	for _, e := range p.Entries {
		if err := e.Validate(nil); err != nil {
			return res, err
		}
		e.ID, e.AddedAt, e.FetchedAt = 0, now, now
		k := string(e.Signal) + ":" + e.Value
		if i, ok := seen[k]; ok {
			entries[i] = e
			continue
		}
		seen[k] = len(entries)
		entries = append(entries, e)
	}
	raw := make([][]byte, len(entries))
	for i, e := range entries {
		raw[i], _ = hex.DecodeString(e.Value) // valid: Validate normalised it
	}
	if len(p.Checkpoint) > 8192 {
		return res, vigil.Errorf(vigil.EINVALID, "exchange checkpoint longer than 8192 bytes")
	}
	err := db.drv.WithTx(ctx, func(tx Tx) error {
		res = vigil.ExchangePageResult{}
		if err := db.lockBankChanges(ctx, tx); err != nil {
			return err
		}
		bankID, round, err := db.holdsLease(ctx, tx, id, owner)
		if err != nil {
			return err
		}
		src := entrySource{exchangeID: id, fetchedAt: &now}
		if p.Replace {
			if p.Restart {
				round++
				if _, err := tx.Exec(ctx, `UPDATE exchanges SET list_round = $2 WHERE id = $1`, id, round); err != nil {
					return err
				}
			}
			src.round = round
		}
		if len(entries) > 0 {
			if err := db.addExchangeEntries(ctx, tx, bankID, src, entries, raw, now, &res); err != nil {
				return err
			}
		}
		for _, d := range p.Deletions {
			n, err := db.deleteExchangeEntries(ctx, tx, id, bankID, d, now)
			if err != nil {
				return err
			}
			res.Removed += n
		}
		if p.Replace && p.Final {
			n, err := db.removeEntriesWhere(ctx, tx, now, `exchange_id = $1 AND seen_round < $2`, id, round)
			if err != nil {
				return err
			}
			res.Removed += n
		}
		_, err = tx.Exec(ctx, `UPDATE exchanges SET checkpoint = $2, last_added = last_added + $3,
			last_removed = last_removed + $4 WHERE id = $1`, id, p.Checkpoint, res.Added, res.Removed)
		return err
	})
	if err != nil {
		for _, e := range entries {
			e.ID = 0
		}
		return vigil.ExchangePageResult{}, wrap(err, "store exchange page")
	}
	return res, nil
}

// addExchangeEntries inserts a page's entries; those new to the bank get
// their ID and go in the change feed.
func (db *DB) addExchangeEntries(ctx context.Context, tx Tx, bankID int64, src entrySource, entries []*vigil.BankEntry,
	raw [][]byte, now time.Time, res *vigil.ExchangePageResult) error {
	// Writers of bank_entries hold the change-feed lock, so every ID this
	// transaction draws is above the highest ID now: rows returned with a
	// higher one are new, the others were delivered again.
	var before int64
	if err := tx.QueryRow(ctx, `SELECT COALESCE(max(id), 0) FROM bank_entries`).Scan(&before); err != nil {
		return err
	}
	byKey := make(map[string]*vigil.BankEntry, len(entries))
	for i, e := range entries {
		byKey[string(e.Signal)+":"+string(raw[i])] = e
	}
	var first, last int64
	err := db.insertEntriesFrom(ctx, tx, bankID, src, entries, raw, func(id int64, signal string, value []byte) {
		if id <= before {
			return
		}
		if e := byKey[signal+":"+string(value)]; e != nil {
			e.ID = id
		}
		if first == 0 || id < first {
			first = id
		}
		last = max(last, id)
		res.Added++
	})
	if err != nil || res.Added == 0 {
		return err
	}
	if err := db.insertVideoFrames(ctx, tx, entries); err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `INSERT INTO bank_changes (op, bank_id, first_entry_id, last_entry_id, changed_at)
		VALUES ($1, $2, $3, $4, $5)`, string(vigil.ChangeAdd), bankID, first, last, now)
	return err
}

// deleteExchangeEntries applies one upstream deletion; an entry already
// gone is no error (a deletion may be delivered again after a restart).
func (db *DB) deleteExchangeEntries(ctx context.Context, tx Tx, exchangeID, bankID int64, d vigil.ExchangeDeletion,
	now time.Time) (int, error) {
	if d.UpstreamID != "" {
		return db.removeEntriesWhere(ctx, tx, now, `exchange_id = $1 AND upstream_id = $2`, exchangeID, d.UpstreamID)
	}
	value, err := vigil.NormalizeSignalValue(d.Signal, d.Value)
	if err != nil {
		return 0, err
	}
	raw, _ := hex.DecodeString(value)
	return db.removeEntriesWhere(ctx, tx, now, `exchange_id = $1 AND bank_id = $2 AND signal = $3 AND value = $4`,
		exchangeID, bankID, string(d.Signal), raw)
}

// removeEntriesWhere deletes the entries the condition selects and records
// each in the change feed, so that match indexes drop them. The caller
// holds the change-feed lock.
func (db *DB) removeEntriesWhere(ctx context.Context, tx Tx, now time.Time, cond string, args ...any) (int, error) {
	type gone struct {
		id, bankID int64
		signal     string
		value      []byte
	}
	rows, err := tx.Query(ctx, `DELETE FROM bank_entries WHERE `+cond+` RETURNING id, bank_id, signal, value`, args...)
	if err != nil {
		return 0, err
	}
	var all []gone
	for rows.Next() {
		var g gone
		if err := rows.Scan(&g.id, &g.bankID, &g.signal, &g.value); err != nil {
			rows.Close()
			return 0, err
		}
		all = append(all, g)
	}
	err = rows.Err()
	rows.Close()
	if err != nil {
		return 0, err
	}
	for _, g := range all {
		if vigil.SignalType(g.signal) == vigil.SignalVPDQ {
			if _, err := tx.Exec(ctx, `DELETE FROM bank_video_frames WHERE entry_id = $1`, g.id); err != nil {
				return 0, err
			}
		}
		if _, err := tx.Exec(ctx, `INSERT INTO bank_changes (op, bank_id, first_entry_id, last_entry_id, signal, value, changed_at)
			VALUES ($1, $2, $3, $3, $4, $5, $6)`, string(vigil.ChangeRemove), g.bankID, g.id, g.signal, g.value, now); err != nil {
			return 0, err
		}
	}
	return len(all), nil
}
