package federation

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/vigil-hotline/vigil"
)

// Version is the referral format's version.
const Version = 1

// Limits on what a partner may send: a referral beyond them is refused
// whole, with the reason, before anything is stored.
const (
	MaxBodyBytes      = 1 << 20
	MaxURLs           = vigil.MaxReportURLs
	MaxItems          = 1000 // media items, over all URLs
	MaxItemsPerURL    = 500
	MaxAddresses      = 32
	MaxEvidence       = 100 // evidence references per URL
	MaxVPDQFrames     = 1024
	MaxText           = 200 // names, hosts, references
	MaxDetail         = 1000
	maxFutureSkew     = 10 * time.Minute
	oldestAcceptedDay = 2000
)

// Referral is what a hotline sends a partner: one case, its URLs, the
// hosting found, and per media item the hashes and the assessment.
type Referral struct {
	Version int `json:"version"`
	// Reference is the sender's case reference (BE-2026-000123):
	// referrals are idempotent on it.
	Reference string    `json:"reference"`
	Hotline   string    `json:"hotline"` // the sender's name
	SentAt    time.Time `json:"sent_at"`
	URLs      []URL     `json:"urls"`
}

// URL is one referred URL.
type URL struct {
	URL       string    `json:"url"`
	FirstSeen time.Time `json:"first_seen"`
	// Classification is the URL's assessment as a whole.
	Classification string     `json:"classification,omitempty"`
	Hosting        *Hosting   `json:"hosting,omitempty"`
	Media          []Item     `json:"media,omitempty"`
	Evidence       []Evidence `json:"evidence,omitempty"`
}

// Hosting is the sender's trace of where a URL is hosted.
type Hosting struct {
	TracedAt     time.Time `json:"traced_at"`
	Host         string    `json:"host"`
	Addresses    []string  `json:"addresses,omitempty"`
	Country      string    `json:"country,omitempty"`
	ASN          uint32    `json:"asn,omitempty"`
	Network      string    `json:"network,omitempty"`
	CDN          string    `json:"cdn,omitempty"`
	AbuseContact string    `json:"abuse_contact,omitempty"`
}

// Item is one media item: its hashes and who assessed it, when, as what.
// The media itself is never in a referral.
type Item struct {
	SHA256 string `json:"sha256"`
	MD5    string `json:"md5,omitempty"`
	PDQ    string `json:"pdq,omitempty"`
	// VPDQ is a video's vPDQ: its sampled frames (number, quality, PDQ,
	// time), as Vigil's video banks hold them. The sender leaves out
	// frames below vigil.VideoMinQuality (never matched) and the whole
	// list when the rest passes MaxVPDQFrames.
	VPDQ           []vigil.VideoFrame `json:"vpdq,omitempty"`
	Classification string             `json:"classification,omitempty"`
	AssessedBy     string             `json:"assessed_by,omitempty"` // the assessing hotline
	AssessedAt     time.Time          `json:"assessed_at,omitzero"`
	EvidenceRef    string             `json:"evidence_ref,omitempty"`
}

// Evidence is one fetch the sender recorded: when, from which address,
// and the digest of what was received.
type Evidence struct {
	Ref            string    `json:"ref"`
	FetchedAt      time.Time `json:"fetched_at"`
	Address        string    `json:"address,omitempty"`
	Status         int       `json:"status,omitempty"`
	ResponseSHA256 string    `json:"response_sha256,omitempty"`
}

var (
	referenceRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)
	hex64RE     = regexp.MustCompile(`^[0-9a-f]{64}$`)
	hex32RE     = regexp.MustCompile(`^[0-9a-f]{32}$`)
	hostRE      = regexp.MustCompile(`^[A-Za-z0-9._:\[\]-]{1,253}$`)
)

// ValidReference reports whether s may be a case reference.
func ValidReference(s string) bool { return referenceRE.MatchString(s) }

// decodeStrict decodes exactly one JSON value with no unknown fields.
func decodeStrict(body []byte, v any) error {
	if len(body) > MaxBodyBytes {
		return vigil.Errorf(vigil.ETOOLARGE, "the body is larger than %d bytes", MaxBodyBytes)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return vigil.Errorf(vigil.EINVALID, "the body is not a valid referral: %s", jsonReason(err))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return vigil.Errorf(vigil.EINVALID, "the body holds more than one JSON value")
	}
	return nil
}

// jsonReason names a decoding problem without echoing the input at length.
func jsonReason(err error) string {
	msg := err.Error()
	if len(msg) > 200 {
		msg = msg[:200]
	}
	return strings.ToValidUTF8(msg, "?")
}

// text checks a free-text field: valid UTF-8, no control characters,
// bounded.
func text(field, s string, limit int) error {
	if len(s) > limit {
		return vigil.Errorf(vigil.EINVALID, "%s is longer than %d bytes", field, limit)
	}
	if !utf8.ValidString(s) {
		return vigil.Errorf(vigil.EINVALID, "%s is not valid UTF-8", field)
	}
	if strings.IndexFunc(s, unicode.IsControl) >= 0 {
		return vigil.Errorf(vigil.EINVALID, "%s holds control characters", field)
	}
	return nil
}

// when checks a time: set, after 2000, not in the future beyond a skew.
func when(field string, t time.Time, now time.Time, required bool) error {
	if t.IsZero() {
		if required {
			return vigil.Errorf(vigil.EINVALID, "%s is required", field)
		}
		return nil
	}
	if t.Year() < oldestAcceptedDay || t.After(now.Add(maxFutureSkew)) {
		return vigil.Errorf(vigil.EINVALID, "%s is out of range", field)
	}
	return nil
}

func classification(field, s string) (string, error) {
	if s == "" {
		return "", nil
	}
	if err := text(field, s, 64); err != nil {
		return "", err
	}
	c, err := vigil.Vocabulary(nil).Normalize(s)
	if err != nil {
		return "", vigil.Errorf(vigil.EINVALID, "%s: %s", field, vigil.ErrorMessage(err))
	}
	return c, nil
}

// ParseReferral reads and validates a referral from a partner: strict
// JSON, every field checked as a report's would be, URLs normalised,
// hashes lower-case. now bounds the times.
func ParseReferral(body []byte, now time.Time) (*Referral, error) {
	var r Referral
	if err := decodeStrict(body, &r); err != nil {
		return nil, err
	}
	if r.Version != Version {
		return nil, vigil.Errorf(vigil.EINVALID, "referral version %d is not supported (want %d)", r.Version, Version)
	}
	if !referenceRE.MatchString(r.Reference) {
		return nil, vigil.Errorf(vigil.EINVALID, "reference must be 1–64 letters, digits, '.', '_' or '-'")
	}
	if err := text("hotline", r.Hotline, MaxText); err != nil {
		return nil, err
	}
	if err := when("sent_at", r.SentAt, now, true); err != nil {
		return nil, err
	}
	switch {
	case len(r.URLs) == 0:
		return nil, vigil.Errorf(vigil.EINVALID, "a referral needs at least one URL")
	case len(r.URLs) > MaxURLs:
		return nil, vigil.Errorf(vigil.ETOOLARGE, "a referral may hold at most %d URLs", MaxURLs)
	}
	items, seen := 0, map[string]bool{}
	for i := range r.URLs {
		u := &r.URLs[i]
		field := fmt.Sprintf("urls[%d]", i)
		if len(u.URL) > vigil.MaxURLInputLength {
			return nil, vigil.Errorf(vigil.EINVALID, "%s.url is too long", field)
		}
		norm, err := vigil.NormalizeURL(u.URL)
		if err != nil {
			return nil, vigil.Errorf(vigil.EINVALID, "%s.url: %s", field, vigil.ErrorMessage(err))
		}
		if seen[norm] {
			return nil, vigil.Errorf(vigil.EINVALID, "%s.url is given twice", field)
		}
		seen[norm], u.URL = true, norm
		if err := when(field+".first_seen", u.FirstSeen, now, true); err != nil {
			return nil, err
		}
		if u.Classification, err = classification(field+".classification", u.Classification); err != nil {
			return nil, err
		}
		if err := checkHosting(field+".hosting", u.Hosting, now); err != nil {
			return nil, err
		}
		if len(u.Media) > MaxItemsPerURL {
			return nil, vigil.Errorf(vigil.ETOOLARGE, "%s holds more than %d media items", field, MaxItemsPerURL)
		}
		if items += len(u.Media); items > MaxItems {
			return nil, vigil.Errorf(vigil.ETOOLARGE, "a referral may hold at most %d media items", MaxItems)
		}
		for j := range u.Media {
			if err := checkItem(fmt.Sprintf("%s.media[%d]", field, j), &u.Media[j], now); err != nil {
				return nil, err
			}
		}
		if len(u.Evidence) > MaxEvidence {
			return nil, vigil.Errorf(vigil.ETOOLARGE, "%s holds more than %d evidence references", field, MaxEvidence)
		}
		for j := range u.Evidence {
			if err := checkEvidence(fmt.Sprintf("%s.evidence[%d]", field, j), &u.Evidence[j], now); err != nil {
				return nil, err
			}
		}
	}
	return &r, nil
}

func checkHosting(field string, h *Hosting, now time.Time) error {
	if h == nil {
		return nil
	}
	if err := when(field+".traced_at", h.TracedAt, now, false); err != nil {
		return err
	}
	if h.Host != "" && !hostRE.MatchString(h.Host) {
		return vigil.Errorf(vigil.EINVALID, "%s.host is not a host name", field)
	}
	if len(h.Addresses) > MaxAddresses {
		return vigil.Errorf(vigil.ETOOLARGE, "%s holds more than %d addresses", field, MaxAddresses)
	}
	for k, a := range h.Addresses {
		if _, err := netip.ParseAddr(a); err != nil {
			return vigil.Errorf(vigil.EINVALID, "%s.addresses[%d] is not an IP address", field, k)
		}
	}
	if h.Country != "" {
		cs, err := vigil.ParseCountries(h.Country)
		if err != nil || len(cs) != 1 {
			return vigil.Errorf(vigil.EINVALID, "%s.country is not an ISO 3166-1 alpha-2 code", field)
		}
		h.Country = cs[0]
	}
	for name, s := range map[string]string{"network": h.Network, "cdn": h.CDN, "abuse_contact": h.AbuseContact} {
		if err := text(field+"."+name, s, MaxText); err != nil {
			return err
		}
	}
	return nil
}

func checkItem(field string, it *Item, now time.Time) error {
	it.SHA256, it.MD5, it.PDQ = strings.ToLower(it.SHA256), strings.ToLower(it.MD5), strings.ToLower(it.PDQ)
	if !hex64RE.MatchString(it.SHA256) {
		return vigil.Errorf(vigil.EINVALID, "%s.sha256 must be 64 hex digits", field)
	}
	if it.MD5 != "" && !hex32RE.MatchString(it.MD5) {
		return vigil.Errorf(vigil.EINVALID, "%s.md5 must be 32 hex digits", field)
	}
	if it.PDQ != "" && !hex64RE.MatchString(it.PDQ) {
		return vigil.Errorf(vigil.EINVALID, "%s.pdq must be 64 hex digits", field)
	}
	if len(it.VPDQ) > MaxVPDQFrames {
		return vigil.Errorf(vigil.ETOOLARGE, "%s.vpdq holds more than %d frames", field, MaxVPDQFrames)
	}
	if len(it.VPDQ) > 0 {
		if err := vigil.ValidateVideoFrames(it.VPDQ); err != nil {
			return vigil.Errorf(vigil.EINVALID, "%s.vpdq: %s", field, vigil.ErrorMessage(err))
		}
	}
	var err error
	if it.Classification, err = classification(field+".classification", it.Classification); err != nil {
		return err
	}
	if err := text(field+".assessed_by", it.AssessedBy, MaxText); err != nil {
		return err
	}
	if err := when(field+".assessed_at", it.AssessedAt, now, it.Classification != ""); err != nil {
		return err
	}
	return text(field+".evidence_ref", it.EvidenceRef, MaxText)
}

func checkEvidence(field string, e *Evidence, now time.Time) error {
	if err := text(field+".ref", e.Ref, MaxText); err != nil {
		return err
	}
	if err := when(field+".fetched_at", e.FetchedAt, now, true); err != nil {
		return err
	}
	if e.Address != "" {
		if _, err := netip.ParseAddr(e.Address); err != nil {
			return vigil.Errorf(vigil.EINVALID, "%s.address is not an IP address", field)
		}
	}
	if e.Status < 0 || e.Status > 999 {
		return vigil.Errorf(vigil.EINVALID, "%s.status is not an HTTP status", field)
	}
	e.ResponseSHA256 = strings.ToLower(e.ResponseSHA256)
	if e.ResponseSHA256 != "" && !hex64RE.MatchString(e.ResponseSHA256) {
		return vigil.Errorf(vigil.EINVALID, "%s.response_sha256 must be 64 hex digits", field)
	}
	return nil
}

// Status is a step of a referred case at the receiving hotline.
type Status string

// The steps the receiver reports back.
const (
	StatusReceived   Status = "received"
	StatusAssessed   Status = "assessed"
	StatusForwarded  Status = "forwarded" // to the police
	StatusNoticeSent Status = "notice_sent"
	StatusRemoved    Status = "removed"
	StatusNotFound   Status = "not_found" // the content was not there
)

// Statuses lists the steps in their usual order.
var Statuses = []Status{StatusReceived, StatusAssessed, StatusForwarded, StatusNoticeSent, StatusRemoved, StatusNotFound}

// StatusUpdate is what the receiver posts to the referring hotline's
// POST /api/v1/referrals/{ref}/status.
type StatusUpdate struct {
	Reference string    `json:"reference"` // the referring hotline's case reference
	Status    Status    `json:"status"`
	At        time.Time `json:"at"`
	// Classification is the receiver's own, where it differs.
	Classification string `json:"classification,omitempty"`
	Detail         string `json:"detail,omitempty"`
}

// ParseStatus reads and validates a status update for the case ref.
func ParseStatus(body []byte, ref string, now time.Time) (*StatusUpdate, error) {
	var s StatusUpdate
	if err := decodeStrict(body, &s); err != nil {
		return nil, err
	}
	if s.Reference != ref || !referenceRE.MatchString(ref) {
		return nil, vigil.Errorf(vigil.EINVALID, "the update's reference must be the case's in the path")
	}
	if !validStatus(s.Status) {
		return nil, vigil.Errorf(vigil.EINVALID, "unknown status %q", truncate(string(s.Status), 40))
	}
	if err := when("at", s.At, now, true); err != nil {
		return nil, err
	}
	var err error
	if s.Classification, err = classification("classification", s.Classification); err != nil {
		return nil, err
	}
	if err := text("detail", s.Detail, MaxDetail); err != nil {
		return nil, err
	}
	return &s, nil
}

func validStatus(s Status) bool {
	for _, x := range Statuses {
		if s == x {
			return true
		}
	}
	return false
}

func truncate(s string, n int) string {
	if len(s) > n {
		s = s[:n]
	}
	return strings.ToValidUTF8(s, "?")
}
