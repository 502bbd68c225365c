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
// held when the key was read plus what this process has counted since
// (keyCache), so one process never passes a quota by its own calls, and
// several together by at most about two seconds of each other's. A
// process killed outright loses at most its last second of counts (the
// statistics undercount it; the key may be served that much more that day).
type apiUsage struct {
	store    vigil.APIKeyService
	logger   interface{ Error(string, ...any) }
	now      func() time.Time
	every    time.Duration
	mu       sync.Mutex
	pending  map[usageKey]*vigil.APIKeyUse
	inflight map[usageKey]int64 // requests handed to the store, not yet written
	written  map[usageKey]int64 // requests written by this process
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
		pending: map[usageKey]*vigil.APIKeyUse{}, inflight: map[usageKey]int64{}, written: map[usageKey]int64{}, flushed: now()}
}

// writtenFor is the calls this process has written for a key today.
func (u *apiUsage) writtenFor(keyID int64) int64 {
	k := usageKey{keyID, vigil.APIKeyDay(u.now())}
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.written[k]
}

// countedFor is the calls this process has counted for a key today:
// written, being written, or not yet.
func (u *apiUsage) countedFor(keyID int64) int64 {
	k := usageKey{keyID, vigil.APIKeyDay(u.now())}
	u.mu.Lock()
	defer u.mu.Unlock()
	n := u.written[k] + u.inflight[k]
	if p := u.pending[k]; p != nil {
		n += p.Requests
	}
	return n
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
	for k, p := range u.pending {
		batch = append(batch, *p)
		u.inflight[k] += p.Requests
	}
	u.pending = map[usageKey]*vigil.APIKeyUse{}
	u.flushed = u.now()
	today := vigil.APIKeyDay(u.flushed)
	for k := range u.written {
		if k.day < today {
			delete(u.written, k)
		}
	}
	u.mu.Unlock()
	if len(batch) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	err := u.store.RecordAPIKeyUse(ctx, batch)
	if err != nil {
		u.logger.Error("api key usage not recorded; retrying", "err", err)
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	for _, b := range batch {
		k := usageKey{b.KeyID, b.Day}
		if u.inflight[k] -= b.Requests; u.inflight[k] <= 0 {
			delete(u.inflight, k)
		}
		if err == nil {
			u.written[k] += b.Requests
			continue
		}
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
}

// close waits for a write under way and writes what is left.
func (u *apiUsage) close(ctx context.Context) {
	u.wg.Wait()
	u.flush(ctx)
}
