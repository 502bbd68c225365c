package vigil

import (
	"context"
	"time"
)

// AuditEntry is one line of the audit log: who did what to what, when.
// The log is append-only and hash-chained: each entry carries the hash of
// the one before, so an altered, removed or reordered entry is detected.
type AuditEntry struct {
	ID      int64
	At      time.Time
	ActorID int64  // 0 for the system
	Actor   string // user name, or "system"
	// Action is a dotted verb: "login", "login.failed", "media.view",
	// "media.reveal", "media.assess", "user.create", "setting.change", …
	Action string
	// Object names what was acted on: "media:42", "user:7", "case:3".
	Object string
	// Detail is a JSON object with the rest.
	Detail   string
	PrevHash string
	Hash     string
	// KeyID names the secret key whose HMAC made Hash; empty for the
	// entries written before the chain was keyed, whose Hash is a plain
	// SHA-256 that anyone with the database could recompute.
	KeyID string
}

// AuditFilter selects audit entries for reading.
type AuditFilter struct {
	ActorID  int64
	Action   string
	Object   string
	BeforeID int64 // entries with a smaller ID; 0 for the newest
	Limit    int
}

// AuditVerification is the result of checking the whole chain.
type AuditVerification struct {
	Entries int64
	// FirstBadID is the first entry whose hash or link does not hold; 0
	// when the chain is intact.
	FirstBadID int64
	Problem    string
	// LastID and LastHash name the newest entry read.
	LastID   int64
	LastHash string
	// KeyedFrom is the first entry made with the secret key; 0 when the
	// chain is not keyed yet.
	KeyedFrom int64
	// Anchors is how many checkpoints the chain was checked against.
	Anchors int
}

// AuditAnchor is a checkpoint of the chain kept outside the database: the
// hash its newest entry had when the checkpoint was taken. An anchor that
// names an entry the log no longer has reveals a cut tail; one whose hash
// differs reveals a rewrite, however consistently the rest was recomputed.
type AuditAnchor struct {
	ID    int64
	Hash  string
	At    time.Time
	KeyID string
	// Source says where the anchor was read ("checkpoint file line 3").
	Source string
}

// AuditHeadState is the newest entry the log's head names, and the key
// it is chained with.
type AuditHeadState struct {
	ID    int64
	Hash  string
	KeyID string
}

// AuditService keeps the audit log.
type AuditService interface {
	// AppendAudit adds an entry, filling in ID, At (if zero), PrevHash and
	// Hash.
	AppendAudit(ctx context.Context, e *AuditEntry) error
	ListAudit(ctx context.Context, f AuditFilter) ([]*AuditEntry, error)
	VerifyAudit(ctx context.Context) (AuditVerification, error)
	// VerifyAuditAnchored is VerifyAudit that also checks the chain
	// against checkpoints kept outside the database.
	VerifyAuditAnchored(ctx context.Context, anchors []AuditAnchor) (AuditVerification, error)
	AuditHead(ctx context.Context) (AuditHeadState, error)
}
