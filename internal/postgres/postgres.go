// Package postgres is Vigil's store for scale-out deployments: PostgreSQL
// through pgx, with River's pgx driver for the job queue.
package postgres

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"

	"github.com/vigil-hotline/vigil/internal/store"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Config says which database to use.
type Config struct {
	// URL is a postgres:// connection string. Extra query parameters such
	// as search_path are passed to the server as run-time parameters.
	URL      string
	Logger   *slog.Logger
	MaxConns int32
}

// Driver implements store.Driver on PostgreSQL.
type Driver struct {
	pool   *pgxpool.Pool
	river  *river.Client[pgx.Tx]
	logger *slog.Logger
}

// Open connects to the database. Call Migrate before use.
func Open(ctx context.Context, cfg Config) (*Driver, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	pc, err := pgxpool.ParseConfig(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if cfg.MaxConns > 0 {
		pc.MaxConns = cfg.MaxConns
	}
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: %w", err)
	}
	client, err := river.NewClient(riverpgxv5.New(pool), &river.Config{Logger: cfg.Logger})
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: river client: %w", err)
	}
	return &Driver{pool: pool, river: client, logger: cfg.Logger}, nil
}

// Migrate brings Vigil's schema and River's up to date.
func (d *Driver) Migrate(ctx context.Context) error {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return err
	}
	// Several processes may start at once; one migrates at a time.
	conn, err := d.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	defer conn.Release()
	const lockKey = 0x76696769 // "vigi"
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, lockKey); err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	defer func() {
		// A lock that cannot be released must not go back to the pool
		// with its connection: closing the connection releases it.
		if _, err := conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, lockKey); err != nil {
			d.logger.Warn("postgres: migrate: unlock failed; closing the connection", "err", err)
			_ = conn.Conn().Close(context.WithoutCancel(ctx)) // the lock goes with the session
		}
	}()
	if err := store.MigrateWithRiver(ctx, d, sub, riverpgxv5.New(d.pool), d.logger); err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	return nil
}

// Dialect implements store.Driver.
func (d *Driver) Dialect() string { return "postgres" }

// ForUpdate implements store.Driver.
func (d *Driver) ForUpdate() string { return " FOR UPDATE" }

// SkipLocked implements store.Driver.
func (d *Driver) SkipLocked(alias string) string { return " FOR UPDATE OF " + alias + " SKIP LOCKED" }

// LockKey implements store.Driver with a transaction-scoped advisory lock:
// released at commit or rollback, so it cannot leak.
func (d *Driver) LockKey(ctx context.Context, tx store.Tx, key int64) error {
	_, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, key)
	return err
}

// ArrayParams implements store.Driver: pgx sends Go slices as arrays.
func (d *Driver) ArrayParams() bool { return true }

// GroupCommit implements store.Driver: with many writers and a pool,
// transactions run side by side; batching them would only serialise them.
func (d *Driver) GroupCommit() bool { return false }

// Reader implements store.Driver.
func (d *Driver) Reader() store.Querier { return querier{d.pool} }

// WithTx implements store.Driver.
func (d *Driver) WithTx(ctx context.Context, fn func(store.Tx) error) error {
	return pgx.BeginFunc(ctx, d.pool, func(tx pgx.Tx) error {
		return fn(&txn{querier: querier{tx}, tx: tx, river: d.river})
	})
}

// ListJobs implements store.Driver.
func (d *Driver) ListJobs(ctx context.Context, params *river.JobListParams) ([]*rivertype.JobRow, error) {
	return store.ListRiverJobs(ctx, d.river, params)
}

// StartWorkers implements store.Driver.
func (d *Driver) StartWorkers(ctx context.Context, cfg store.WorkerConfig) (func(context.Context) error, error) {
	return store.StartRiver(ctx, riverpgxv5.New(d.pool), cfg)
}

// IsUniqueViolation implements store.Driver.
func (d *Driver) IsUniqueViolation(err error) bool {
	var e *pgconn.PgError
	return errors.As(err, &e) && e.Code == "23505"
}

// Close implements store.Driver.
func (d *Driver) Close() error {
	d.pool.Close()
	return nil
}

type pgRunner interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// querier adapts pgx to store.Querier, reporting a missing row as
// sql.ErrNoRows like the SQLite driver.
type querier struct{ r pgRunner }

func (q querier) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	tag, err := q.r.Exec(ctx, query, args...)
	return tag.RowsAffected(), err
}

func (q querier) Query(ctx context.Context, query string, args ...any) (store.Rows, error) {
	rows, err := q.r.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return pgRows{rows}, nil
}

func (q querier) QueryRow(ctx context.Context, query string, args ...any) store.Row {
	return pgRow{q.r.QueryRow(ctx, query, args...)}
}

type pgRows struct{ pgx.Rows }

func (r pgRows) Close() error { r.Rows.Close(); return r.Rows.Err() }

type pgRow struct{ pgx.Row }

func (r pgRow) Scan(dest ...any) error {
	err := r.Row.Scan(dest...)
	if errors.Is(err, pgx.ErrNoRows) {
		return sql.ErrNoRows
	}
	return err
}

type txn struct {
	querier
	tx    pgx.Tx
	river *river.Client[pgx.Tx]
}

func (t *txn) InsertJobs(ctx context.Context, jobs []river.InsertManyParams) error {
	_, err := t.river.InsertManyTx(ctx, t.tx, jobs)
	return err
}
