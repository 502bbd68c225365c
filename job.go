package vigil

import (
	"context"
	"time"
)

// Job is a background job as operators see it in `vigil jobs`.
type Job struct {
	ID          int64
	Kind        string
	State       string
	Queue       string
	Attempt     int
	Args        string // JSON
	CreatedAt   time.Time
	ScheduledAt time.Time
	LastError   string
}

// JobService lists the durable job queue.
type JobService interface {
	// ListJobs returns up to limit jobs in the given states (all states when
	// none), newest first.
	ListJobs(ctx context.Context, states []string, limit int) ([]*Job, error)
}
