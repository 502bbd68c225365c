// Package sqlite is Vigil's embedded store: SQLite (modernc.org/sqlite, no
// cgo) in the data folder, in WAL mode, with one writer connection and a pool
// of readers beside it, and River's SQLite driver for the job queue.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"runtime"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivertype"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/vigil-hotline/vigil/internal/store"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Config says where the database is.
type Config struct {
	// Path is the database file; it is created when missing.
	Path   string
	Logger *slog.Logger
	// ReadConns is the size of the read pool (default: number of CPUs, at
	// least 2).
	ReadConns int
}

// Driver implements store.Driver on SQLite.
type Driver struct {
	write  *sql.DB
	read   *sql.DB
	river  *river.Client[*sql.Tx]
	logger *slog.Logger
	// Prepared statements, so that hot queries are parsed once: SQLite's
	// parser is a good part of the cost of a short query.
	writeStmts *stmtCache
	readStmts  *stmtCache
}

// Open opens (creating if needed) the database. Call Migrate before use.
func Open(cfg Config) (*Driver, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.ReadConns <= 0 {
		cfg.ReadConns = max(2, runtime.NumCPU())
	}
	// synchronous=FULL: a report acknowledged to the reporter survives a
	// power cut, not only a crash of the process.
	// secure_delete(FAST): overwritten and deleted content is zeroed
	// where it costs no extra I/O, so that a sealed-on-upgrade secret or a
	// purged row does not linger in the file.
	common := []string{"journal_mode(WAL)", "synchronous(FULL)", "busy_timeout(10000)",
		"foreign_keys(1)", "cache_size(-32000)", "temp_store(MEMORY)", "secure_delete(FAST)"}
	write, err := sql.Open("sqlite", dsn(cfg.Path, common, "_txlock=immediate"))
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", cfg.Path, err)
	}
	// One writer: SQLite serialises writes anyway, and a single connection
	// turns lock contention into queueing instead of SQLITE_BUSY errors.
	write.SetMaxOpenConns(1)
	write.SetConnMaxIdleTime(0)
	if err := write.Ping(); err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", cfg.Path, errors.Join(err, write.Close()))
	}
	read, err := sql.Open("sqlite", dsn(cfg.Path, append(common, "query_only(1)")))
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", cfg.Path, errors.Join(err, write.Close()))
	}
	read.SetMaxOpenConns(cfg.ReadConns)
	read.SetMaxIdleConns(cfg.ReadConns)
	client, err := river.NewClient(riversqlite.New(write), &river.Config{Logger: cfg.Logger})
	if err != nil {
		return nil, fmt.Errorf("sqlite: river client: %w", errors.Join(err, write.Close(), read.Close()))
	}
	return &Driver{write: write, read: read, river: client, logger: cfg.Logger,
		writeStmts: newStmtCache(write), readStmts: newStmtCache(read)}, nil
}

func dsn(path string, pragmas []string, extra ...string) string {
	q := url.Values{}
	for _, p := range pragmas {
		q.Add("_pragma", p)
	}
	s := "file:" + path + "?" + q.Encode()
	for _, e := range extra {
		s += "&" + e
	}
	return s
}

// Migrate brings Vigil's schema and River's up to date.
func (d *Driver) Migrate(ctx context.Context) error {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return err
	}
	if err := store.MigrateWithRiver(ctx, d, sub, riversqlite.New(d.write), d.logger); err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	return nil
}

// Dialect implements store.Driver.
func (d *Driver) Dialect() string { return "sqlite" }

// ForUpdate implements store.Driver: the one writer connection (and
// _txlock=immediate) serialises write transactions, so rows need no lock.
func (d *Driver) ForUpdate() string { return "" }

// SkipLocked implements store.Driver; see ForUpdate.
func (d *Driver) SkipLocked(string) string { return "" }

// LockKey implements store.Driver; see ForUpdate.
func (d *Driver) LockKey(context.Context, store.Tx, int64) error { return nil }

// ArrayParams implements store.Driver: SQLite has no array type.
func (d *Driver) ArrayParams() bool { return false }

// GroupCommit implements store.Driver: one writer and a sync per commit
// make sharing a transaction among small writes the big win.
func (d *Driver) GroupCommit() bool { return true }

// Reader implements store.Driver.
func (d *Driver) Reader() store.Querier { return querier{r: d.read, stmts: d.readStmts} }

// WithTx implements store.Driver.
func (d *Driver) WithTx(ctx context.Context, fn func(store.Tx) error) error {
	tx, err := d.write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	t := &txn{querier: querier{r: tx, stmts: d.writeStmts, tx: tx}, tx: tx, river: d.river}
	if err := fn(t); err != nil {
		_ = tx.Rollback()
		return err
	}
	err = tx.Commit()
	// Statements first seen in the transaction are prepared now that the
	// single writer connection is free again.
	d.writeStmts.prepareMissed(ctx)
	return err
}

// ListJobs implements store.Driver.
func (d *Driver) ListJobs(ctx context.Context, params *river.JobListParams) ([]*rivertype.JobRow, error) {
	return store.ListRiverJobs(ctx, d.river, params)
}

// StartWorkers implements store.Driver.
func (d *Driver) StartWorkers(ctx context.Context, cfg store.WorkerConfig) (func(context.Context) error, error) {
	return store.StartRiver(ctx, riversqlite.New(d.write), cfg)
}

// IsUniqueViolation implements store.Driver.
func (d *Driver) IsUniqueViolation(err error) bool {
	var e *sqlite.Error
	if !errors.As(err, &e) {
		return false
	}
	c := e.Code()
	return c == sqlite3.SQLITE_CONSTRAINT_UNIQUE || c == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
}

// Close implements store.Driver.
func (d *Driver) Close() error {
	d.writeStmts.close()
	d.readStmts.close()
	return errors.Join(d.read.Close(), d.write.Close())
}

type sqlRunner interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// querier adapts database/sql to store.Querier, storing times as Unix
// microseconds: they sort and compare as numbers, which SQLite's text
// time formats do not reliably do.
type querier struct {
	r     sqlRunner
	stmts *stmtCache
	tx    *sql.Tx // set inside a write transaction
}

// runner returns what runs query: a cached prepared statement when there
// is one (bound to the transaction inside one), else the plain runner.
// Queries without arguments (migrations) are never prepared: they may hold
// several statements.
func (q querier) runner(ctx context.Context, query string, nargs int) sqlRunner {
	if nargs == 0 || q.stmts == nil {
		return q.r
	}
	st := q.stmts.get(ctx, query, q.tx == nil)
	if st == nil {
		return q.r
	}
	if q.tx != nil {
		st = q.tx.StmtContext(ctx, st)
	}
	return stmtRunner{st}
}

func (q querier) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	res, err := q.runner(ctx, query, len(args)).ExecContext(ctx, query, convertArgs(args)...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (q querier) Query(ctx context.Context, query string, args ...any) (store.Rows, error) {
	rows, err := q.runner(ctx, query, len(args)).QueryContext(ctx, query, convertArgs(args)...)
	if err != nil {
		return nil, err
	}
	return timeRows{rows}, nil
}

func (q querier) QueryRow(ctx context.Context, query string, args ...any) store.Row {
	return timeRow{q.runner(ctx, query, len(args)).QueryRowContext(ctx, query, convertArgs(args)...)}
}

type txn struct {
	querier
	tx    *sql.Tx
	river *river.Client[*sql.Tx]
}

func (t *txn) InsertJobs(ctx context.Context, jobs []river.InsertManyParams) error {
	_, err := t.river.InsertManyTx(ctx, t.tx, jobs)
	return err
}

func convertArgs(args []any) []any {
	out := args
	for i, a := range args {
		var v any
		switch t := a.(type) {
		case time.Time:
			v = t.UnixMicro()
		case *time.Time:
			if t != nil {
				v = t.UnixMicro()
			}
		default:
			continue
		}
		if &out[0] == &args[0] {
			out = append([]any(nil), args...)
		}
		out[i] = v
	}
	return out
}

type timeRows struct{ *sql.Rows }

func (r timeRows) Scan(dest ...any) error { return scanTimes(r.Rows.Scan, dest) }

type timeRow struct{ *sql.Row }

func (r timeRow) Scan(dest ...any) error { return scanTimes(r.Row.Scan, dest) }

// scanTimes scans Unix-microsecond columns into *time.Time and **time.Time.
func scanTimes(scan func(...any) error, dest []any) error {
	var after []func()
	out := dest
	for i, d := range dest {
		switch p := d.(type) {
		case *time.Time:
			var n int64
			after = append(after, func() { *p = time.UnixMicro(n).UTC() })
			out = replaced(out, dest, i, &n)
		case **time.Time:
			var n sql.NullInt64
			after = append(after, func() {
				*p = nil
				if n.Valid {
					t := time.UnixMicro(n.Int64).UTC()
					*p = &t
				}
			})
			out = replaced(out, dest, i, &n)
		}
	}
	if err := scan(out...); err != nil {
		return err
	}
	for _, f := range after {
		f()
	}
	return nil
}

func replaced(out, orig []any, i int, v any) []any {
	if len(out) > 0 && &out[0] == &orig[0] {
		out = append([]any(nil), orig...)
	}
	out[i] = v
	return out
}

// Checkpoint copies the write-ahead log into the database and truncates
// it, so that what was overwritten does not linger in the log.
func (d *Driver) Checkpoint(ctx context.Context) error {
	if _, err := d.write.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		return fmt.Errorf("sqlite: checkpoint: %w", err)
	}
	return nil
}
