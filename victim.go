package vigil

import (
	"context"
	"encoding/hex"
	"math/bits"
	"strings"
	"time"
	"unicode/utf8"
)

// The victim's path: a person shown in images hashes them on their own
// device and sends only the hashes, which go to the victim bank. No
// picture, name or contact ever reaches Vigil.
const (
	// SourceVictim is the source of the victim bank.
	SourceVictim BankSource = "victim"
	// VictimBankName is the one bank that holds victims' hashes. It can
	// be matched against, never exported or listed entry by entry.
	VictimBankName = "victims"
	// ClassSelfReported is the classification of the victim bank's
	// entries: "reported by the person shown". Matches of it take the
	// victim route (a priority notice to the provider) without waiting for
	// an analyst, unless the submission is flagged.
	ClassSelfReported = "self-reported"
)

// Limits on one submission, so that the path cannot be used to flood the
// bank: a person sends a few pictures, not a collection.
const (
	MaxVictimHashes      = 50
	MaxVictimDescription = 1000
	// VictimFlagUnrelated is how many mutually unrelated pictures one
	// hash of a submission may match before the submission is flagged: a
	// victim's picture matches copies of itself; a generic picture sent to
	// take down legitimate content matches pictures unlike each other.
	VictimFlagUnrelated = 3
)

// VictimHash is one hash a person sends. Quality is the PDQ quality the
// page computed: the server cannot check it without the picture, but it
// refuses what the page itself says is too weak to match reliably.
type VictimHash struct {
	Type    SignalType `json:"type"`
	Value   string     `json:"value"`
	Quality *int       `json:"quality,omitempty"`
}

// VictimSubmission is one person's hashes, with an optional description
// for the analysts. It identifies no one: the tracking code is the only
// handle on it.
type VictimSubmission struct {
	ID           int64
	TrackingCode string
	Description  string
	Hashes       []VictimHash
	CreatedAt    time.Time
	WithdrawnAt  *time.Time
}

// NewVictimSubmission validates what a person sent and gives it a
// tracking code. Hashes are normalised and de-duplicated.
func NewVictimSubmission(hashes []VictimHash, description string, now time.Time) (*VictimSubmission, error) {
	if len(hashes) == 0 {
		return nil, &Error{Code: EINVALID, Key: "err_no_hash", Message: "Send at least one hash."}
	}
	if len(hashes) > MaxVictimHashes {
		return nil, &Error{Code: EINVALID, Key: "err_too_many_hashes", Message: "Too many hashes in one submission."}
	}
	description = strings.TrimSpace(description)
	if !utf8.ValidString(description) || utf8.RuneCountInString(description) > MaxVictimDescription {
		return nil, &Error{Code: EINVALID, Key: "err_victim_description", Message: "The description is too long."}
	}
	s := &VictimSubmission{TrackingCode: NewTrackingCode(), Description: description, CreatedAt: now.UTC()}
	seen := map[string]bool{}
	for _, h := range hashes {
		switch h.Type {
		case SignalPDQ, SignalMD5, SignalSHA256:
		default:
			return nil, &Error{Code: EINVALID, Key: "err_hash", Message: "Only pdq, md5 and sha256 hashes are accepted."}
		}
		v, err := NormalizeSignalValue(h.Type, h.Value)
		if err != nil {
			return nil, &Error{Code: EINVALID, Key: "err_hash", Message: "A hash is not valid."}
		}
		if h.Type == SignalPDQ {
			// The page always sends the quality; a hash without one did
			// not come from it, and a weak one would match too much.
			if h.Quality == nil || *h.Quality < DefaultMinPDQQuality || *h.Quality > 100 {
				return nil, &Error{Code: EINVALID, Key: "err_pdq_quality",
					Message: "One picture has too little detail to be recognised reliably."}
			}
			if v == strings.Repeat("0", 64) || v == strings.Repeat("f", 64) {
				return nil, &Error{Code: EINVALID, Key: "err_pdq_quality", Message: "A PDQ hash is degenerate."}
			}
		} else {
			h.Quality = nil
		}
		if seen[string(h.Type)+v] {
			continue
		}
		seen[string(h.Type)+v] = true
		s.Hashes = append(s.Hashes, VictimHash{Type: h.Type, Value: v, Quality: h.Quality})
	}
	return s, nil
}

// VictimStatus is what the person sees with their tracking code: counts,
// never URLs, so that no one is sent to their own images.
type VictimStatus struct {
	Hashes    int
	Found     int // copies found: pages where a match was seen
	Removed   int // of those, the ones confirmed gone
	Withdrawn bool
}

// VictimSubmissionSummary is a supervisor's view of one submission:
// nothing that identifies the person, and never its hashes' pictures
// (there are none).
type VictimSubmissionSummary struct {
	ID          int64
	Description string
	Hashes      int
	CreatedAt   time.Time
	WithdrawnAt *time.Time
	// Matched counts the media its hashes matched; Unrelated is the most
	// mutually different pictures one of its hashes matched (see
	// UnrelatedPictures).
	Matched   int
	Unrelated int
	// Flagged: its matches are held for an analyst instead of noticed.
	FlaggedAt *time.Time
}

// VictimService stores submissions to the victim bank.
type VictimService interface {
	// CreateVictimSubmission adds the hashes to the victim bank (created
	// on first use) and stores the submission, in one transaction.
	CreateVictimSubmission(ctx context.Context, s *VictimSubmission) error
	// VictimStatus counts the copies found and removed for a tracking
	// code (ENOTFOUND when no submission has it).
	VictimStatus(ctx context.Context, code string) (*VictimStatus, error)
	// WithdrawVictimSubmission takes the submission's hashes out of the
	// bank (and so, through the change feed, out of every process's
	// index); hashes another live submission holds stay.
	WithdrawVictimSubmission(ctx context.Context, code string) error
	// ListVictimSubmissions lists submissions, flagged first, newest
	// first.
	ListVictimSubmissions(ctx context.Context, limit int) ([]*VictimSubmissionSummary, error)
	// SetVictimFlag flags or clears a submission by hand.
	SetVictimFlag(ctx context.Context, id int64, flagged bool) error
	// VictimDescriptions returns the descriptions of the live submissions
	// that sent a bank entry ("" for one without), for the analysts.
	VictimDescriptions(ctx context.Context, entryID int64) ([]string, error)
}

// UnrelatedPictures counts how many mutually different pictures a set of
// PDQ hashes shows: hashes within threshold bits of a picture already
// counted are copies of it. Greedy, which is enough for a warning sign.
func UnrelatedPictures(pdqs []string, threshold int) int {
	var reps [][]byte
next:
	for _, h := range pdqs {
		b, err := hex.DecodeString(h)
		if err != nil || len(b) != 32 {
			continue
		}
		for _, r := range reps {
			d := 0
			for i := range b {
				d += bits.OnesCount8(b[i] ^ r[i])
			}
			if d <= threshold {
				continue next
			}
		}
		reps = append(reps, b)
	}
	return len(reps)
}
