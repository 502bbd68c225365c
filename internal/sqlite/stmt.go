package sqlite

import (
	"context"
	"database/sql"
	"sync"
)

// stmtCache holds prepared statements by query text. The writer pool has a
// single connection, which a transaction holds: a statement first seen
// inside one cannot be prepared on the pool then (that would wait for the
// connection forever), so it is noted and prepared after the commit.
type stmtCache struct {
	db     *sql.DB
	mu     sync.Mutex
	stmts  map[string]*sql.Stmt
	missed map[string]bool
}

// maxCachedStmts bounds the cache; Vigil's queries are a fixed set, so it
// is never reached in practice.
const maxCachedStmts = 512

func newStmtCache(db *sql.DB) *stmtCache {
	return &stmtCache{db: db, stmts: map[string]*sql.Stmt{}, missed: map[string]bool{}}
}

// get returns the statement for query, preparing it now when prepareNow
// (outside a transaction), else noting it for later; nil when there is
// none yet.
func (c *stmtCache) get(ctx context.Context, query string, prepareNow bool) *sql.Stmt {
	c.mu.Lock()
	st, ok := c.stmts[query]
	full := len(c.stmts) >= maxCachedStmts
	if !ok && !prepareNow && !full {
		c.missed[query] = true
	}
	c.mu.Unlock()
	if ok || full || !prepareNow {
		return st
	}
	st, err := c.db.PrepareContext(ctx, query)
	if err != nil {
		return nil // the plain path reports the error
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if prev, ok := c.stmts[query]; ok {
		_ = st.Close() // a twin prepared meanwhile; an unused statement's close has nothing to lose
		return prev
	}
	c.stmts[query] = st
	return st
}

// prepareMissed prepares the statements noted inside transactions.
func (c *stmtCache) prepareMissed(ctx context.Context) {
	c.mu.Lock()
	if len(c.missed) == 0 {
		c.mu.Unlock()
		return
	}
	missed := c.missed
	c.missed = map[string]bool{}
	c.mu.Unlock()
	for q := range missed {
		c.get(context.WithoutCancel(ctx), q, true)
	}
}

func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, st := range c.stmts {
		_ = st.Close() // the connection closes next, with everything on it
	}
	c.stmts = map[string]*sql.Stmt{}
}

// stmtRunner runs a prepared statement; the query text is ignored.
type stmtRunner struct{ st *sql.Stmt }

func (s stmtRunner) ExecContext(ctx context.Context, _ string, args ...any) (sql.Result, error) {
	return s.st.ExecContext(ctx, args...)
}

func (s stmtRunner) QueryContext(ctx context.Context, _ string, args ...any) (*sql.Rows, error) {
	return s.st.QueryContext(ctx, args...)
}

func (s stmtRunner) QueryRowContext(ctx context.Context, _ string, args ...any) *sql.Row {
	return s.st.QueryRowContext(ctx, args...)
}
