package federation

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"time"

	"github.com/vigil-hotline/vigil"
)

// Case is what a referral is built from: one case on the takedown path.
type Case struct {
	Reference string
	Hotline   string // our name, the assessing hotline
	URL       string
	FirstSeen time.Time
	// Classification is the case's; AssessedAt when it was found
	// illegal (the takedown's opening).
	Classification string
	AssessedAt     time.Time
	Hosting        *Hosting
	Media          []vigil.KnownMedia
	Fetches        []*vigil.Fetch
}

// BuildReferral renders a case's referral: hashes, classifications and
// evidence references, never media. The bytes are stored and sent as
// they are on every attempt, so the partner sees one referral.
func BuildReferral(c Case, now time.Time) ([]byte, error) {
	u := URL{URL: c.URL, FirstSeen: c.FirstSeen.UTC(), Classification: c.Classification, Hosting: c.Hosting}
	seen := map[string]bool{}
	for _, m := range c.Media {
		if seen[m.SHA256] || len(u.Media) >= MaxItemsPerURL {
			continue
		}
		seen[m.SHA256] = true
		u.Media = append(u.Media, Item{SHA256: m.SHA256, MD5: m.MD5, PDQ: m.PDQ, VPDQ: usableFrames(m.VPDQ),
			Classification: m.Classification, AssessedBy: c.Hotline, AssessedAt: c.AssessedAt.UTC(),
			EvidenceRef: fmt.Sprintf("fetch-%d", m.FetchID)})
	}
	for _, f := range c.Fetches {
		if len(u.Evidence) >= MaxEvidence {
			break
		}
		u.Evidence = append(u.Evidence, Evidence{Ref: fmt.Sprintf("fetch-%d", f.ID), FetchedAt: f.StartedAt.UTC(),
			Address: addressOnly(f.Connected), Status: f.Status, ResponseSHA256: f.BodySHA256})
	}
	r := Referral{Version: Version, Reference: c.Reference, Hotline: c.Hotline, SentAt: now.UTC(), URLs: []URL{u}}
	b, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("referral: %w", err)
	}
	return b, nil
}

// usableFrames keeps a video's frames that matching uses (quality at
// least vigil.VideoMinQuality): the others never match and only take room.
// None when none is usable or more than MaxVPDQFrames are: a list cut
// short would be another video's, and the SHA-256 still travels.
func usableFrames(fs []vigil.VideoFrame) []vigil.VideoFrame {
	var out []vigil.VideoFrame
	for _, f := range fs {
		if f.Quality >= vigil.VideoMinQuality {
			out = append(out, f)
		}
	}
	if len(out) > MaxVPDQFrames {
		return nil
	}
	return out
}

// addressOnly keeps the address of an "address:port" (a fetch's
// connection), "" when it is neither.
func addressOnly(s string) string {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().String()
	}
	if a, err := netip.ParseAddr(s); err == nil {
		return a.String()
	}
	return ""
}
