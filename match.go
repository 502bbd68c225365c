package vigil

import "context"

// DefaultPDQThreshold is the field's standard: two PDQ hashes within 31 bits
// of each other are the same picture.
const DefaultPDQThreshold = 31

// DefaultMinPDQQuality: PDQ hashes of lower quality (featureless images)
// match too much to be trusted and never produce a match.
const DefaultMinPDQQuality = 50

// MatchQuery is what is known of one media item: its exact digests and,
// for images, its PDQ hash with quality and optionally the eight dihedral
// hashes (to recognise rotated and flipped copies). Values are lower-case
// hex; empty means unknown.
type MatchQuery struct {
	MD5      string
	SHA1     string
	SHA256   string
	PDQ      string
	Quality  int
	Dihedral []string
	// Video is a video's vPDQ frames: it matches known videos by the
	// banks' P_q/P_c rule.
	Video []VideoFrame
}

// Match is one bank entry that a query matched.
type Match struct {
	BankID         int64
	BankName       string
	BankSource     BankSource
	EntryID        int64
	Signal         SignalType
	Value          string
	Distance       int // 0 for exact signals
	Classification string
	// Variant names the dihedral variant that matched ("orig" when not
	// rotated or flipped).
	Variant string
	// QueryPercent and CompPercent are a vpdq match's shares of frames
	// found (see CompareVideos); QueryFrames the query's frames (indices)
	// that were found.
	QueryPercent, CompPercent float64
	QueryFrames               []int
	// Provenance, when the entry came from an exchange (ExchangeID 0:
	// none): which exchange, its id of the entry and its label, verbatim.
	ExchangeID             int64
	ExchangeName           string
	UpstreamID             string
	UpstreamClassification string
}

// WithProvenance copies an entry's provenance into the match.
func (m Match) WithProvenance(e *BankEntry) Match {
	m.ExchangeID, m.ExchangeName = e.ExchangeID, e.ExchangeName
	m.UpstreamID, m.UpstreamClassification = e.UpstreamID, e.UpstreamClassification
	return m
}

// Matcher answers whether media are known. One implementation
// (internal/match) serves the crawler, `vigil match` and the scanning API.
type Matcher interface {
	// Match returns every match in enabled banks, best first, and none when
	// an allow bank holds the item. A PDQ hash under the minimum quality
	// never matches.
	Match(ctx context.Context, q MatchQuery) ([]Match, error)
}
