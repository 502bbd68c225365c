package web

import (
	"context"
	"sync"
	"time"

	"github.com/vigil-hotline/vigil"
)

// keyCache keeps the API keys this process has seen, so that a request
// costs one read of the store's key generation (one integer) instead of
// the key's row. Any change to any key (created, revoked, scopes, rate,
// quota; made by any process or by hand) moves the generation, and the
// next request in every process then drops the whole cache: a revocation
// still holds from the next request everywhere.
//
// A key with a daily quota is read again at most every quotaRefresh, for
// the calls other processes have recorded since: together they may pass a
// quota by what they serve in about quotaRefresh plus one usage write
// (apiUsage, about a second), and this process never by its own calls.
type keyCache struct {
	store vigil.APIKeyService
	now   func() time.Time
	// written and counted are what this process has written for a key
	// today and counted in all (written, being written, or not yet).
	written, counted func(keyID int64) int64

	mu   sync.Mutex
	gen  int64
	keys map[[32]byte]*cachedKey
}

// cachedKey is a key as read at one moment: never changed once cached.
type cachedKey struct {
	key  *vigil.APIKey
	read time.Time
	day  string
	// writtenAtRead is keyCache.written just after the key was read:
	// what this process counted beyond it may not be in key.UsedToday.
	writtenAtRead int64
}

// quotaRefresh is how often a key with a quota is read again.
const quotaRefresh = time.Second

// maxCachedKeys bounds the cache; past it, it starts again empty.
const maxCachedKeys = 10_000

func newKeyCache(store vigil.APIKeyService, now func() time.Time, written, counted func(int64) int64) *keyCache {
	return &keyCache{store: store, now: now, written: written, counted: counted, gen: -1, keys: map[[32]byte]*cachedKey{}}
}

// find returns the unrevoked key with this hash (not found otherwise).
func (c *keyCache) find(ctx context.Context, hash []byte) (*cachedKey, error) {
	gen, err := c.store.APIKeyGeneration(ctx)
	if err != nil {
		return nil, err
	}
	var h [32]byte
	copy(h[:], hash)
	now := c.now()
	c.mu.Lock()
	if gen > c.gen {
		clear(c.keys)
		c.gen = gen
	}
	var ck *cachedKey
	if gen == c.gen { // an older generation (a slow request) reads the store
		ck = c.keys[h]
	}
	c.mu.Unlock()
	if ck != nil && (ck.key.DailyQuota == 0 || (now.Sub(ck.read) < quotaRefresh && ck.day == vigil.APIKeyDay(now))) {
		return ck, nil
	}
	key, err := c.store.FindAPIKeyByHash(ctx, hash)
	if err != nil {
		return nil, err
	}
	// What this process has written for the key so far, taken after the
	// read: a write landing between the two is then charged twice, for a
	// moment, and none is ever missed (see apiUsage.written).
	before := c.written(key.ID)
	ck = &cachedKey{key: key, read: now, day: vigil.APIKeyDay(now), writtenAtRead: before}
	c.mu.Lock()
	if c.gen == gen {
		if len(c.keys) >= maxCachedKeys {
			clear(c.keys)
		}
		c.keys[h] = ck
	}
	c.mu.Unlock()
	return ck, nil
}

// unrecorded is what this process counted for the key that its UsedToday
// may not hold.
func (c *keyCache) unrecorded(ck *cachedKey) int64 {
	return max(c.counted(ck.key.ID)-ck.writtenAtRead, 0)
}
