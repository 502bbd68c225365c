package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/match"
	"github.com/vigil-hotline/vigil/internal/simnet"
	"github.com/vigil-hotline/vigil/internal/store"
	"github.com/vigil-hotline/vigil/internal/storetest"
	"github.com/vigil-hotline/vigil/internal/testrig"
	"github.com/vigil-hotline/vigil/internal/web"
)

func withVictims(db *store.DB) func(*web.Config) { return func(c *web.Config) { c.Victims = db } }

// postRemove sends a submission as the victim's page does.
func (e *env) postRemove(c *http.Client, token string, body string) (int, map[string]string) {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/remove?lang=fr", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("X-CSRF-Token", token)
	}
	resp, b := e.do(c, req)
	var out map[string]string
	_ = json.Unmarshal([]byte(b), &out)
	return resp.StatusCode, out
}

func pdqHash(seed int) string { return fmt.Sprintf("%064x", uint64(seed)*0x9e3779b97f4a7c15) }

// TestRemoveRefusals: what the server can check, it checks; every refusal
// is a 4xx with a message in the person's language and nothing stored.
func TestRemoveRefusals(t *testing.T) {
	db := storetest.Open(t, "sqlite")
	e := newEnv(t, db, withVictims(db))
	c := e.browser()
	tok := e.formToken(c, "/remove/status?lang=fr")
	var many []string
	for i := 0; i <= vigil.MaxVictimHashes; i++ {
		many = append(many, fmt.Sprintf(`{"type":"md5","value":"%032x"}`, i+1))
	}
	for _, tc := range []struct {
		name, token, body string
		status            int
		msg               string
	}{
		{"no CSRF token", "", `{"hashes":[{"type":"md5","value":"` + strings.Repeat("a", 32) + `"}]}`, 403, "Le formulaire a expiré"},
		{"forged CSRF token", "x." + tok, `{"hashes":[{"type":"md5","value":"` + strings.Repeat("a", 32) + `"}]}`, 403, "Le formulaire a expiré"},
		{"no hash", tok, `{"hashes":[]}`, 400, "au moins une photo"},
		{"too many", tok, `{"hashes":[` + strings.Join(many, ",") + `]}`, 400, "50 au maximum"},
		{"PDQ of low quality", tok, `{"hashes":[{"type":"pdq","value":"` + pdqHash(1) + `","quality":49}]}`, 400, "trop peu de détails"},
		{"PDQ without quality", tok, `{"hashes":[{"type":"pdq","value":"` + pdqHash(1) + `"}]}`, 400, "trop peu de détails"},
		{"sha1 not offered", tok, `{"hashes":[{"type":"sha1","value":"` + strings.Repeat("a", 40) + `"}]}`, 400, "empreintes"},
		{"bad hex", tok, `{"hashes":[{"type":"md5","value":"xyz"}]}`, 400, "empreintes"},
		{"unknown field", tok, `{"hashes":[],"name":"Alice"}`, 400, ""},
		{"description too long", tok, `{"hashes":[{"type":"md5","value":"` + strings.Repeat("a", 32) + `"}],"description":"` +
			strings.Repeat("é", 1001) + `"}`, 400, "trop longue"},
		{"not JSON", tok, `hashes=1`, 400, ""},
		{"too large", tok, `{"description":"` + strings.Repeat("a", 40<<10) + `"}`, 413, ""},
	} {
		status, out := e.postRemove(c, tc.token, tc.body)
		if status != tc.status || !strings.Contains(out["error"], tc.msg) {
			t.Errorf("%s: %d %q, want %d with %q", tc.name, status, out["error"], tc.status, tc.msg)
		}
	}
	if n, err := db.ListVictimSubmissions(context.Background(), 10); err != nil || len(n) != 0 {
		t.Errorf("refused submissions stored: %d %v", len(n), err)
	}
	// The form's rate limit applies, per device, without storing addresses.
	limited := false
	for i := 0; i < web.DefaultFormRate.Count+1; i++ {
		status, _ := e.postRemove(c, tok, fmt.Sprintf(`{"hashes":[{"type":"md5","value":"%032x"}]}`, i+1))
		limited = limited || status == http.StatusTooManyRequests
	}
	if !limited {
		t.Error("no rate limit on submissions")
	}
}

// TestRemoveWithdrawStopsMatches: hashes sent on the page are matched by
// a matcher that follows the bank from elsewhere (as another process
// does); withdrawing them on the status page stops the matches within its
// poll interval, and the status page says so.
func TestRemoveWithdrawStopsMatches(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db, withVictims(db))
		// The other process's matcher: its own index, following the feed.
		m, err := match.New(ctx, match.Config{Store: db, PollInterval: 250 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { m.Close() })
		c := e.browser()
		tok := e.formToken(c, "/remove/status?lang=de")
		sha := strings.Repeat("ab", 32)
		status, out := e.postRemove(c, tok, `{"hashes":[{"type":"pdq","value":"`+pdqHash(7)+`","quality":90},{"type":"sha256","value":"`+sha+`"}],"description":"x"}`)
		code := out["tracking_code"]
		if status != 200 || code == "" {
			t.Fatalf("submission: %d %v", status, out)
		}
		matches := func() int {
			got, err := m.Match(ctx, vigil.MatchQuery{SHA256: sha, PDQ: pdqHash(7), Quality: 100})
			if err != nil {
				t.Fatal(err)
			}
			return len(got)
		}
		testrig.WaitFor(t, "the other matcher has the hashes", 10*time.Second, func() bool { return matches() == 2 })

		resp, body := e.postForm(c, "/remove/withdraw", url.Values{"csrf": {tok}, "lang": {"de"}, "code": {code}})
		if resp.StatusCode != 200 || !strings.Contains(body, `id="withdrawn-now"`) || !strings.Contains(body, `id="withdrawn"`) {
			t.Fatalf("withdrawal: %d", resp.StatusCode)
		}
		start := time.Now()
		testrig.WaitFor(t, "matches stop", 10*time.Second, func() bool { return matches() == 0 })
		t.Logf("matches stopped %v after the withdrawal", time.Since(start).Round(time.Millisecond))
		bank, _ := db.FindBankByName(ctx, vigil.VictimBankName)
		if n, _ := db.CountBankEntries(ctx, bank.ID); n != 0 {
			t.Errorf("%d entries left in the victim bank", n)
		}
		_, body = e.postForm(c, "/remove/status", url.Values{"csrf": {tok}, "lang": {"de"}, "code": {code}})
		if !strings.Contains(body, `id="withdrawn"`) || strings.Contains(body, `id="withdraw-form"`) {
			t.Error("the status page does not say the request was withdrawn")
		}
		resp, _ = e.postForm(c, "/remove/status", url.Values{"csrf": {tok}, "lang": {"de"}, "code": {vigil.NewTrackingCode()}})
		if resp.StatusCode != 404 {
			t.Errorf("unknown code: %d", resp.StatusCode)
		}
	})
}

// TestVictimMatchForAnalysts: an analyst's case view shows a victim-bank
// match as "reported by the person shown" with the person's description
// and nothing about them; the supervisors' view lists the submission, and
// flagging it is audited.
func TestVictimMatchForAnalysts(t *testing.T) {
	db := storetest.Open(t, "sqlite")
	vault := testrig.Vault(t)
	e := newEnv(t, db, withVictims(db), withWorkbench(db, vault))
	ctx := context.Background()
	c := e.browser()
	tok := e.formToken(c, "/remove/status?lang=en")
	status, out := e.postRemove(c, tok, `{"hashes":[{"type":"pdq","value":"`+pdqHash(3)+`","quality":90}],"description":"posted by my ex on a forum"}`)
	if status != 200 || out["tracking_code"] == "" {
		t.Fatalf("submission: %d %v", status, out)
	}
	bank, err := db.FindBankByName(ctx, vigil.VictimBankName)
	if err != nil {
		t.Fatal(err)
	}
	entries, err := db.BankEntries(ctx, bank.ID, 0, 1)
	if err != nil || len(entries) != 1 {
		t.Fatal(entries, err)
	}
	item, _ := benignItem(t, vault, 101, simnet.Variant{})
	item.Matches = []vigil.Match{{BankID: bank.ID, BankName: bank.Name, EntryID: entries[0].ID, Signal: vigil.SignalPDQ,
		Value: entries[0].Value, Distance: 12, Classification: vigil.ClassSelfReported, Variant: "orig"}}
	caseID, _ := storetest.SeedCase(t, db, "https://copies.example/page", []storetest.SeedItem{item})

	e.addUser("ann", vigil.RoleAnalyst, "ann-password-1")
	e.addUser("sue", vigil.RoleSupervisor, "sue-password-1")
	ann := e.login("ann", "ann-password-1")
	resp, body := e.get(ann, fmt.Sprintf("/staff/cases/%d", caseID))
	if resp.StatusCode != 200 || !strings.Contains(body, "reported by the person shown") ||
		!strings.Contains(body, "posted by my ex on a forum") || strings.Contains(body, out["tracking_code"]) {
		t.Fatalf("case view: %d, victim's match or description missing, or the tracking code shown", resp.StatusCode)
	}
	if resp, _ := e.get(ann, "/staff/victims"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("an analyst opened the supervisors' view: %d", resp.StatusCode)
	}
	sue := e.login("sue", "sue-password-1")
	resp, body = e.get(sue, "/staff/victims")
	if resp.StatusCode != 200 || !strings.Contains(body, "posted by my ex on a forum") || strings.Contains(body, out["tracking_code"]) ||
		strings.Contains(body, pdqHash(3)) {
		t.Fatalf("supervisors' view: %d, or it shows the code or the hash", resp.StatusCode)
	}
	subs, _ := db.ListVictimSubmissions(ctx, 1)
	ftok := csrfRE.FindStringSubmatch(body)
	if ftok == nil {
		t.Fatal("no CSRF token on the supervisors' view")
	}
	resp, _ = e.postForm(sue, fmt.Sprintf("/staff/victims/%d/flag", subs[0].ID), url.Values{"csrf": {ftok[1]}, "flagged": {"1"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("flag: %d", resp.StatusCode)
	}
	if subs, _ = db.ListVictimSubmissions(ctx, 1); subs[0].FlaggedAt == nil {
		t.Error("not flagged")
	}
	if !e.auditHas("victim.flag", fmt.Sprintf("victim-submission:%d", subs[0].ID)) {
		t.Error("flagging is not on the audit record")
	}
}
