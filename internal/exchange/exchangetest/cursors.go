package exchangetest

import (
	"crypto/rand"
	"encoding/hex"
	"sync"
)

// Cursors hands out the opaque page tokens of a fake's paged answers: each
// names the state of the page that follows, is good for one use, and may
// be made to expire, as the services' tokens do. Safe for concurrent use;
// the zero value holds none.
type Cursors[T any] struct {
	mu sync.Mutex
	m  map[string]T
}

// Issue returns a new token for next.
func (c *Cursors[T]) Issue(next T) string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	tok := hex.EncodeToString(b)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string]T{}
	}
	c.m[tok] = next
	return tok
}

// Take returns the state tok names and spends tok; ok is false for a token
// never issued, spent or expired.
func (c *Cursors[T]) Take(tok string) (next T, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	next, ok = c.m[tok]
	delete(c.m, tok)
	return next, ok
}

// Expire makes every token issued so far invalid.
func (c *Cursors[T]) Expire() {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.m)
}
