package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/storetest"
)

// TestStaffExchanges: an administrator adds, disables and removes an
// exchange from its page; the credentials typed are sealed and appear in
// no page, error or audit entry; other roles may not see the page.
func TestStaffExchanges(t *testing.T) {
	db := storetest.Open(t, "sqlite")
	ctx := context.Background()
	e := newEnv(t, db)
	if err := db.CreateBank(ctx, &vigil.Bank{Name: "iwf", Source: vigil.SourceIWF, Kind: vigil.BankBlock, PDQThreshold: 31,
		Enabled: true}); err != nil {
		t.Fatal(err)
	}
	e.addUser("ada", vigil.RoleAdmin, "ada-password-1")
	e.addUser("ann", vigil.RoleAnalyst, "ann-password-1")
	ada, ann := e.login("ada", "ada-password-1"), e.login("ann", "ann-password-1")
	if resp, _ := e.get(ann, "/staff/exchanges"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("analyst: %d", resp.StatusCode)
	}
	tok := e.formToken(ada, "/staff/exchanges")
	form := url.Values{"csrf": {tok}, "name": {"iwf-list"}, "kind": {"http-list"}, "bank": {"iwf"},
		"url": {"https://lists.example/iwf.csv"}, "token": {"SECRET-TOKEN-9"}, "schedule": {"12h"}}
	// A refusal gives the form back, without the secret.
	bad := url.Values{}
	for k, v := range form {
		bad[k] = v
	}
	bad.Set("schedule", "soon")
	resp, body := e.postForm(ada, "/staff/exchanges", bad)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "schedule") || strings.Contains(body, "SECRET-TOKEN-9") ||
		!strings.Contains(body, "lists.example") {
		t.Errorf("bad schedule: %d", resp.StatusCode)
	}
	if resp, _ := e.postForm(ada, "/staff/exchanges", form); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("add: %d", resp.StatusCode)
	}
	resp, body = e.get(ada, "/staff/exchanges?done=added")
	if resp.StatusCode != 200 || !strings.Contains(body, `id="exchange-iwf-list"`) || !strings.Contains(body, "token") ||
		!strings.Contains(body, "every 12 h") || strings.Contains(body, "SECRET-TOKEN-9") {
		t.Errorf("page after add: %d\n%s", resp.StatusCode, body)
	}
	x, err := db.FindExchangeByName(ctx, "iwf-list")
	if err != nil {
		t.Fatal(err)
	}
	if c, err := db.ExchangeCredentials(ctx, x.ID); err != nil || c.Token != "SECRET-TOKEN-9" {
		t.Errorf("credentials: %v", err)
	}
	if resp, _ := e.postForm(ada, "/staff/exchanges", form); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("same name twice: %d", resp.StatusCode)
	}
	if resp, _ := e.postForm(ann, "/staff/exchanges", form); resp.StatusCode != http.StatusForbidden {
		t.Errorf("analyst adds: %d", resp.StatusCode)
	}
	id := "/staff/exchanges/" + strconv.FormatInt(x.ID, 10)
	if resp, _ := e.postForm(ada, id+"/enabled", url.Values{"csrf": {tok}, "enabled": {"0"}}); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("disable: %d", resp.StatusCode)
	}
	if x, _ := db.FindExchangeByID(ctx, x.ID); x.Enabled {
		t.Error("still enabled")
	}
	if resp, _ := e.postForm(ada, id+"/remove", url.Values{"csrf": {tok}}); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("remove: %d", resp.StatusCode)
	}
	if _, err := db.FindExchangeByID(ctx, x.ID); !vigil.IsNotFound(err) {
		t.Errorf("after remove: %v", err)
	}
	entries, err := db.ListAudit(ctx, vigil.AuditFilter{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	actions := map[string]bool{}
	for _, a := range entries {
		actions[a.Action] = true
		if strings.Contains(a.Detail, "SECRET") {
			t.Errorf("audit entry holds the credential: %+v", a)
		}
	}
	for _, want := range []string{"exchange.add", "exchange.enable", "exchange.remove"} {
		if !actions[want] {
			t.Errorf("no %s in the audit log: %v", want, actions)
		}
	}
}
