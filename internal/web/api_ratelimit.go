package web

import (
	"sync"
	"time"
)

// keyLimiter is a token bucket per API key, each with the key's own rate
// (a partner's key can be given more or less than the default). In memory
// only: each process limits what it serves.
type keyLimiter struct {
	mu      sync.Mutex
	buckets map[int64]*bucket
	now     func() time.Time
	swept   time.Time
}

func newKeyLimiter(now func() time.Time) *keyLimiter {
	return &keyLimiter{buckets: map[int64]*bucket{}, now: now, swept: now()}
}

// allow takes one token from the key's bucket at rate and reports whether
// there was one. A zero rate does not limit.
func (l *keyLimiter) allow(keyID int64, rate Rate) bool {
	if rate.Count <= 0 || rate.Per <= 0 {
		return true
	}
	now := l.now()
	perToken := float64(rate.Per) / float64(rate.Count)
	l.mu.Lock()
	defer l.mu.Unlock()
	// Forget buckets untouched for long: they would be full again.
	if now.Sub(l.swept) > 10*time.Minute {
		for id, b := range l.buckets {
			if now.Sub(b.at) > 10*time.Minute {
				delete(l.buckets, id)
			}
		}
		l.swept = now
	}
	b, ok := l.buckets[keyID]
	if !ok {
		b = &bucket{tokens: float64(rate.Count), at: now}
		l.buckets[keyID] = b
	}
	b.tokens = min(float64(rate.Count), b.tokens+float64(now.Sub(b.at))/perToken)
	b.at = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}
