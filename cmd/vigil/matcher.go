package main

import (
	"context"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/match"
	"github.com/vigil-hotline/vigil/internal/store"
)

// newMatcher returns the process's one matcher over the hash banks: loaded
// from the store at start-up, kept in step with imports from any process,
// and shared by every worker.
func newMatcher(ctx context.Context, env *Env, db *store.DB) (vigil.Matcher, func() error, error) {
	m, err := match.New(ctx, match.Config{Store: db, Logger: env.Logger})
	if err != nil {
		return nil, nil, err
	}
	return m, m.Close, nil
}
