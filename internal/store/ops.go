package store

import (
	"context"
	"fmt"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/vigil-hotline/vigil"
)

// OpsGauges reads the figures of the metrics endpoint. Each is one grouped
// count; on a large deployment the fetch count scans its table, so scrape
// every 15 s or more, not every second.
func (db *DB) OpsGauges(ctx context.Context) (*vigil.OpsGauges, error) {
	g := &vigil.OpsGauges{OldestAvailable: map[string]time.Time{}, Messages: map[string]int64{}}
	r := db.drv.Reader()
	rows, err := r.Query(ctx, `SELECT kind, state, count(*) FROM river_job GROUP BY kind, state ORDER BY kind, state`)
	if err != nil {
		return nil, fmt.Errorf("ops gauges: jobs: %w", err)
	}
	for rows.Next() {
		var c vigil.JobCount
		if err := rows.Scan(&c.Kind, &c.State, &c.Count); err != nil {
			rows.Close()
			return nil, fmt.Errorf("ops gauges: jobs: %w", err)
		}
		g.Jobs = append(g.Jobs, c)
	}
	if err := closeRows(rows); err != nil {
		return nil, fmt.Errorf("ops gauges: jobs: %w", err)
	}
	for _, c := range g.Jobs {
		if c.State != string(rivertype.JobStateAvailable) || c.Count == 0 {
			continue
		}
		params := river.NewJobListParams().Kinds(c.Kind).States(rivertype.JobStateAvailable).
			OrderBy(river.JobListOrderByScheduledAt, river.SortOrderAsc).First(1)
		jobs, err := db.drv.ListJobs(ctx, params)
		if err != nil {
			return nil, fmt.Errorf("ops gauges: oldest job: %w", err)
		}
		if len(jobs) > 0 {
			g.OldestAvailable[c.Kind] = jobs[0].ScheduledAt
		}
	}
	rows, err = r.Query(ctx, `SELECT class, reason, count(*) FROM fetches GROUP BY class, reason ORDER BY class, reason`)
	if err != nil {
		return nil, fmt.Errorf("ops gauges: fetches: %w", err)
	}
	for rows.Next() {
		var c vigil.FetchCount
		if err := rows.Scan(&c.Class, &c.Reason, &c.Count); err != nil {
			rows.Close()
			return nil, fmt.Errorf("ops gauges: fetches: %w", err)
		}
		g.Fetches = append(g.Fetches, c)
	}
	if err := closeRows(rows); err != nil {
		return nil, fmt.Errorf("ops gauges: fetches: %w", err)
	}
	rows, err = r.Query(ctx, `SELECT state, count(*) FROM outbound GROUP BY state`)
	if err != nil {
		return nil, fmt.Errorf("ops gauges: messages: %w", err)
	}
	for rows.Next() {
		var state string
		var n int64
		if err := rows.Scan(&state, &n); err != nil {
			rows.Close()
			return nil, fmt.Errorf("ops gauges: messages: %w", err)
		}
		g.Messages[state] = n
	}
	if err := closeRows(rows); err != nil {
		return nil, fmt.Errorf("ops gauges: messages: %w", err)
	}
	if g.Queue, err = db.QueueStats(ctx); err != nil {
		return nil, err
	}
	if g.MigrationVersion, err = db.MigrationVersion(ctx); err != nil {
		return nil, err
	}
	return g, nil
}

// MigrationVersion is the newest schema migration applied (0: none).
func (db *DB) MigrationVersion(ctx context.Context) (int, error) {
	var v int
	err := db.drv.Reader().QueryRow(ctx, `SELECT COALESCE(max(version), 0) FROM vigil_migrations`).Scan(&v)
	return v, wrap(err, "migration version")
}

// Ping reports whether the database answers.
func (db *DB) Ping(ctx context.Context) error {
	var one int
	return wrap(db.drv.Reader().QueryRow(ctx, `SELECT 1`).Scan(&one), "ping")
}

func closeRows(rows Rows) error {
	err := rows.Err()
	if cerr := rows.Close(); err == nil {
		err = cerr
	}
	return err
}
