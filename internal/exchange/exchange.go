// Package exchange fetches hash lists from the services that keep them
// (NCMEC, ThreatExchange, StopNCII, any HTTPS list) and sends feedback
// back. Each kind is a Client that turns the service's paging into Pages
// with an opaque checkpoint; the fetch loop (one per exchange, under a lock
// in the database) stores each page and its checkpoint in one transaction,
// so that a fetch killed at any moment resumes where it stopped with no
// duplicate and no lost entry.
//
// Clients do HTTP only through the *http.Client they are given (the
// crawler's address guard unless the exchange allows private addresses),
// bound every body they read, and never log credentials.
package exchange

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/vigil-hotline/vigil"
)

// Kinds of exchange.
const (
	KindNCMEC          = "ncmec"
	KindThreatExchange = "threatexchange"
	KindStopNCII       = "stopncii"
	KindHTTPList       = "http-list"
)

// Entry is one upstream item, as the service describes it.
type Entry struct {
	// UpstreamID is the service's own id of the entry (NCMEC's id, a
	// ThreatExchange descriptor id, a list's id column); empty where the
	// service has none, then the value itself identifies it.
	UpstreamID string
	Signal     vigil.SignalType
	// Value is the hash as sent (normalised by the store). For vpdq,
	// Frames holds the frame list and Value is ignored.
	Value  string
	Frames []vigil.VideoFrame
	// Classification is the upstream label, verbatim (mapped to the
	// deployment's vocabulary by configuration, never guessed).
	Classification string
	Tags           []string
	// Deleted says the service withdrew the entry: remove it from the bank.
	Deleted bool
	// UpdatedAt is when the service added or changed it (zero if unknown),
	// for the "time from upstream addition to first possible match".
	UpdatedAt time.Time
}

// Page is one step of a fetch.
type Page struct {
	Entries []Entry
	// Checkpoint resumes the fetch after this page; stored in the same
	// transaction as the page's entries.
	Checkpoint string
	// Done says there is nothing after this page for now; the next fetch
	// starts from Checkpoint and returns only what changed.
	Done bool
	// Skipped counts upstream records the client dropped: types Vigil does
	// not hold, malformed hashes. Shown in the fetch's status, never fatal,
	// so that one bad record cannot stall a list.
	Skipped int
	// Replace says the fetch delivers the whole list (an http-list): when
	// the Done page is stored, the exchange's entries that this fetch did
	// not deliver are removed. A Replace fetch killed midway is repeated
	// whole, so its pages before Done keep the previous checkpoint; a
	// Replace client starts its list again after any error it returns
	// (the loop then begins a new pass).
	Replace bool
}

// Client reads one exchange.
type Client interface {
	// FetchPage returns the page after checkpoint ("" starts from the
	// beginning). It returns ErrCheckpointExpired when a paging link has
	// expired: the loop then restarts from the last stored checkpoint.
	// Errors wrapping a *RetryableError are retried with back-off.
	FetchPage(ctx context.Context, checkpoint string) (Page, error)
}

// Verdict is an analyst's judgement of an upstream entry.
type Verdict string

const (
	VerdictConfirm Verdict = "confirm"
	VerdictDispute Verdict = "dispute"
)

// Feedback is sent back to the service that supplied an entry.
type Feedback struct {
	UpstreamID string
	Signal     vigil.SignalType
	Value      string
	Verdict    Verdict
	// Key makes the send idempotent where the service allows it: the same
	// Key is never sent twice (see the notices' exactly-once protocol).
	Key string
}

// FeedbackSender is implemented by the clients whose service takes feedback.
type FeedbackSender interface {
	SendFeedback(ctx context.Context, f Feedback) error
}

// FeedbackVerifier is implemented by the clients whose service can say
// whether a feedback reached it: after a crash between a send and its
// record, the sender asks instead of sending again or giving up.
type FeedbackVerifier interface {
	FeedbackDelivered(ctx context.Context, f Feedback) (bool, error)
}

// Config is what a client needs to reach its service. Secrets come
// unsealed from the store and must not be logged or put in errors.
type Config struct {
	Kind     string
	URL      string
	Token    string
	User     string
	Password string
	// HTTP is the client to use: the crawler's guarded client, or a plain
	// one for an exchange that allows private addresses.
	HTTP *http.Client
	// IdleTimeout fails a body that stalls this long (0: a minute).
	IdleTimeout time.Duration
	// PageSize is the number of entries a page holds where the client
	// chooses (0: the client's default).
	PageSize int
}

func (c Config) idle() time.Duration {
	if c.IdleTimeout > 0 {
		return c.IdleTimeout
	}
	return time.Minute
}

// ErrCheckpointExpired says a paging link or cursor is no longer valid.
var ErrCheckpointExpired = errors.New("exchange: checkpoint expired")

// RetryableError is a failure worth retrying (429, 5xx, a timeout).
type RetryableError struct {
	// After is the wait the service asked for (Retry-After), or zero.
	After time.Duration
	// Status is the HTTP status the service answered (429, 5xx), or 0
	// when no answer came (a timeout, a dropped connection): then a
	// request that changes something may have been carried out.
	Status int
	Err    error
}

func (e *RetryableError) Error() string { return "exchange: retryable: " + e.Err.Error() }
func (e *RetryableError) Unwrap() error { return e.Err }

// Rewinder is implemented by clients whose checkpoints hold paging links
// that expire: after ErrCheckpointExpired the loop resumes from
// Rewind(checkpoint), which restarts the expired link's window from its
// beginning (entries delivered again are stored once). Clients without it
// are asked again from the last stored checkpoint.
type Rewinder interface {
	Rewind(checkpoint string) string
}
