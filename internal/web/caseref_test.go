package web_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/store"
	"github.com/vigil-hotline/vigil/internal/storetest"
	"github.com/vigil-hotline/vigil/internal/testrig"
	"github.com/vigil-hotline/vigil/internal/web"
)

// TestCaseReferenceOnPages: the takedowns page, the case page and the API's
// report status show one case reference, the case's (not the takedown's
// number), linked both ways.
func TestCaseReferenceOnPages(t *testing.T) {
	ctx := context.Background()
	db := storetest.Open(t, "sqlite")
	e := newEnv(t, db, withWorkbench(db, testrig.Vault(t)), func(c *web.Config) { c.Takedown.CaseRefPrefix = "BE" })
	e.addUser("sup", vigil.RoleSupervisor, "a long supervisor password")
	// Two URLs, so that the case's number and the takedown's differ.
	key := e.apiKey("partner")
	status, out := e.api("POST", "/api/v1/reports", key, "application/json", `{"urls": ["https://a.example/one", "https://b.example/two"]}`)
	if status != 201 {
		t.Fatalf("report: %d %v", status, out)
	}
	rep, err := db.FindReportByTrackingCode(ctx, out["tracking_code"])
	if err != nil {
		t.Fatal(err)
	}
	created := out["case_references"]
	u := rep.URLs[1]
	// The takedown as the store opens one for illegal media (no worker runs
	// here to trace it).
	err = db.Driver().WithTx(ctx, func(tx store.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO takedowns (reported_url_id, url, state, classification, severity, first_seen_at, created_at)
			SELECT id, url, 'tracing', 'iwf-a', 'A', first_reported_at, first_reported_at FROM reported_urls WHERE id = $1`, u.ID)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	td, err := db.FindTakedownByURL(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	stored, err := db.FindReportedURL(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	ref := vigil.CaseReference("BE", u.ID, stored.FirstReportedAt)
	if td.ID == u.ID || td.Reference("BE") != ref || !strings.HasPrefix(ref, fmt.Sprintf("BE-%d-", time.Now().UTC().Year())) {
		t.Fatalf("takedown %d of case %d: reference %q, want %q", td.ID, u.ID, td.Reference("BE"), ref)
	}
	c := e.login("sup", "a long supervisor password")
	caseLink := fmt.Sprintf(`href="/staff/cases/%d#takedown">%s</a>`, u.ID, ref)
	if resp, body := e.get(c, "/staff/takedowns"); resp.StatusCode != 200 || !strings.Contains(body, caseLink) {
		t.Errorf("takedowns page: %d, lacks %s", resp.StatusCode, caseLink)
	}
	resp, body := e.get(c, fmt.Sprintf("/staff/cases/%d", u.ID))
	if resp.StatusCode != 200 || !strings.Contains(body, `<span id="case-ref">`+ref+`</span>`) || !strings.Contains(body, `id="case-takedown"`) ||
		!strings.Contains(body, `href="/staff/takedowns"`) {
		t.Errorf("case page: %d, lacks the reference %s or the takedown section", resp.StatusCode, ref)
	}
	// The API names the same case.
	if status, out := e.api("GET", "/api/v1/reports/"+rep.TrackingCode, key, "", ""); status != 200 ||
		!strings.Contains(out["case_references"], `"`+ref+`"`) || out["case_references"] != created {
		t.Errorf("report status: %d %v, want %s as when filed (%s)", status, out, ref, created)
	}
	// A case not on the takedown path says so.
	if _, body := e.get(c, fmt.Sprintf("/staff/cases/%d", rep.URLs[0].ID)); !strings.Contains(body, "Not on the takedown path") {
		t.Error("a case without takedown shows no takedown state")
	}
}
