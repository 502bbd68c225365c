package store

import (
	"context"
	"fmt"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/vigil-hotline/vigil"
)

// ListJobs lists River jobs in the given states, newest first.
func (db *DB) ListJobs(ctx context.Context, states []string, limit int) ([]*vigil.Job, error) {
	if limit <= 0 || limit > 10000 {
		limit = 100
	}
	params := river.NewJobListParams().First(limit).OrderBy(river.JobListOrderByID, river.SortOrderDesc)
	if len(states) > 0 {
		js := make([]rivertype.JobState, len(states))
		for i, s := range states {
			js[i] = rivertype.JobState(s)
		}
		params = params.States(js...)
	}
	rows, err := db.drv.ListJobs(ctx, params)
	if err != nil {
		return nil, fmt.Errorf("list jobs: %w", err)
	}
	out := make([]*vigil.Job, 0, len(rows))
	for _, r := range rows {
		j := &vigil.Job{
			ID: r.ID, Kind: r.Kind, State: string(r.State), Queue: r.Queue, Attempt: r.Attempt,
			Args: string(r.EncodedArgs), CreatedAt: r.CreatedAt, ScheduledAt: r.ScheduledAt,
		}
		if n := len(r.Errors); n > 0 {
			j.LastError = r.Errors[n-1].Error
		}
		out = append(out, j)
	}
	return out, nil
}
