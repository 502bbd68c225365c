package federation

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/vigil-hotline/vigil"
)

func TestSignVerify(t *testing.T) {
	key := SigningKey([]byte("a secret of at least 32 bytes...."))
	if again := SigningKey([]byte("a secret of at least 32 bytes....")); !again.Equal(key) {
		t.Fatal("the key is not derived deterministically")
	}
	pub := key.Public().(ed25519.PublicKey)
	now := time.Now()
	body := []byte(`{"a":1}`)
	req, _ := http.NewRequest(http.MethodPost, "https://partner.example/api/v1/referrals", bytes.NewReader(body))
	Sign(req, key, body, now)
	if got, err := SenderKey(req); err != nil || !got.Equal(pub) {
		t.Fatalf("sender key: %v", err)
	}
	s, err := Verify(req, pub, body, now.Add(time.Minute))
	if err != nil || len(s.Nonce) != 32 {
		t.Fatalf("verify: %v", err)
	}
	refused := func(what string, r *http.Request, b []byte, at time.Time) {
		t.Helper()
		if _, err := Verify(r, pub, b, at); vigil.ErrorCode(err) != vigil.EUNAUTHORIZED {
			t.Errorf("%s: %v", what, err)
		}
	}
	refused("other body", req, []byte(`{"a":2}`), now)
	refused("too late", req, body, now.Add(Window+time.Second))
	refused("too early", req, body, now.Add(-Window-time.Second))
	other, _ := http.NewRequest(http.MethodPost, "https://partner.example/api/v1/referrals/X/status", bytes.NewReader(body))
	other.Header = req.Header.Clone()
	refused("other path", other, body, now)
	bad := req.Clone(req.Context())
	bad.Header.Set(HeaderNonce, "x")
	refused("bad nonce", bad, body, now)
	bad = req.Clone(req.Context())
	bad.Header.Set(HeaderSignature, "AAAA")
	refused("short signature", bad, body, now)
	_, stranger, _ := ed25519.GenerateKey(nil)
	if _, err := Verify(req, stranger.Public().(ed25519.PublicKey), body, now); err == nil {
		t.Error("another key verifies")
	}
}

func validReferral(now time.Time) []byte {
	r := Referral{Version: 1, Reference: "BE-2026-000123", Hotline: "Child Focus", SentAt: now, URLs: []URL{{
		URL: "HTTPS://Example.ORG/a#frag", FirstSeen: now.Add(-time.Hour), Classification: "Baseline",
		Media: []Item{{SHA256: strings.Repeat("A", 64), Classification: "baseline", AssessedAt: now}},
	}}}
	b, _ := json.Marshal(r)
	return b
}

func TestParseReferral(t *testing.T) {
	now := time.Now().UTC()
	r, err := ParseReferral(validReferral(now), now)
	if err != nil {
		t.Fatal(err)
	}
	if r.URLs[0].URL != "https://example.org/a" || r.URLs[0].Media[0].SHA256 != strings.Repeat("a", 64) || r.URLs[0].Classification != "baseline" {
		t.Errorf("not normalised: %+v", r.URLs[0])
	}
	if _, err := ParseReferral(validReferral(now), now.Add(-time.Hour)); err == nil {
		t.Error("times in the future accepted")
	}
	if _, err := ParseReferral(bytes.Repeat([]byte(" "), MaxBodyBytes+1), now); vigil.ErrorCode(err) != vigil.ETOOLARGE {
		t.Errorf("too large: %v", err)
	}
	noClassTime := strings.Replace(string(validReferral(now)), `"assessed_at"`, `"x_assessed_at"`, 1)
	if _, err := ParseReferral([]byte(noClassTime), now); err == nil {
		t.Error("unknown field accepted")
	}
}

func TestParseStatus(t *testing.T) {
	now := time.Now().UTC()
	ok := []byte(`{"reference":"BE-1","status":"removed","at":"` + now.Format(time.RFC3339) + `","classification":"National"}`)
	s, err := ParseStatus(ok, "BE-1", now)
	if err != nil || s.Status != StatusRemoved || s.Classification != "national" {
		t.Fatalf("%+v %v", s, err)
	}
	for name, b := range map[string]string{
		"other ref":      `{"reference":"BE-2","status":"removed","at":"2026-01-01T00:00:00Z"}`,
		"unknown status": `{"reference":"BE-1","status":"burnt","at":"2026-01-01T00:00:00Z"}`,
		"no time":        `{"reference":"BE-1","status":"removed"}`,
		"long detail":    `{"reference":"BE-1","status":"removed","at":"2026-01-01T00:00:00Z","detail":"` + strings.Repeat("x", MaxDetail+1) + `"}`,
	} {
		if _, err := ParseStatus([]byte(b), "BE-1", now); vigil.ErrorCode(err) != vigil.EINVALID {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestBuildReferralParses(t *testing.T) {
	now := time.Now().UTC()
	b, err := BuildReferral(Case{Reference: "BE-2026-000001", Hotline: "Child Focus", URL: "https://example.org/x",
		FirstSeen: now.Add(-time.Hour), Classification: "baseline", AssessedAt: now.Add(-time.Minute),
		Hosting: &Hosting{Host: "example.org", Country: "NL", Addresses: []string{"192.0.2.1"}},
		Media: []vigil.KnownMedia{{SHA256: strings.Repeat("1", 64), MD5: strings.Repeat("2", 32), Classification: "baseline", FetchID: 3},
			{SHA256: strings.Repeat("1", 64), FetchID: 4}},
		Fetches: []*vigil.Fetch{{ID: 3, StartedAt: now, Connected: "192.0.2.1:443", Status: 200, BodySHA256: strings.Repeat("3", 64)}}}, now)
	if err != nil {
		t.Fatal(err)
	}
	r, err := ParseReferral(b, now)
	if err != nil {
		t.Fatalf("our own referral does not parse: %v\n%s", err, b)
	}
	if len(r.URLs[0].Media) != 1 || r.URLs[0].Evidence[0].Address != "192.0.2.1" || r.URLs[0].Media[0].AssessedBy != "Child Focus" {
		t.Errorf("%+v", r.URLs[0])
	}
}

// TestReferralVideoFrames: a video's usable frames travel (low-quality
// ones, never matched, stay home), a list longer than the limit is left
// out rather than cut, and hostile frames are refused.
func TestReferralVideoFrames(t *testing.T) {
	now := time.Now().UTC()
	frames := func(n, quality int) []vigil.VideoFrame {
		var fs []vigil.VideoFrame
		for i := range n {
			fs = append(fs, vigil.VideoFrame{Frame: i, Quality: quality, PDQ: fmt.Sprintf("%064x", i+1), Timestamp: float64(i)})
		}
		return fs
	}
	mixed := append(frames(3, 90), vigil.VideoFrame{Frame: 3, Quality: 10, PDQ: strings.Repeat("0", 64), Timestamp: 3})
	b, err := BuildReferral(Case{Reference: "BE-2026-000002", Hotline: "Child Focus", URL: "https://example.org/v",
		FirstSeen: now.Add(-time.Hour), Classification: "baseline", AssessedAt: now.Add(-time.Minute),
		Media: []vigil.KnownMedia{
			{SHA256: strings.Repeat("1", 64), Classification: "baseline", VPDQ: mixed},
			{SHA256: strings.Repeat("2", 64), Classification: "baseline", VPDQ: frames(MaxVPDQFrames+1, 100)},
			{SHA256: strings.Repeat("3", 64), Classification: "baseline", VPDQ: frames(2, 20)},
		}}, now)
	if err != nil {
		t.Fatal(err)
	}
	r, err := ParseReferral(b, now)
	if err != nil {
		t.Fatalf("%v\n%.300s", err, b)
	}
	m := r.URLs[0].Media
	if len(m[0].VPDQ) != 3 || m[0].VPDQ[2] != mixed[2] || len(m[1].VPDQ) != 0 || len(m[2].VPDQ) != 0 {
		t.Errorf("frames sent: %d %d %d", len(m[0].VPDQ), len(m[1].VPDQ), len(m[2].VPDQ))
	}
	for name, bad := range map[string]string{
		"bad pdq":       `"pdq":"` + fmt.Sprintf("%064x", 1) + `"`,
		"quality":       `"quality":90`,
		"unknown field": `"timestamp":0`,
	} {
		with := map[string]string{"bad pdq": `"pdq":"zz"`, "quality": `"quality":101`, "unknown field": `"timestamp":0,"x":1`}[name]
		body := strings.Replace(string(b), bad, with, 1)
		if body == string(b) {
			t.Fatalf("%s: nothing replaced", name)
		}
		if _, err := ParseReferral([]byte(body), now); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// FuzzParseReferral: whatever a partner sends, the parser answers within
// its bounds, and what it accepts is normalised: it parses again to the
// same referral.
func FuzzParseReferral(f *testing.F) {
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	f.Add(validReferral(now))
	f.Add([]byte(`{"version":1,"reference":"R","hotline":"x","sent_at":"2026-01-01T00:00:00Z","urls":[{"url":"http://a.b/","first_seen":"2026-01-01T00:00:00Z","media":[{"sha256":"` + strings.Repeat("0", 64) + `","vpdq":[{"frame":1,"quality":90,"pdq":"` + strings.Repeat("F", 64) + `","timestamp":0.5},{"frame":0,"quality":80,"pdq":"` + strings.Repeat("e", 64) + `","timestamp":0}]}]}]}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`{"urls":null}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := ParseReferral(body, now)
		if err != nil {
			if vigil.ErrorCode(err) == "" {
				t.Fatalf("an error without a code: %v", err)
			}
			return
		}
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		r2, err := ParseReferral(b, now)
		if err != nil {
			t.Fatalf("accepted, but its normal form is refused: %v\n%s", err, b)
		}
		b2, _ := json.Marshal(r2)
		if !bytes.Equal(b, b2) {
			t.Fatalf("not stable:\n%s\n%s", b, b2)
		}
	})
}

// BenchmarkParseReferral parses and validates a referral at the limits'
// scale: 50 URLs, 1000 media items with all their hashes.
func BenchmarkParseReferral(b *testing.B) {
	now := time.Now().UTC()
	r := Referral{Version: 1, Reference: "BE-2026-000123", Hotline: "Child Focus", SentAt: now}
	for i := range MaxURLs {
		u := URL{URL: "https://example.org/" + strings.Repeat("p", i%20) + "/" + string(rune('a'+i%26)) + strings.Repeat("x", i), FirstSeen: now,
			Classification: "baseline", Hosting: &Hosting{Host: "example.org", Country: "NL", Addresses: []string{"192.0.2.1"}}}
		for range MaxItems / MaxURLs {
			u.Media = append(u.Media, Item{SHA256: strings.Repeat("a", 64), MD5: strings.Repeat("b", 32), PDQ: strings.Repeat("c", 64),
				Classification: "baseline", AssessedBy: "Child Focus", AssessedAt: now, EvidenceRef: "fetch-1"})
		}
		r.URLs = append(r.URLs, u)
	}
	body, _ := json.Marshal(r)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseReferral(body, now); err != nil {
			b.Fatal(err)
		}
	}
}
