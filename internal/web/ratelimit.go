package web

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"net"
	"net/http"
	"sync"
	"time"
)

// Rate is an allowance: Count events per Per, refilled continuously.
// A zero Count disables the limit.
type Rate struct {
	Count int
	Per   time.Duration
}

// limiter is a token bucket per key, in memory only. Keys derived from
// client addresses are keyed hashes under a secret made at start-up and
// never stored, and buckets are forgotten once full again (minutes at
// most), so no address outlives a short window, even in a memory dump.
type limiter struct {
	rate    Rate
	mu      sync.Mutex
	buckets map[[32]byte]*bucket
	key     []byte
	now     func() time.Time
	swept   time.Time
}

type bucket struct {
	tokens float64
	at     time.Time
}

func newLimiter(rate Rate, now func() time.Time) *limiter {
	k := make([]byte, 32)
	_, _ = rand.Read(k)
	return &limiter{rate: rate, buckets: map[[32]byte]*bucket{}, key: k, now: now}
}

// allow takes one token for key and reports whether there was one.
func (l *limiter) allow(key string) bool {
	if l.rate.Count <= 0 {
		return true
	}
	m := hmac.New(sha256.New, l.key)
	m.Write([]byte(key))
	var k [32]byte
	copy(k[:], m.Sum(nil))
	now := l.now()
	perToken := float64(l.rate.Per) / float64(l.rate.Count)
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.swept) > l.rate.Per {
		l.sweep(now, perToken)
	}
	b, ok := l.buckets[k]
	if !ok {
		b = &bucket{tokens: float64(l.rate.Count), at: now}
		l.buckets[k] = b
	}
	b.tokens = min(float64(l.rate.Count), b.tokens+float64(now.Sub(b.at))/perToken)
	b.at = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// sweep forgets buckets that have refilled: they hold nothing a fresh one
// would not.
func (l *limiter) sweep(now time.Time, perToken float64) {
	for k, b := range l.buckets {
		if b.tokens+float64(now.Sub(b.at))/perToken >= float64(l.rate.Count) {
			delete(l.buckets, k)
		}
	}
	l.swept = now
}

func (l *limiter) size() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}

// clientKey is the client's address for rate limiting only. IPv6 clients
// are grouped by /64, since one host usually holds a whole /64.
func clientKey(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip := net.ParseIP(host)
	if ip == nil {
		return host
	}
	if ip.To4() == nil {
		return ip.Mask(net.CIDRMask(64, 128)).String()
	}
	return ip.String()
}
