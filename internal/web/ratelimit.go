package web

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"net"
	"net/http"
	"net/netip"
	"strings"
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
// are grouped by /64, since one host usually holds a whole /64. Behind a
// trusted proxy (Config.TrustedProxies) the client is the nearest address
// in Forwarded or X-Forwarded-For that is not itself a trusted proxy;
// anyone else's headers are ignored, since a client writes what it likes.
func (s *Server) clientKey(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	if s.trustedProxy(ip) {
		hops := forwardedFor(r.Header)
		for i := len(hops) - 1; i >= 0; i-- {
			hop, err := netip.ParseAddr(hops[i])
			if err != nil {
				// An obfuscated or unknown hop ("_hidden", "unknown"):
				// the proxy's own name for the client is all there is.
				return "hop:" + hops[i]
			}
			ip = hop
			if !s.trustedProxy(hop) {
				break
			}
		}
	}
	ip = ip.Unmap()
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		return p.String()
	}
	return ip.String()
}

func (s *Server) trustedProxy(ip netip.Addr) bool {
	ip = ip.Unmap()
	for _, p := range s.cfg.TrustedProxies {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// maxHops bounds the forwarding chain read: a longer one is a client
// padding the header.
const maxHops = 32

// forwardedFor returns the client addresses of the forwarding chain,
// nearest last: from RFC 7239 Forwarded when present, else from
// X-Forwarded-For. Ports and brackets are removed.
func forwardedFor(h http.Header) []string {
	var hops []string
	if fw := h.Values("Forwarded"); len(fw) > 0 {
		for _, v := range fw {
			for _, elem := range strings.Split(v, ",") {
				for _, pair := range strings.Split(elem, ";") {
					k, val, ok := strings.Cut(strings.TrimSpace(pair), "=")
					if ok && strings.EqualFold(k, "for") {
						hops = append(hops, hostOnly(strings.Trim(val, `"`)))
					}
				}
			}
		}
	} else {
		for _, v := range h.Values("X-Forwarded-For") {
			for _, a := range strings.Split(v, ",") {
				if a = strings.TrimSpace(a); a != "" {
					hops = append(hops, hostOnly(a))
				}
			}
		}
	}
	if len(hops) > maxHops {
		hops = hops[len(hops)-maxHops:]
	}
	return hops
}

// hostOnly strips a port and IPv6 brackets: "[2001:db8::1]:443" and
// "192.0.2.1:80" become bare addresses.
func hostOnly(a string) string {
	if ap, err := netip.ParseAddrPort(a); err == nil {
		return ap.Addr().String()
	}
	return strings.TrimSuffix(strings.TrimPrefix(a, "["), "]")
}
