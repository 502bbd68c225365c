package web

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vigil-hotline/vigil"
)

// apiUsage counts each key's calls in memory and adds them to the store
// about once a second, so that a busy lookup API costs one small write a
// second rather than one per request. Daily quotas count what the store
// holds plus what this process has not yet written, so several processes
// together may overshoot a quota by at most a second of calls.
type apiUsage struct {
	store    vigil.APIKeyService
	logger   interface{ Error(string, ...any) }
	now      func() time.Time
	every    time.Duration
	mu       sync.Mutex
	pending  map[usageKey]*vigil.APIKeyUse
	flushed  time.Time
	flushing atomic.Bool
	wg       sync.WaitGroup
}

type usageKey struct {
	id  int64
	day string
}

func newAPIUsage(store vigil.APIKeyService, logger interface{ Error(string, ...any) }, now func() time.Time) *apiUsage {
	return &apiUsage{store: store, logger: logger, now: now, every: time.Second,
		pending: map[usageKey]*vigil.APIKeyUse{}, flushed: now()}
}

// pendingFor is what this process counted for a key today and has not
// yet written.
func (u *apiUsage) pendingFor(keyID int64) int64 {
	k := usageKey{keyID, vigil.APIKeyDay(u.now())}
	u.mu.Lock()
	defer u.mu.Unlock()
	if p := u.pending[k]; p != nil {
		return p.Requests
	}
	return 0
}

// add counts calls (quota units), lookups and matches for a key, and
// starts a write when one is due.
func (u *apiUsage) add(keyID, calls, lookups, matches int64) {
	now := u.now()
	k := usageKey{keyID, vigil.APIKeyDay(now)}
	u.mu.Lock()
	p := u.pending[k]
	if p == nil {
		p = &vigil.APIKeyUse{KeyID: keyID, Day: k.day}
		u.pending[k] = p
	}
	p.Requests += calls
	p.Lookups += lookups
	p.Matches += matches
	p.LastUsed = now
	due := now.Sub(u.flushed) >= u.every
	u.mu.Unlock()
	if due && u.flushing.CompareAndSwap(false, true) {
		u.wg.Add(1)
		go func() {
			defer u.wg.Done()
			defer u.flushing.Store(false)
			u.flush(context.Background())
		}()
	}
}

// flush writes what is pending; on failure it is kept for the next try.
func (u *apiUsage) flush(ctx context.Context) {
	u.mu.Lock()
	batch := make([]vigil.APIKeyUse, 0, len(u.pending))
	for _, p := range u.pending {
		batch = append(batch, *p)
	}
	u.pending = map[usageKey]*vigil.APIKeyUse{}
	u.flushed = u.now()
	u.mu.Unlock()
	if len(batch) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := u.store.RecordAPIKeyUse(ctx, batch); err != nil {
		u.logger.Error("api key usage not recorded; retrying", "err", err)
		u.mu.Lock()
		for _, b := range batch {
			k := usageKey{b.KeyID, b.Day}
			p := u.pending[k]
			if p == nil {
				p = &vigil.APIKeyUse{KeyID: b.KeyID, Day: b.Day}
				u.pending[k] = p
			}
			p.Requests += b.Requests
			p.Lookups += b.Lookups
			p.Matches += b.Matches
			if b.LastUsed.After(p.LastUsed) {
				p.LastUsed = b.LastUsed
			}
		}
		u.mu.Unlock()
	}
}

// close waits for a write under way and writes what is left.
func (u *apiUsage) close(ctx context.Context) {
	u.wg.Wait()
	u.flush(ctx)
}
