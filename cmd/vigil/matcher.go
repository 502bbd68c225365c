package main

import (
	"context"
	"path/filepath"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/match"
	"github.com/vigil-hotline/vigil/internal/store"
)

// newMatcher returns the process's one matcher over the hash banks: loaded
// at start-up from the index snapshot in the data folder when there is a
// whole and recent one (else from the store), kept in step with imports
// from any process, and shared by every worker. The processes sharing a
// data folder share the snapshot, each writing it now and then (see
// internal/match).
func newMatcher(ctx context.Context, env *Env, db *store.DB, dataDir string) (vigil.Matcher, func() error, error) {
	snapshot := ""
	if dataDir != "" {
		snapshot = filepath.Join(dataDir, "index", "match.snapshot")
	}
	m, err := match.New(ctx, match.Config{Store: db, Logger: env.Logger, Snapshot: snapshot})
	if err != nil {
		return nil, nil, err
	}
	return m, m.Close, nil
}
