package vigil

import (
	"context"
	"time"
	"unicode/utf8"
)

// Trust controls on what exchanges bring (issue 15): an upstream label is
// mapped into the deployment's vocabulary only by configuration; an
// upstream entry that floods the hotline with hits is quarantined; an
// analyst may dispute an upstream entry, which suppresses it here and tells
// the service, or confirm it.

// Reasons an entry is suppressed: it stays in its bank, with its
// provenance, but leaves the match indexes (through the change feed).
const (
	SuppressQuarantine = "quarantine"
	SuppressDispute    = "dispute"
)

// Defaults of the quarantine: an upstream entry that matched more than
// DefaultQuarantineShare of the media matched in the last day, and at
// least DefaultQuarantineMinHits of them, is quarantined. A benign picture
// on a list (a logo, a blank frame) shows up this way.
const (
	DefaultQuarantineShare   = 0.05
	DefaultQuarantineMinHits = 20
	QuarantineWindow         = 24 * time.Hour
)

// ExchangeTrust is an exchange's trust settings.
type ExchangeTrust struct {
	ExchangeID int64
	// ClassMap maps the exchange's labels (its classifications, or its
	// tags where it has none) to the vocabulary; a label it does not map
	// and the vocabulary does not hold leaves the entry unclassified, the
	// label kept verbatim in UpstreamClassification and shown.
	ClassMap ClassificationMap
	// QuarantineShare (0 < share ≤ 1) and QuarantineMinHits; zero values
	// take the defaults; a share of 1 never quarantines.
	QuarantineShare   float64
	QuarantineMinHits int
}

// Share is the quarantine share in force.
func (t ExchangeTrust) Share() float64 {
	if t.QuarantineShare <= 0 {
		return DefaultQuarantineShare
	}
	return t.QuarantineShare
}

// MinHits is the quarantine's minimum hits in force.
func (t ExchangeTrust) MinHits() int {
	if t.QuarantineMinHits <= 0 {
		return DefaultQuarantineMinHits
	}
	return t.QuarantineMinHits
}

// Floods says whether an entry with hits matches among total media matched
// in the window passes the quarantine's bounds.
func (t ExchangeTrust) Floods(hits, total int64) bool {
	if t.Share() >= 1 || hits < int64(t.MinHits()) {
		return false
	}
	return float64(hits) > t.Share()*float64(total)
}

// Validate checks the settings.
func (t ExchangeTrust) Validate() error {
	if t.QuarantineShare < 0 || t.QuarantineShare > 1 {
		return Errorf(EINVALID, "quarantine share must be between 0 and 1")
	}
	if t.QuarantineMinHits < 0 {
		return Errorf(EINVALID, "quarantine minimum hits must not be negative")
	}
	return nil
}

// Classify gives the classification stored for an upstream entry: the
// mapping of its label, or of the first of its tags that maps, when the
// label is empty; "" when nothing maps (never a guess). known is false
// when the entry carried a label or tags that nothing mapped.
func (t ExchangeTrust) Classify(label string, tags []string, v Vocabulary) (class string, known bool) {
	try := func(l string) (string, bool) {
		c, ok, err := t.ClassMap.Classify(l, v)
		if err != nil || !ok {
			return "", false
		}
		return c, true
	}
	if label != "" {
		return try(label)
	}
	for _, tag := range tags {
		if c, ok := try(tag); ok && c != "" {
			return c, true
		}
	}
	return "", len(tags) == 0
}

// Verdict of an analyst on an upstream entry.
const (
	VerdictConfirm = "confirm"
	VerdictDispute = "dispute"
)

// FeedbackState is where an upstream verdict's feedback stands, following
// the notices' exactly-once protocol (internal/notify): pending, claimed
// ("sending") by one worker, then sent, failed, or uncertain when a crash
// left the outcome unknown and the service cannot say: never resent
// automatically.
type FeedbackState string

const (
	FeedbackNone      FeedbackState = "none" // the service takes no feedback
	FeedbackPending   FeedbackState = "pending"
	FeedbackSending   FeedbackState = "sending"
	FeedbackSent      FeedbackState = "sent"
	FeedbackFailed    FeedbackState = "failed"
	FeedbackUncertain FeedbackState = "uncertain"
)

// ExchangeTakesFeedback says whether Vigil sends feedback to a kind's
// service: ThreatExchange (reactions) and StopNCII (SubmitFeedback).
// NCMEC's hash-sharing API takes feedback too, but its client does not
// send it yet: verdicts on NCMEC entries are recorded with feedback
// "none".
func ExchangeTakesFeedback(kind string) bool {
	return kind == ExchangeThreatExchange || kind == ExchangeStopNCII
}

// UpstreamVerdict is an analyst's confirmation or dispute of an entry an
// exchange brought, and the feedback it sends back.
type UpstreamVerdict struct {
	ID      int64
	EntryID int64
	// Read with the verdict: the entry's exchange, upstream id and hash
	// (kept on the verdict: the entry may be deleted upstream later).
	ExchangeID   int64
	ExchangeKind string
	UpstreamID   string
	Signal       SignalType
	Value        string
	// MediaID is the media whose match the analyst judged (0 if none).
	MediaID   int64
	Verdict   string
	UserID    int64
	Note      string
	CreatedAt time.Time

	Feedback FeedbackState
	// FeedbackKey is the idempotency key of the feedback.
	FeedbackKey   string
	Attempts      int
	FeedbackError string
	SentAt        time.Time
}

// MaxVerdictNote bounds an analyst's note on a verdict.
const MaxVerdictNote = 1000

// Validate checks a verdict before it is stored.
func (v *UpstreamVerdict) Validate() error {
	if v.Verdict != VerdictConfirm && v.Verdict != VerdictDispute {
		return Errorf(EINVALID, "verdict must be confirm or dispute")
	}
	if v.EntryID <= 0 || v.UserID <= 0 {
		return Errorf(EINVALID, "a verdict needs an entry and an analyst")
	}
	if len(v.Note) > MaxVerdictNote || !utf8.ValidString(v.Note) {
		return Errorf(EINVALID, "note must be valid text of at most %d bytes", MaxVerdictNote)
	}
	return nil
}

// SuppressedEntry is an entry out of the match indexes, for the admins.
type SuppressedEntry struct {
	Entry  *BankEntry
	Reason string
	At     time.Time
	// Hits is the media it matched in the quarantine window when it was
	// quarantined, Total all media matched then.
	Hits, Total int64
}

// TrustService stores trust settings, suppressions and verdicts.
type TrustService interface {
	SetExchangeTrust(ctx context.Context, t ExchangeTrust) error
	// FindExchangeTrust returns an exchange's settings (defaults when none
	// were set); an unknown exchange is ENOTFOUND.
	FindExchangeTrust(ctx context.Context, exchangeID int64) (ExchangeTrust, error)
	// QuarantineFloods quarantines every unsuppressed upstream entry whose
	// hits in the window before now pass its exchange's bounds, and
	// returns those it quarantined.
	QuarantineFloods(ctx context.Context, now time.Time) ([]*SuppressedEntry, error)
	// ListSuppressedEntries lists suppressed entries, newest first.
	ListSuppressedEntries(ctx context.Context, limit int) ([]*SuppressedEntry, error)
	// ReleaseEntry lifts a suppression: the entry matches again.
	ReleaseEntry(ctx context.Context, entryID int64) error
	// JudgeUpstreamEntry records a verdict (ID, exchange fields and
	// feedback state set): a dispute suppresses the entry in the same
	// transaction; where the service takes feedback it is queued as a job.
	JudgeUpstreamEntry(ctx context.Context, v *UpstreamVerdict) error
	FindUpstreamVerdict(ctx context.Context, id int64) (*UpstreamVerdict, error)
	// ListUpstreamVerdicts lists an entry's verdicts, newest first.
	ListUpstreamVerdicts(ctx context.Context, entryID int64) ([]*UpstreamVerdict, error)
	// ClaimFeedback moves a verdict's feedback from pending to sending;
	// false when another worker has it or it is no longer pending.
	ClaimFeedback(ctx context.Context, id int64) (bool, error)
	// RecordFeedback records the outcome of a claimed send.
	RecordFeedback(ctx context.Context, id int64, state FeedbackState, errText string) error
}
