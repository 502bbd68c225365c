// Package exchangetest holds what the fake exchange services share: the
// queue of failures a test injects into a fake's next requests.
package exchangetest

import (
	"net/http"
	"sync"
	"time"
)

// Faults queues failures for a fake's next requests, one per request. A
// fake embeds it and calls Answer first thing in its handler. Safe for
// concurrent use; the zero value is an empty queue.
type Faults struct {
	mu sync.Mutex
	q  []func(w http.ResponseWriter) bool
}

// Fault queues f for the next request: it may answer (returning true) or
// let the fake answer.
func (f *Faults) Fault(fn func(w http.ResponseWriter) bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.q = append(f.q, fn)
}

// Stall holds the next request for d before answering normally.
func (f *Faults) Stall(d time.Duration) {
	f.Fault(func(http.ResponseWriter) bool {
		time.Sleep(d)
		return false
	})
}

// FailWith answers the next n requests with status and body (a 429 with
// Retry-After: 0, so that retries do not wait).
func (f *Faults) FailWith(n, status int, body string) {
	for range n {
		f.Fault(func(w http.ResponseWriter) bool {
			if status == http.StatusTooManyRequests {
				w.Header().Set("Retry-After", "0")
			}
			http.Error(w, body, status)
			return true
		})
	}
}

// Answer runs the next queued fault, if any, and says whether it answered
// the request.
func (f *Faults) Answer(w http.ResponseWriter) bool {
	f.mu.Lock()
	var fn func(http.ResponseWriter) bool
	if len(f.q) > 0 {
		fn, f.q = f.q[0], f.q[1:]
	}
	f.mu.Unlock()
	return fn != nil && fn(w)
}
