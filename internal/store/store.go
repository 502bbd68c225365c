// Package store implements Vigil's domain services once, over SQL that both
// SQLite and PostgreSQL accept ($n placeholders, ON CONFLICT, RETURNING).
// The dialect packages (internal/sqlite, internal/postgres) supply a Driver:
// connections, pragmas, migrations, the River client, and the few
// conversions each database needs. Where the SQL must differ (row locks,
// advisory locks, array parameters, group commit), a Driver method says
// how; the store never asks which database it is on.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/vigil-hotline/vigil"
)

// Querier runs SQL. Times are passed and scanned as time.Time (also
// *time.Time and **time.Time for nullable columns) whatever the database
// stores; a missing row is sql.ErrNoRows on every driver.
type Querier interface {
	Exec(ctx context.Context, query string, args ...any) (int64, error)
	Query(ctx context.Context, query string, args ...any) (Rows, error)
	QueryRow(ctx context.Context, query string, args ...any) Row
}

// Rows is a result set.
type Rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close() error
}

// Row is a single-row result.
type Row interface {
	Scan(dest ...any) error
}

// Tx is a write transaction that can also enqueue River jobs, so that state
// and the work it calls for commit together.
type Tx interface {
	Querier
	InsertJobs(ctx context.Context, jobs []river.InsertManyParams) error
}

// Driver is what a database adapter provides.
type Driver interface {
	// Dialect is "sqlite" or "postgres", for logs and reports only: the
	// store asks the methods below, never the name.
	Dialect() string
	// ForUpdate is the clause that locks a row read inside a write
	// transaction until it commits ("" where writers are serialised).
	ForUpdate() string
	// SkipLocked is the clause that locks the rows a claim picks from
	// alias and passes over rows other transactions hold ("" where
	// writers are serialised).
	SkipLocked(alias string) string
	// LockKey takes a lock named by key for the rest of tx, serialising
	// transactions that take the same key (a no-op where writers are
	// serialised anyway).
	LockKey(ctx context.Context, tx Tx, key int64) error
	// ArrayParams reports whether queries take arrays as parameters
	// (then a batch insert is one statement over unnest).
	ArrayParams() bool
	// GroupCommit reports whether small writes should share a
	// transaction: worth it with one writer and a sync per commit.
	GroupCommit() bool
	// Reader runs read-only queries (SQLite: a pool of read connections
	// beside the single writer).
	Reader() Querier
	// WithTx runs fn in a write transaction, committing when it returns nil.
	WithTx(ctx context.Context, fn func(Tx) error) error
	// ListJobs lists River jobs.
	ListJobs(ctx context.Context, params *river.JobListParams) ([]*rivertype.JobRow, error)
	// IsUniqueViolation reports whether err is a unique-constraint failure.
	IsUniqueViolation(err error) bool
	// StartWorkers starts a River client that works the given queues; stop
	// lets running jobs finish (until its context ends) and stops it.
	StartWorkers(ctx context.Context, cfg WorkerConfig) (stop func(context.Context) error, err error)
	Close() error
}

// WorkerConfig configures the River client that works jobs.
type WorkerConfig struct {
	Workers *river.Workers
	Queues  map[string]river.QueueConfig
	// RescueAfter is how long a job may run before River takes it for lost
	// (its worker killed) and runs it again. Tasks are idempotent, so a
	// short value only costs repeated work.
	RescueAfter time.Duration
	JobTimeout  time.Duration
	// PollInterval is how often idle workers look for jobs.
	PollInterval time.Duration
	Logger       *slog.Logger
}

// RiverConfig turns a WorkerConfig into River's.
func (c WorkerConfig) RiverConfig() *river.Config {
	rc := &river.Config{
		Workers: c.Workers, Queues: c.Queues, Logger: c.Logger,
		RescueStuckJobsAfter: c.RescueAfter, JobTimeout: c.JobTimeout, FetchPollInterval: c.PollInterval,
	}
	// River fetches at most a queue's free workers per fetch and waits
	// FetchCooldown (100 ms by default) between fetches, which caps a
	// queue of quick jobs at MaxWorkers×10 a second. Vigil's jobs are
	// short, so fetch far more often.
	rc.FetchCooldown = 5 * time.Millisecond
	if c.PollInterval > 0 && c.PollInterval < rc.FetchCooldown {
		rc.FetchCooldown = c.PollInterval
	}
	if rc.Logger == nil {
		rc.Logger = slog.New(slog.DiscardHandler)
	}
	return rc
}

// DB implements the domain services on a Driver.
type DB struct {
	drv Driver
	// Now is the clock; tests replace it.
	Now func() time.Time
	// batch is group commit for the busiest writes (report intake, the
	// crawl pipeline), on SQLite only.
	batch *writeBatcher
	// audit holds the secret key the audit chain is keyed with (see
	// SetAuditKey); never stored in the database.
	audit auditKeying
	// seal encrypts secrets at rest (see seal.go).
	seal *sealer
}

// New returns the services on drv.
func New(drv Driver) *DB {
	db := &DB{drv: drv, Now: func() time.Time { return time.Now().UTC() }}
	if drv.GroupCommit() {
		db.batch = newWriteBatcher(drv)
	}
	return db
}

// Driver returns the underlying driver.
func (db *DB) Driver() Driver { return db.drv }

// Close stops the write batcher, then closes the driver.
func (db *DB) Close() error {
	if db.batch != nil {
		db.batch.close()
	}
	return db.drv.Close()
}

// Compile-time checks that DB implements the domain services.
var (
	_ vigil.ReportService       = (*DB)(nil)
	_ vigil.UserService         = (*DB)(nil)
	_ vigil.APIKeyService       = (*DB)(nil)
	_ vigil.JobService          = (*DB)(nil)
	_ vigil.MediaService        = (*DB)(nil)
	_ vigil.CrawlService        = (*DB)(nil)
	_ vigil.TakedownService     = (*DB)(nil)
	_ vigil.TakedownWorkService = (*DB)(nil)
)

// notFound turns sql.ErrNoRows into a domain not-found error.
func notFound(err error, format string, args ...any) error {
	if errors.Is(err, sql.ErrNoRows) {
		return vigil.Errorf(vigil.ENOTFOUND, format, args...)
	}
	return err
}

// wrap adds context to unexpected errors, leaving domain errors as they are.
func wrap(err error, what string) error {
	var e *vigil.Error
	if err == nil || errors.As(err, &e) {
		return err
	}
	return fmt.Errorf("%s: %w", what, err)
}

// ignoreNoRows treats "no row" as success, for INSERT … ON CONFLICT DO
// NOTHING RETURNING, which returns no row on a conflict.
func ignoreNoRows(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	return err
}
