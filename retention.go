package vigil

import (
	"context"
	"time"
)

// RetentionKind is a kind of data with a retention period of its own.
type RetentionKind string

const (
	// RetainReports: reports none of whose URLs had illegal content, once
	// closed (every crawl ended, nothing waiting for an analyst).
	RetainReports RetentionKind = "reports"
	// RetainContacts: reporters' contact addresses.
	RetainContacts RetentionKind = "contacts"
	// RetainMediaNotIllegal: the bytes of media assessed (or matched) not
	// illegal. Their hashes stay, so they are recognised if they return.
	RetainMediaNotIllegal RetentionKind = "media-not-illegal"
	// RetainMediaClosed: the bytes of media whose every case is closed
	// (the content was removed).
	RetainMediaClosed RetentionKind = "media-closed"
	// RetainFetchEvidence: the evidence of fetches (headers, addresses) of
	// cases without illegal content, or closed.
	RetainFetchEvidence RetentionKind = "fetch-evidence"
	// RetainLogs: the recheck log of closed cases and ended sessions.
	RetainLogs RetentionKind = "logs"
	// RetainExposure: analysts' daily exposure records.
	RetainExposure RetentionKind = "exposure"
)

// RetentionKinds lists every kind, in the order they are purged.
var RetentionKinds = []RetentionKind{RetainReports, RetainContacts, RetainMediaNotIllegal, RetainMediaClosed,
	RetainFetchEvidence, RetainLogs, RetainExposure}

// RetentionPolicy is how long each kind is kept after its reference time
// (received, first seen, fetched, removed, …). A kind missing or zero is
// kept for ever.
type RetentionPolicy map[RetentionKind]time.Duration

// Day is 24 hours, the unit retention is configured in.
const Day = 24 * time.Hour

// DefaultRetention is what a hotline starts with. It keeps personal data
// (contacts, reports without illegal content, exposure) shortest, and what
// the police may still ask for (media and evidence of closed cases) a
// year; a deployment sets its own according to its legal basis.
var DefaultRetention = RetentionPolicy{
	RetainReports:         365 * Day,
	RetainContacts:        90 * Day,
	RetainMediaNotIllegal: 30 * Day,
	RetainMediaClosed:     365 * Day,
	RetainFetchEvidence:   365 * Day,
	RetainLogs:            90 * Day,
	RetainExposure:        730 * Day,
}

// Cutoff is the time before which data of kind k goes; false when k is
// kept for ever.
func (p RetentionPolicy) Cutoff(k RetentionKind, now time.Time) (time.Time, bool) {
	d := p[k]
	if d <= 0 {
		return time.Time{}, false
	}
	return now.Add(-d), true
}

// PurgePlan is what a purge would remove: for each kind, the IDs of what
// goes (reports, media, fetches, rechecks) or, for rows without an ID of
// their own (sessions, exposure days), only how many.
type PurgePlan struct {
	Now    time.Time
	Policy RetentionPolicy
	IDs    map[RetentionKind][]int64
	Counts map[RetentionKind]int
	// Held is how many items a legal hold kept that the policy would
	// otherwise have purged.
	Held int
}

// Total is how many items the plan removes.
func (p *PurgePlan) Total() int {
	n := 0
	for _, c := range p.Counts {
		n += c
	}
	return n
}

// PurgedBlob is a media item whose row the purge marked, and whose bytes
// are still to be deleted from the blob store.
type PurgedBlob struct {
	MediaID int64
	BlobKey string
}

// LegalHold keeps a case and everything of it from the purge.
type LegalHold struct {
	CaseID    int64 // the reported URL
	Reason    string
	SetBy     int64 // the user; 0 from the command line
	SetByName string
	SetAt     time.Time
}

// MaxHoldReasonLength bounds a hold's reason.
const MaxHoldReasonLength = 500

// RetentionService plans and applies purges and keeps legal holds.
type RetentionService interface {
	// PlanPurge lists what the policy removes at now, at most limit items
	// per kind, sparing cases on legal hold.
	PlanPurge(ctx context.Context, policy RetentionPolicy, now time.Time, limit int) (*PurgePlan, error)
	// ApplyPurge removes what plan lists, checking the holds again, and
	// returns what it removed per kind. Media rows are marked purged; their
	// bytes are then listed by PendingBlobPurges.
	ApplyPurge(ctx context.Context, plan *PurgePlan) (map[RetentionKind]int, error)
	PendingBlobPurges(ctx context.Context, limit int) ([]PurgedBlob, error)
	// BlobPurged records that a purged media item's bytes are gone.
	BlobPurged(ctx context.Context, mediaID int64) error

	SetLegalHold(ctx context.Context, h *LegalHold) error
	LiftLegalHold(ctx context.Context, caseID int64) error
	FindLegalHold(ctx context.Context, caseID int64) (*LegalHold, error)
	ListLegalHolds(ctx context.Context) ([]*LegalHold, error)
}
