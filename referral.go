package vigil

import (
	"context"
	"time"
)

// SourceReferral marks a report that a partner hotline referred to us.
const SourceReferral ReportSource = "referral"

// OutboundReferral is the kind of an outbound message that is a referral
// to a partner running Vigil: its Raw is the referral's JSON, its
// Recipient the partner's name, its MessageID our case reference. The
// partner takes a referral once per reference, so one interrupted between
// sending and recording is sent again rather than left uncertain.
const OutboundReferral = "referral"

// InboundReferral is a referral received from a partner, checked and
// ready to store.
type InboundReferral struct {
	ID      int64
	Partner string
	// Reference is the partner's case reference.
	Reference string
	// Nonce is the signed request's nonce, refused a second time.
	Nonce string
	// Report is the case: the referred URLs, source referral, crawled by
	// us as any report is.
	Report *Report
	// Accepted are the partner's classifications accepted under its trust
	// settings, as entries of its bank (PartnerBankName): the items they
	// match are known and never reach an analyst.
	Accepted []*BankEntry
	// Body is the referral as received (JSON), kept as evidence.
	Body       []byte
	ReceivedAt time.Time
}

// ReferralStatus is one step of a referred case. Direction "in" is what a
// partner reported about a case we referred (CaseRef ours); "out" is what
// we report to the partner that referred a case to us (CaseRef theirs),
// sent once like any outbound message.
type ReferralStatus struct {
	ID        int64
	Direction string
	Partner   string
	CaseRef   string
	Status    string // received, assessed, forwarded, notice_sent, removed, not_found
	// Classification is the receiver's own, where it differs from ours.
	Classification string
	Detail         string
	At             time.Time
	State          OutboundState // "out" only
	Attempts       int
	Error          string
	RecordedAt     time.Time
}

// Directions of referral statuses.
const (
	ReferralIn  = "in"
	ReferralOut = "out"
)

// ReferralService stores referrals received and the statuses that travel
// between the hotlines.
type ReferralService interface {
	// ReceiveReferral stores a partner's referral in one transaction: the
	// nonce, the case (its crawl queued), the accepted classifications and
	// the "received" status to send back. A nonce seen before is refused
	// (ECONFLICT) and nothing stored; a reference received before returns
	// created false with the stored case's report (in.Report's ID and
	// tracking code set), and nothing new is stored but the nonce.
	ReceiveReferral(ctx context.Context, in *InboundReferral) (created bool, err error)
	// RecordPartnerStatus stores a status a partner reported about a case
	// we referred to it, refusing a replayed nonce (ECONFLICT) and a case
	// we never referred to that partner (ENOTFOUND). A removal reported
	// closes our case as removed at the time given.
	RecordPartnerStatus(ctx context.Context, nonce string, st *ReferralStatus) (created bool, err error)
	// ReferralStatuses returns the statuses of a direction for a case
	// reference, oldest first (all cases when caseRef is "").
	ReferralStatuses(ctx context.Context, direction, caseRef string) ([]*ReferralStatus, error)
	// FindReferralIn returns the referral a partner sent us under its
	// reference, with its body and its report's ID and tracking code;
	// ENOTFOUND when that partner sent none under it.
	FindReferralIn(ctx context.Context, partner, reference string) (*InboundReferral, error)
	// ListReferralsIn returns the latest referrals received, newest first,
	// with their bodies and reports (ID and tracking code).
	ListReferralsIn(ctx context.Context, limit int) ([]*InboundReferral, error)
	// AddReferralMedia records a medium (by SHA-256) the partner sent with
	// its referral, kept encrypted in the blob store under blobName: once
	// per referral and digest (created false when recorded before);
	// ENOTFOUND when that partner sent no referral under reference.
	AddReferralMedia(ctx context.Context, partner, reference, sha256, blobName string, size int64) (created bool, err error)
	// ReferralMedia returns the media received with a referral: SHA-256
	// to blob name.
	ReferralMedia(ctx context.Context, partner, reference string) (map[string]string, error)
	// MediaClassifications returns our classification of the media with
	// these SHA-256 digests that have one, by digest.
	MediaClassifications(ctx context.Context, sha256s []string) (map[string]string, error)
}

// ReferralStatusWork is what the worker that reports statuses back needs.
type ReferralStatusWork interface {
	// ClaimReferralStatus marks an "out" status "sending" and returns it;
	// nil when it was sent or failed already. One found "sending" (a crash
	// between sending and recording) is sent again: the partner takes a
	// status once per case and step.
	ClaimReferralStatus(ctx context.Context, id int64) (*ReferralStatus, error)
	RecordReferralStatusSent(ctx context.Context, id int64, state OutboundState, errText string) error
	FindPartner(ctx context.Context, name string) (*Partner, error)
}
