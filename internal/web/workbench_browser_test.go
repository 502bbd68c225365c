package web_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/browsertest"
	"github.com/vigil-hotline/vigil/internal/simnet"
	"github.com/vigil-hotline/vigil/internal/storetest"
	"github.com/vigil-hotline/vigil/internal/testrig"
)

// browserLogin signs in through the pages, with a TOTP code.
func (e *env) browserLogin(ctx context.Context, name, password string) error {
	return chromedp.Do(ctx,
		chromedp.Navigate(e.srv.URL+"/staff/login"),
		chromedp.WaitVisible("#login-form"),
		chromedp.SendKeys("#name", name),
		chromedp.SendKeys("#password", password),
		chromedp.Submit("#password"),
		chromedp.WaitVisible("#code"),
		chromedp.SendKeys("#code", e.totpCode(name)),
		chromedp.Submit("#code"),
		chromedp.WaitVisible(`nav[aria-label="Staff"]`),
	)
}

// TestBrowserWorkbench: an analyst signs in with a TOTP code, takes items
// from the queue, reveals one, classifies the page with the keyboard
// alone (applying a decision to a near duplicate with one key), and finds
// the decisions in the case view; an auditor finds them in the audit log.
func TestBrowserWorkbench(t *testing.T) {
	ctx := browsertest.New(t)
	db := storetest.Open(t, "sqlite")
	vault := testrig.Vault(t)
	e := newEnv(t, db, withWorkbench(db, vault))
	a, _ := benignItem(t, vault, 501, simnet.Variant{})
	near, _ := benignItem(t, vault, 501, simnet.Variant{Format: "png"})
	other, _ := benignItem(t, vault, 502, simnet.Variant{})
	caseID, ids := storetest.SeedCase(t, db, "https://browser.example/album", []storetest.SeedItem{a, near, other})
	e.addUser("ann", vigil.RoleAnalyst, "ann-password-1")
	e.addUser("ada", vigil.RoleAuditor, "ada-password-1")
	if err := e.browserLogin(ctx, "ann", "ann-password-1"); err != nil {
		t.Fatal(err)
	}
	item := func(i int) string { return fmt.Sprintf("#item-%d", ids[i]) }
	err := chromedp.Do(ctx,
		chromedp.Navigate(e.srv.URL+"/staff/queue"),
		chromedp.WaitVisible(item(0)+".wb-current"),
		// Reveal the first item with a key: the original replaces the
		// blurred preview.
		chromedp.KeyEvent("r"),
		chromedp.WaitVisible(item(0)+" img.wb-original"),
	)
	if err != nil {
		t.Fatal(err)
	}
	browsertest.Screenshot(ctx, t, "workbench-queue")
	err = chromedp.Do(ctx,
		// Baseline, prepubescent, severity A, victim identification.
		chromedp.KeyEvent("1"), chromedp.KeyEvent("s"), chromedp.KeyEvent("z"), chromedp.KeyEvent("v"),
		chromedp.KeyEvent(kb.Enter),
		chromedp.WaitVisible(item(0)+".wb-decided .wb-done"),
		// The PNG copy is offered as a near duplicate; y applies.
		chromedp.WaitVisible("#wb-near"),
		chromedp.KeyEvent("y"),
		chromedp.WaitVisible(item(1)+".wb-decided .wb-done"),
		// The last item: not illegal.
		chromedp.WaitVisible(item(2)+".wb-current"),
		chromedp.KeyEvent("3"),
		chromedp.KeyEvent(kb.Enter),
		chromedp.WaitVisible(item(2)+".wb-decided .wb-done"),
	)
	if err != nil {
		t.Fatal(err)
	}
	browsertest.Screenshot(ctx, t, "workbench-decided")
	for i, want := range []vigil.Verdict{vigil.VerdictBaseline, vigil.VerdictBaseline, vigil.VerdictNotIllegal} {
		as, err := db.ListAssessments(context.Background(), ids[i])
		if err != nil || len(as) != 1 || as[0].Verdict != want || as[0].Analyst != "ann" {
			t.Fatalf("item %d: %+v %v", i, as, err)
		}
		if i == 0 && (as[0].Severity != "A" || as[0].AgeGroup != vigil.AgePrepubescent || !as[0].VictimID) {
			t.Errorf("keyboard classification: %+v", as[0])
		}
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(fmt.Sprintf("%s/staff/cases/%d", e.srv.URL, caseID)),
		chromedp.WaitVisible("#case-media")); err != nil {
		t.Fatal(err)
	}
	media, err := chromedp.Run(ctx, chromedp.Text("#case-media"))
	if err != nil {
		t.Fatal(err)
	}
	history, err := chromedp.Run(ctx, chromedp.Text("#case-history"))
	if err != nil {
		t.Fatal(err)
	}
	browsertest.Screenshot(ctx, t, "workbench-case")
	if strings.Count(media, "assessed Baseline CSAM") != 2 || !strings.Contains(media, "assessed Not illegal") ||
		!strings.Contains(media, "awaiting confirmation") {
		t.Errorf("case view: %q", media)
	}
	if !strings.Contains(history, "media.reveal") || !strings.Contains(history, "media.assess") {
		t.Errorf("case history: %q", history)
	}
	// The auditor reads the decisions in the audit log.
	if err := chromedp.Do(ctx, chromedp.Click(`nav form.inline button`), chromedp.WaitVisible("#login-form")); err != nil {
		t.Fatal(err)
	}
	if err := e.browserLogin(ctx, "ada", "ada-password-1"); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(e.srv.URL+"/staff/audit"), chromedp.WaitVisible("main table")); err != nil {
		t.Fatal(err)
	}
	log, err := chromedp.Run(ctx, chromedp.Text("main"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"media.assess", "media.reveal", fmt.Sprintf("media:%d", ids[2])} {
		if !strings.Contains(log, want) {
			t.Errorf("audit log page lacks %q", want)
		}
	}
}
