package exchangetest

import (
	"context"
	"errors"
	"testing"

	"github.com/vigil-hotline/vigil/internal/exchange"
)

// Drain fetches pages from checkpoint cp until one says Done, as the
// fetcher would: a retryable error is retried at once, an expired
// checkpoint is rewound (the client must be an exchange.Rewinder then).
// Every entry read goes to apply; Drain returns the last checkpoint.
func Drain(t testing.TB, c exchange.Client, cp string, apply func(exchange.Entry)) string {
	t.Helper()
	for range 1000 {
		p, err := c.FetchPage(context.Background(), cp)
		var re *exchange.RetryableError
		if errors.As(err, &re) {
			continue
		}
		if errors.Is(err, exchange.ErrCheckpointExpired) {
			cp = c.(exchange.Rewinder).Rewind(cp)
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range p.Entries {
			apply(e)
		}
		cp = p.Checkpoint
		if p.Done {
			return cp
		}
	}
	t.Fatal("fetch never ended")
	return ""
}
