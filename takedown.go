package vigil

import (
	"context"
	"time"
)

// TakedownState is where a case with illegal content stands on its way to
// removal.
type TakedownState string

const (
	// TakedownTracing: illegal content found; hosting being traced.
	TakedownTracing TakedownState = "tracing"
	// TakedownForwarded: sent to the police or a partner hotline only.
	TakedownForwarded TakedownState = "forwarded"
	// TakedownNotified: the provider has been notified; rechecked until gone.
	TakedownNotified TakedownState = "notified"
	// TakedownRemoved: the content is gone.
	TakedownRemoved TakedownState = "removed"
)

// Takedown follows one reported URL with illegal content from trace to
// removal.
type Takedown struct {
	ID             int64
	ReportedURLID  int64
	URL            string
	State          TakedownState
	Classification string
	Severity       string
	// Hosting, from the trace.
	Country  string
	ASN      uint32
	ASOrg    string
	CDN      string
	Provider string // the abuse contact notified
	// Routes are the route kinds decided (police, hotline, provider).
	Routes []string
	// Deadline is the earliest forwarding deadline of the routes.
	Deadline      *time.Time
	FirstSeenAt   time.Time
	TracedAt      *time.Time
	FirstNoticeAt *time.Time
	LastNoticeAt  *time.Time
	Notices       int // provider notices sent, renotices included
	Escalated     bool
	NextCheckAt   *time.Time
	RemovedAt     *time.Time
	CreatedAt     time.Time
	// Trace is the trace evidence as JSON.
	Trace string
}

// OutboundState is where an outbound message stands. A message is claimed
// ("sending") durably before it is sent, so that a crash never leads to a
// second send: one found "sending" after a restart becomes "uncertain" for
// a person to check, never sent again automatically.
type OutboundState string

const (
	OutboundPending   OutboundState = "pending"
	OutboundSending   OutboundState = "sending"
	OutboundSent      OutboundState = "sent"
	OutboundRetry     OutboundState = "retry"
	OutboundFailed    OutboundState = "failed"
	OutboundUncertain OutboundState = "uncertain"
)

// Outbound is one message Vigil sends: a provider notice, a renotice, an
// escalation, or a forward to the police or a partner hotline. It is stored
// rendered, so a retry sends the very same bytes.
type Outbound struct {
	ID         int64
	TakedownID int64
	// Key identifies the message within Vigil (its Message-ID derives
	// from it); unique, so deciding the same message twice stores it once.
	Key       string
	Kind      string // notice, renotice, escalation, forward
	RouteKind string // provider, police, hotline, upstream
	Recipient string
	MessageID string
	Raw       []byte
	State     OutboundState
	Attempts  int
	Reply     string
	Error     string
	CreatedAt time.Time
	SentAt    *time.Time
}

// TakedownStats are the figures hotlines are judged by.
type TakedownStats struct {
	NoticesSent    int64
	URLsRemoved    int64
	TimesToRemoval []TimeToRemoval
}

// TimeToRemoval is one removed URL's times, with what it was grouped by.
type TimeToRemoval struct {
	FromFirstSeen   time.Duration
	FromFirstNotice time.Duration // 0 when no notice was sent
	Routes          []string
	Country         string
	Provider        string
}

// TakedownService stores the takedown path.
type TakedownService interface {
	FindTakedown(ctx context.Context, id int64) (*Takedown, error)
	FindTakedownByURL(ctx context.Context, urlID int64) (*Takedown, error)
	ListTakedowns(ctx context.Context, state TakedownState, limit int) ([]*Takedown, error)
	ListOutbound(ctx context.Context, takedownID int64) ([]*Outbound, error)
	TakedownStats(ctx context.Context) (TakedownStats, error)
}
