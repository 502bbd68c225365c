package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/storetest"
)

// TestUpstreamDisputeAndRelease: an analyst disputes an upstream match
// (the entry leaves matching, feedback is queued); a supervisor sees it
// among the suppressed entries; only an administrator releases it.
func TestUpstreamDisputeAndRelease(t *testing.T) {
	db := storetest.Open(t, "sqlite")
	ctx := context.Background()
	e := newEnv(t, db)
	b := &vigil.Bank{Name: "te-bank", Source: vigil.SourceOther, Kind: vigil.BankBlock, PDQThreshold: 31, Enabled: true}
	if err := db.CreateBank(ctx, b); err != nil {
		t.Fatal(err)
	}
	x := &vigil.Exchange{Name: "te", Kind: vigil.ExchangeThreatExchange, BankID: b.ID, URL: "https://graph.facebook.com/v21.0/1", Enabled: true}
	if err := db.CreateExchange(ctx, x, vigil.ExchangeCredentials{Token: "1|s"}); err != nil {
		t.Fatal(err)
	}
	if err := db.AcquireExchangeLease(ctx, x.ID, "p", time.Minute); err != nil {
		t.Fatal(err)
	}
	entry := &vigil.BankEntry{Signal: vigil.SignalPDQ, Value: fmt.Sprintf("%064x", 3), UpstreamID: "555", Tags: []string{"logo"}}
	if _, err := db.StoreExchangePage(ctx, x.ID, "p", &vigil.ExchangePage{Checkpoint: "c", Entries: []*vigil.BankEntry{entry}}); err != nil {
		t.Fatal(err)
	}
	e.addUser("ada", vigil.RoleAdmin, "ada-password-1")
	e.addUser("ann", vigil.RoleAnalyst, "ann-password-1")
	e.addUser("sue", vigil.RoleSupervisor, "sue-password-1")
	ada, ann, sue := e.login("ada", "ada-password-1"), e.login("ann", "ann-password-1"), e.login("sue", "sue-password-1")

	tok := e.formToken(ada, "/staff/exchanges")
	path := "/staff/upstream/" + strconv.FormatInt(entry.ID, 10) + "/dispute"
	if resp, _ := e.postForm(ada, path, url.Values{"csrf": {tok}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("an administrator judged a match: %d", resp.StatusCode)
	}
	annTok := csrfOf(t, e, ann)
	if resp, _ := e.postForm(ann, path, url.Values{"csrf": {"forged"}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("a forged form: %d", resp.StatusCode)
	}
	resp, _ := e.postForm(ann, path, url.Values{"csrf": {annTok}, "note": {"a logo"}, "back": {"https://evil.example/"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/staff/queue" {
		t.Fatalf("dispute: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	got, err := db.FindBankEntries(ctx, []int64{entry.ID})
	if err != nil || len(got) != 1 || got[0].Suppressed != vigil.SuppressDispute {
		t.Fatalf("entry after dispute: %v %+v", err, got)
	}
	vs, err := db.ListUpstreamVerdicts(ctx, entry.ID)
	if err != nil || len(vs) != 1 || vs[0].Feedback != vigil.FeedbackPending || vs[0].Note != "a logo" {
		t.Fatalf("verdicts: %v %+v", err, vs)
	}

	resp, body := e.get(sue, "/staff/exchanges/suppressed")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `id="suppressed-`+strconv.FormatInt(entry.ID, 10)+`"`) ||
		!strings.Contains(body, "disputed") || !strings.Contains(body, "555") || strings.Contains(body, "/release") {
		t.Fatalf("supervisor's list: %d\n%s", resp.StatusCode, body)
	}
	if resp, _ := e.get(ann, "/staff/exchanges/suppressed"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("analyst sees the list: %d", resp.StatusCode)
	}
	release := "/staff/exchanges/entries/" + strconv.FormatInt(entry.ID, 10) + "/release"
	if resp, _ := e.postForm(sue, release, url.Values{"csrf": {csrfOf(t, e, sue)}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("a supervisor released: %d", resp.StatusCode)
	}
	if resp, _ := e.postForm(ada, release, url.Values{"csrf": {tok}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("release: %d", resp.StatusCode)
	}
	if got, _ := db.FindBankEntries(ctx, []int64{entry.ID}); len(got) != 1 || got[0].Suppressed != "" {
		t.Fatalf("entry after release: %+v", got)
	}
	if _, body := e.get(ada, "/staff/exchanges/suppressed?done=released"); !strings.Contains(body, "No entry is suppressed") {
		t.Errorf("list after release:\n%s", body)
	}
}

// csrfOf is the session's CSRF token, read from the language form every
// staff page carries.
func csrfOf(t *testing.T, e *env, c *http.Client) string {
	t.Helper()
	return e.formToken(c, "/staff/")
}
