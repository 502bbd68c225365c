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

// TakedownService stores the takedown path: what staff pages read.
type TakedownService interface {
	FindTakedown(ctx context.Context, id int64) (*Takedown, error)
	FindTakedownByURL(ctx context.Context, urlID int64) (*Takedown, error)
	ListTakedowns(ctx context.Context, state TakedownState, limit int) ([]*Takedown, error)
	ListOutbound(ctx context.Context, takedownID int64) ([]*Outbound, error)
	TakedownStats(ctx context.Context) (TakedownStats, error)
}

// TakedownWorkService is the takedown workers' store, as CrawlService is the
// crawl pipeline's. Each Record call stores a step's outcome, queues the
// work it calls for and is a no-op when the step was recorded already, so
// a job run again after a crash changes nothing; an outbound message is
// claimed before it is sent, so it is never sent twice.
type TakedownWorkService interface {
	FindTakedown(ctx context.Context, id int64) (*Takedown, error)
	// CaseMedia returns the illegal media seen in a reported URL's crawl.
	CaseMedia(ctx context.Context, urlID int64) ([]KnownMedia, error)
	// RoutePlan returns a case's routes as decided (JSON; empty before
	// its trace).
	RoutePlan(ctx context.Context, id int64) (string, error)
	RecordTrace(ctx context.Context, id int64, r *TraceResult) error
	RecordRecheck(ctx context.Context, id int64, r *Recheck) error
	ClaimOutbound(ctx context.Context, id int64) (*Outbound, error)
	RecordOutbound(ctx context.Context, m *Outbound, state OutboundState, reply, errText string) error
}

// TraceResult is what the trace step decided.
type TraceResult struct {
	Trace    string // JSON evidence
	Country  string
	ASN      uint32
	ASOrg    string
	CDN      string
	Provider string
	Routes   []string
	Plan     string // the routes as decided, JSON
	Deadline *time.Time
	State    TakedownState
	Messages []*Outbound
	// FirstRecheck is when the content is first checked again.
	FirstRecheck time.Time
}

// Recheck is the outcome of checking a case's content again.
type Recheck struct {
	Seq    int
	Up     bool
	Detail string
	// While up: messages it calls for (renotice, escalation), whether it
	// escalates, and when to check next.
	Messages  []*Outbound
	Escalate  bool
	NextCheck time.Time
}

// KnownMedia is a media item of a case known or confirmed illegal, with
// where it was seen.
type KnownMedia struct {
	MediaID        int64
	URL            string
	SHA256, MD5    string
	PDQ            string
	Classification string
	SeenAt         time.Time
	FetchID        int64
	// VPDQ is a video's frames where they are known (filled for
	// referrals, so that the partner knows the video by its frames).
	VPDQ []VideoFrame
}
