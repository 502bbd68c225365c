package trace

import (
	"context"
	"sync"
	"time"
)

// Cache keeps RDAP answers between traces. Values are opaque JSON, so the
// lead can back it with a database table (key, value, expiry) without the
// store knowing RDAP types. A miss is (nil, false, nil); an error from Get
// is treated as a miss by the tracer and recorded.
type Cache interface {
	Get(ctx context.Context, key string) ([]byte, bool, error)
	Set(ctx context.Context, key string, value []byte, ttl time.Duration) error
}

// MemoryCache is an in-process Cache with per-entry expiry. The zero value
// is not usable; call NewMemoryCache.
type MemoryCache struct {
	mu      sync.Mutex
	now     func() time.Time
	entries map[string]memoryEntry
	max     int
}

type memoryEntry struct {
	value   []byte
	expires time.Time
}

// NewMemoryCache returns a cache holding at most max entries (0: 10000).
// now is the clock (nil: time.Now); tests pass a fake one to expire entries.
func NewMemoryCache(max int, now func() time.Time) *MemoryCache {
	if max <= 0 {
		max = 10000
	}
	if now == nil {
		now = time.Now
	}
	return &MemoryCache{now: now, entries: map[string]memoryEntry{}, max: max}
}

// Get returns the value for key unless it is missing or expired.
func (c *MemoryCache) Get(_ context.Context, key string) ([]byte, bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok {
		return nil, false, nil
	}
	if !c.now().Before(e.expires) {
		delete(c.entries, key)
		return nil, false, nil
	}
	return e.value, true, nil
}

// Set stores value for ttl. When full, expired entries are dropped first,
// then arbitrary ones: a cache miss only costs one more RDAP query.
func (c *MemoryCache) Set(_ context.Context, key string, value []byte, ttl time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if _, ok := c.entries[key]; !ok && len(c.entries) >= c.max {
		for k, e := range c.entries {
			if !now.Before(e.expires) {
				delete(c.entries, k)
			}
		}
		for k := range c.entries {
			if len(c.entries) < c.max {
				break
			}
			delete(c.entries, k)
		}
	}
	c.entries[key] = memoryEntry{value: append([]byte(nil), value...), expires: now.Add(ttl)}
	return nil
}

// Len returns the number of entries, expired ones included.
func (c *MemoryCache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}
