package store

import (
	"context"
	"fmt"
	"io/fs"
	"log/slog"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"
)

// MigrateWithRiver brings Vigil's schema (migrations) and River's, through
// a dialect's River driver, up to date; the drivers' Migrate call it.
func MigrateWithRiver[TTx any](ctx context.Context, drv Driver, migrations fs.FS, rdrv riverdriver.Driver[TTx], logger *slog.Logger) error {
	if err := Migrate(ctx, drv, migrations); err != nil {
		return err
	}
	m, err := rivermigrate.New(rdrv, &rivermigrate.Config{Logger: logger})
	if err != nil {
		return fmt.Errorf("river migrations: %w", err)
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("river migrations: %w", err)
	}
	return nil
}

// StartRiver starts a River client working cfg's queues on a dialect's
// River driver; the drivers' StartWorkers call it.
func StartRiver[TTx any](ctx context.Context, drv riverdriver.Driver[TTx], cfg WorkerConfig) (func(context.Context) error, error) {
	client, err := river.NewClient(drv, cfg.RiverConfig())
	if err != nil {
		return nil, fmt.Errorf("river client: %w", err)
	}
	if err := client.Start(ctx); err != nil {
		return nil, fmt.Errorf("river start: %w", err)
	}
	return client.Stop, nil
}

// ListRiverJobs lists jobs through a dialect's River client; the drivers'
// ListJobs call it.
func ListRiverJobs[TTx any](ctx context.Context, client *river.Client[TTx], params *river.JobListParams) ([]*rivertype.JobRow, error) {
	res, err := client.JobList(ctx, params)
	if err != nil {
		return nil, err
	}
	return res.Jobs, nil
}
