package web_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/federation"
	"github.com/vigil-hotline/vigil/internal/store"
	"github.com/vigil-hotline/vigil/internal/storetest"
	"github.com/vigil-hotline/vigil/internal/testrig"
)

// referralPartner is a partner hotline as the tests see it: its signing
// key, configured on the receiving side, and an API key of scope referral
// bound to it.
type referralPartner struct {
	key    ed25519.PrivateKey
	apiKey string
}

func (e *env) addReferralPartner(name string, countries ...string) *referralPartner {
	e.t.Helper()
	_, priv, _ := ed25519.GenerateKey(nil)
	p := vigil.NewPartner(name)
	p.Countries, p.PublicKey = countries, federation.PublicKey(priv)
	if err := e.db.CreatePartner(context.Background(), p); err != nil {
		e.t.Fatal(err)
	}
	key := e.apiKeyWith("api-"+name, []vigil.APIScope{vigil.ScopeReferral}, 0, 0)
	if err := e.db.BindAPIKey(context.Background(), "api-"+name, name); err != nil {
		e.t.Fatal(err)
	}
	return &referralPartner{key: priv, apiKey: key}
}

// signed builds a signed request; edit may change it after signing.
func (e *env) signed(rp *referralPartner, path string, body []byte, edit func(*http.Request)) *http.Request {
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+rp.apiKey)
	federation.Sign(req, rp.key, body, time.Now())
	if edit != nil {
		edit(req)
	}
	return req
}

func (e *env) send(req *http.Request) (int, string) {
	e.t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// referralBody is a referral of one URL with a baseline item, a national
// one and an unclassified one.
func referralBody(ref, url string) []byte {
	now := time.Now().UTC().Truncate(time.Second)
	r := federation.Referral{Version: 1, Reference: ref, Hotline: "Meldpunt", SentAt: now, URLs: []federation.URL{{
		URL: url, FirstSeen: now.Add(-time.Hour), Classification: "baseline",
		Hosting: &federation.Hosting{Host: "files.example.nl", Country: "NL", Addresses: []string{"192.0.2.7"}},
		Media: []federation.Item{
			{SHA256: strings.Repeat("a", 64), MD5: strings.Repeat("b", 32), PDQ: strings.Repeat("c", 64), Classification: "baseline", AssessedBy: "Meldpunt", AssessedAt: now},
			{SHA256: strings.Repeat("d", 64), Classification: "national", AssessedBy: "Meldpunt", AssessedAt: now},
			{SHA256: strings.Repeat("e", 64)},
		},
		Evidence: []federation.Evidence{{Ref: "fetch-1", FetchedAt: now, Address: "192.0.2.7", Status: 200, ResponseSHA256: strings.Repeat("f", 64)}},
	}}}
	b, _ := json.Marshal(r)
	return b
}

func count(t *testing.T, db *store.DB, q string) int {
	t.Helper()
	var n int
	if err := db.Driver().Reader().QueryRow(context.Background(), q).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestReferralReceive(t *testing.T) { storetest.ForEach(t, testReferralReceive) }

// testReferralReceive: a signed referral from a configured partner becomes
// a case; the baseline classification is accepted (its bank), the
// national one is not (default settings); the same reference again is the
// same case, the same request replayed is refused; a tampered signature,
// an unknown partner, a stale timestamp, a body too large and hostile
// bodies are refused with their 4xx and store nothing.
func testReferralReceive(t *testing.T, db *store.DB) {
	e := newEnv(t, db)
	rp := e.addReferralPartner("meldpunt", "NL")
	body := referralBody("NL-2026-000042", "https://files.example.nl/a")
	nothing := func(what string) {
		t.Helper()
		if n := count(t, db, `SELECT COUNT(*) FROM referrals_in`) + count(t, db, `SELECT COUNT(*) FROM referral_nonces`) +
			count(t, db, `SELECT COUNT(*) FROM reports`); n != 0 {
			t.Errorf("%s: %d rows stored", what, n)
		}
	}
	// Refusals first, while nothing is stored.
	if st, b := e.send(e.signed(rp, "/api/v1/referrals", body, func(r *http.Request) {
		r.Body = io.NopCloser(bytes.NewReader(bytes.Replace(body, []byte("files.example.nl/a"), []byte("files.example.nl/b"), 1)))
	})); st != http.StatusUnauthorized || !strings.Contains(b, "signature") {
		t.Errorf("tampered body: %d %s", st, b)
	}
	nothing("tampered")
	_, stranger, _ := ed25519.GenerateKey(nil)
	if st, b := e.send(e.signed(&referralPartner{key: stranger, apiKey: rp.apiKey}, "/api/v1/referrals", body, nil)); st != http.StatusForbidden {
		t.Errorf("unknown partner: %d %s", st, b)
	}
	// The API key must be the signing partner's: another partner's key, or
	// a key of scope referral bound to no partner, is refused (issue 16:
	// one partner's key must not carry another's signature).
	other := e.addReferralPartner("ecpat", "SE")
	loose := e.apiKeyWith("api-loose", []vigil.APIScope{vigil.ScopeReferral}, 0, 0)
	for name, key := range map[string]string{"another partner's key": other.apiKey, "a key of no partner": loose} {
		st, b := e.send(e.signed(&referralPartner{key: rp.key, apiKey: key}, "/api/v1/referrals", body, nil))
		if st != http.StatusForbidden || !strings.Contains(b, `"error"`) || !strings.Contains(b, "partner") {
			t.Errorf("%s: %d %s", name, st, b)
		}
		up := []byte(fmt.Sprintf(`{"reference":"BE-2026-000001","status":"removed","at":%q}`, time.Now().UTC().Format(time.RFC3339)))
		if st, b := e.send(e.signed(&referralPartner{key: rp.key, apiKey: key}, "/api/v1/referrals/BE-2026-000001/status", up, nil)); st != http.StatusForbidden {
			t.Errorf("status with %s: %d %s", name, st, b)
		}
	}
	nothing("keys of others")
	if st, _ := e.send(e.signed(rp, "/api/v1/referrals", body, func(r *http.Request) {
		r.Header.Set(federation.HeaderTimestamp, fmt.Sprint(time.Now().Add(-time.Hour).Unix()))
	})); st != http.StatusUnauthorized {
		t.Errorf("stale timestamp: %d", st)
	}
	if st, _ := e.send(e.signed(rp, "/api/v1/referrals", body, func(r *http.Request) { r.Header.Del("Authorization") })); st != http.StatusUnauthorized {
		t.Errorf("no API key: %d", st)
	}
	big := append(append([]byte(`{"version":1,"hotline":"`), bytes.Repeat([]byte("x"), federation.MaxBodyBytes)...), `"}`...)
	if st, _ := e.send(e.signed(rp, "/api/v1/referrals", big, nil)); st != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized: %d", st)
	}
	for name, hostile := range map[string]string{
		"not json":       `{"version":1,`,
		"unknown field":  strings.Replace(string(body), `"version":1`, `"version":1,"admin":true`, 1),
		"bad hash":       strings.Replace(string(body), strings.Repeat("a", 64), "zz", 1),
		"bad url":        strings.Replace(string(body), "https://files.example.nl/a", "javascript:alert(1)", 1),
		"bad reference":  strings.Replace(string(body), "NL-2026-000042", "../../etc", 1),
		"control chars":  strings.Replace(string(body), "Meldpunt", `Meld\u0000punt`, 1),
		"two values":     string(body) + string(body),
		"future":         strings.Replace(string(body), `"sent_at":"`, `"sent_at":"2999-01-01T00:00:00Z","x":"`, 1),
		"wrong version":  strings.Replace(string(body), `"version":1`, `"version":2`, 1),
		"too many urls":  manyURLs(federation.MaxURLs + 1),
		"no urls":        `{"version":1,"reference":"R-1","hotline":"x","sent_at":"2026-01-01T00:00:00Z","urls":[]}`,
		"bad class":      strings.Replace(string(body), `"classification":"national"`, `"classification":"<script>"`, 1),
		"bad address":    strings.Replace(string(body), `"192.0.2.7"`, `"not-an-ip"`, 1),
		"negative asn":   strings.Replace(string(body), `"country":"NL"`, `"country":"NL","asn":-1`, 1),
		"deeply nested":  strings.Repeat("[", 10000) + strings.Repeat("]", 10000),
		"string for url": strings.Replace(string(body), `"urls":[`, `"urls":"x","y":[`, 1),
	} {
		st, b := e.send(e.signed(rp, "/api/v1/referrals", []byte(hostile), nil))
		if st != http.StatusBadRequest && st != http.StatusRequestEntityTooLarge {
			t.Errorf("%s: %d %s", name, st, b)
		}
		if !strings.Contains(b, `"error"`) {
			t.Errorf("%s: no JSON error: %s", name, b)
		}
	}
	nothing("refusals")

	// Accepted.
	req := e.signed(rp, "/api/v1/referrals", body, nil)
	replay := req.Clone(context.Background())
	replay.Body = io.NopCloser(bytes.NewReader(body))
	st, b := e.send(req)
	if st != http.StatusCreated || !strings.Contains(b, `"accepted":1`) || !strings.Contains(b, `"created":true`) {
		t.Fatalf("referral: %d %s", st, b)
	}
	if n := count(t, db, `SELECT COUNT(*) FROM reports WHERE source = 'referral'`); n != 1 {
		t.Errorf("reports: %d", n)
	}
	bank, err := db.FindBankByName(context.Background(), vigil.PartnerBankName("meldpunt"))
	if err != nil {
		t.Fatal(err)
	}
	entries, err := db.BankEntries(context.Background(), bank.ID, 0, 100)
	if err != nil || len(entries) != 3 || entries[0].Classification != "baseline" || !strings.Contains(entries[0].Note, "accepted") {
		t.Errorf("accepted entries (the baseline item's three hashes only): %+v %v", entries, err)
	}
	if n := count(t, db, `SELECT COUNT(*) FROM referral_status WHERE direction = 'out' AND status = 'received'`); n != 1 {
		t.Errorf("received status to send back: %d", n)
	}
	audit, _ := db.ListAudit(context.Background(), vigil.AuditFilter{})
	found := false
	for _, a := range audit {
		found = found || (a.Action == "referral.receive" && strings.Contains(a.Detail, "accepted under settings"))
	}
	if !found {
		t.Error("no audit entry for the accepted classifications")
	}
	// The referring partner polls the steps we hold (a missed callback);
	// another partner's key finds no such referral.
	req, _ = http.NewRequest(http.MethodGet, e.srv.URL+"/api/v1/referrals/NL-2026-000042", nil)
	req.Header.Set("Authorization", "Bearer "+rp.apiKey)
	if st, b := e.send(req); st != http.StatusOK || !strings.Contains(b, `"status":"received"`) ||
		!strings.Contains(b, `"delivered":false`) || !strings.Contains(b, `"tracking_code":"`) {
		t.Errorf("poll: %d %s", st, b)
	}
	req.Header.Set("Authorization", "Bearer "+other.apiKey)
	if st, b := e.send(req); st != http.StatusNotFound {
		t.Errorf("poll with another partner's key: %d %s", st, b)
	}
	req.Header.Set("Authorization", "Bearer "+loose)
	if st, b := e.send(req); st != http.StatusForbidden {
		t.Errorf("poll with a key of no partner: %d %s", st, b)
	}
	// The same request replayed: refused. The same referral sent again
	// (a new nonce): the same case.
	if st, b := e.send(replay); st != http.StatusConflict || !strings.Contains(b, "replayed") {
		t.Errorf("replay: %d %s", st, b)
	}
	if st, b := e.send(e.signed(rp, "/api/v1/referrals", body, nil)); st != http.StatusOK || !strings.Contains(b, `"created":false`) {
		t.Errorf("sent again: %d %s", st, b)
	}
	if n := count(t, db, `SELECT COUNT(*) FROM reports`) + count(t, db, `SELECT COUNT(*) FROM referrals_in`); n != 2 {
		t.Errorf("after the repeat: %d rows, want one report and one referral", n)
	}
	// Our analyst classified the national item (not accepted) otherwise:
	// supervisors see both.
	if err := db.Driver().WithTx(context.Background(), func(tx store.Tx) error {
		_, err := tx.Exec(context.Background(), `INSERT INTO media (sha256, md5, sha1, size, class, mime, blob_key, status, classification, first_seen_at)
			VALUES ($1, '', '', 1, 'image', 'image/png', 'x', 'known', 'baseline', $2)`, strings.Repeat("d", 64), time.Now())
		return err
	}); err != nil {
		t.Fatal(err)
	}
	e.addUser("sup", vigil.RoleSupervisor, "a long supervisor password")
	_, page := e.get(e.login("sup", "a long supervisor password"), "/staff/takedowns")
	if i := strings.Index(page, `id="disagreements"`); i < 0 || !strings.Contains(page[i:], "NL-2026-000042 <code>dddddddddddddddd") ||
		!strings.Contains(page[i:], "<td>baseline</td><td>national</td>") {
		t.Errorf("inbound disagreement not listed: %s", page[max(i, 0):])
	}
	// A status about a case we never referred to this partner.
	up := []byte(fmt.Sprintf(`{"reference":"BE-2026-000001","status":"removed","at":%q}`, time.Now().UTC().Format(time.RFC3339)))
	if st, b := e.send(e.signed(rp, "/api/v1/referrals/BE-2026-000001/status", up, nil)); st != http.StatusNotFound {
		t.Errorf("status of an unknown case: %d %s", st, b)
	}
	if st, _ := e.send(e.signed(rp, "/api/v1/referrals/BE-2026-000002/status", up, nil)); st != http.StatusBadRequest {
		t.Errorf("status for another reference than the path's: %d", st)
	}
}

func manyURLs(n int) string {
	var us []string
	for i := range n {
		us = append(us, fmt.Sprintf(`{"url":"https://example.org/%d","first_seen":"2026-01-01T00:00:00Z"}`, i))
	}
	return `{"version":1,"reference":"R-1","hotline":"x","sent_at":"2026-01-01T00:00:00Z","urls":[` + strings.Join(us, ",") + `]}`
}

// TestTakedownsShowPartnerProgress: the supervisors' takedown view shows
// what the partner reported of a referred case, with its time, and lists
// a classification that differs from ours beside ours.
func TestTakedownsShowPartnerProgress(t *testing.T) {
	db := storetest.Open(t, "sqlite")
	e := newEnv(t, db, withWorkbench(db, testrig.Vault(t)))
	ctx := context.Background()
	rep, err := vigil.NewReport(vigil.ReportInput{URLs: []string{"https://files.example.nl/ours"}}, vigil.SourceForm, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := db.CreateReport(ctx, rep); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Second)
	err = db.Driver().WithTx(ctx, func(tx store.Tx) error {
		var id int64
		if err := tx.QueryRow(ctx, `INSERT INTO takedowns (reported_url_id, url, state, classification, severity, first_seen_at, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`, rep.URLs[0].ID, rep.URLs[0].URL, string(vigil.TakedownForwarded),
			"baseline", "A", now, now).Scan(&id); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO outbound (takedown_id, key, kind, route_kind, recipient, message_id, raw, state, created_at)
			VALUES ($1, 'k', $2, 'hotline', 'meldpunt', $3, $4, 'sent', $5)`, id, vigil.OutboundReferral,
			vigil.CaseReference("", rep.URLs[0].ID, now), []byte("{}"), now)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	ref := vigil.CaseReference("", rep.URLs[0].ID, now)
	for i, st := range []*vigil.ReferralStatus{{Status: "received"}, {Status: "assessed", Classification: "national"}} {
		st.Partner, st.CaseRef, st.At = "meldpunt", ref, now
		if _, err := db.RecordPartnerStatus(ctx, fmt.Sprintf("%032d", i), st); err != nil {
			t.Fatal(err)
		}
	}
	e.addUser("sup", vigil.RoleSupervisor, "a long supervisor password")
	sup := e.login("sup", "a long supervisor password")
	_, body := e.get(sup, "/staff/takedowns")
	i, j := strings.Index(body, `id="partner-progress"`), strings.Index(body, `id="disagreements"`)
	if i < 0 || j < i {
		t.Fatalf("no partner sections: %s", body)
	}
	progress, disagreements := body[i:j], body[j:]
	if !strings.Contains(progress, ref) || !strings.Contains(progress, "step-received") || !strings.Contains(progress, "step-assessed") {
		t.Errorf("progress: %s", progress)
	}
	if !strings.Contains(disagreements, "<td>baseline</td><td>national</td>") {
		t.Errorf("disagreements: %s", disagreements[:min(len(disagreements), 600)])
	}
	_, page := e.get(sup, fmt.Sprintf("/staff/cases/%d", rep.URLs[0].ID))
	if i := strings.Index(page, `id="case-partner-steps"`); i < 0 || !strings.Contains(page[i:], "meldpunt") || !strings.Contains(page[i:], "national") {
		t.Errorf("the case page lacks the partner's steps")
	}
}

func TestReferralVideoFrames(t *testing.T) { storetest.ForEach(t, testReferralVideoFrames) }

// testReferralVideoFrames: a referred video's vPDQ frames, accepted under
// the partner's settings, become a vpdq entry of its bank with the frames
// as sent, and a copy of the video re-encoded on the way (other bytes,
// frames a few bits off) matches it under the bank's thresholds: the
// matcher knows it, no analyst sees it.
func testReferralVideoFrames(t *testing.T, db *store.DB) {
	e := newEnv(t, db)
	rp := e.addReferralPartner("meldpunt", "NL")
	now := time.Now().UTC().Truncate(time.Second)
	var frames []vigil.VideoFrame
	for i := range 8 {
		frames = append(frames, vigil.VideoFrame{Frame: i * 25, Quality: 90, PDQ: fmt.Sprintf("%016x", uint64(i+1)*0x9e3779b97f4a7c15) +
			strings.Repeat("5a", 24), Timestamp: float64(i)})
	}
	r := federation.Referral{Version: 1, Reference: "NL-2026-000077", Hotline: "Meldpunt", SentAt: now, URLs: []federation.URL{{
		URL: "https://files.example.nl/v.mp4", FirstSeen: now.Add(-time.Hour), Classification: "baseline",
		Media: []federation.Item{{SHA256: strings.Repeat("7", 64), VPDQ: frames, Classification: "baseline", AssessedBy: "Meldpunt", AssessedAt: now}},
	}}}
	body, _ := json.Marshal(r)
	if st, b := e.send(e.signed(rp, "/api/v1/referrals", body, nil)); st != http.StatusCreated || !strings.Contains(b, `"accepted":1`) {
		t.Fatalf("referral: %d %s", st, b)
	}
	ctx := context.Background()
	bank, err := db.FindBankByName(ctx, vigil.PartnerBankName("meldpunt"))
	if err != nil {
		t.Fatal(err)
	}
	entries, err := db.BankEntries(ctx, bank.ID, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var video *vigil.BankEntry
	for _, en := range entries {
		if en.Signal == vigil.SignalVPDQ {
			video = en
		}
	}
	if len(entries) != 2 || video == nil || len(video.Frames) != len(frames) || video.Frames[3] != frames[3] ||
		video.Value != vigil.VideoDigest(frames) || video.Classification != "baseline" {
		t.Fatalf("bank entries (SHA-256 and vPDQ): %+v", entries)
	}
	copied := slices.Clone(frames)
	for i := range copied {
		copied[i].PDQ = "f" + copied[i].PDQ[1:] // a few bits off each frame
	}
	if m := vigil.CompareVideos(copied, video.Frames, vigil.VideoFrameDistance); !m.Matches(float64(bank.VideoQueryPercent), float64(bank.VideoCompPercent)) {
		t.Errorf("a re-encoded copy does not match the partner's video: %+v", m)
	}
}
