package web_test

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/browsertest"
	"github.com/vigil-hotline/vigil/internal/simnet"
	"github.com/vigil-hotline/vigil/internal/store"
	"github.com/vigil-hotline/vigil/internal/storetest"
	"github.com/vigil-hotline/vigil/internal/testrig"
	"github.com/vigil-hotline/vigil/internal/web"
)

// rawKeyRE finds a catalogue key shown instead of its text.
var rawKeyRE = regexp.MustCompile(`\b(nav|home|q|td|case|jobs|pref|stop|code|dur|exch|sup|partners|refuse)_[a-z_]+\b`)

// TestBrowserStaffLanguages: a supervisor switches the staff pages to each
// language in the menu and finds the queue, a case and the takedowns page
// in it, with plurals and labels instead of codes. In English, the queue
// is a compact grid (no card carries a form; one panel classifies) and a
// revealed image is drawn at least as large as its blurred preview.
func TestBrowserStaffLanguages(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test")
	}
	ctx := browsertest.New(t)
	bg := context.Background()
	db := storetest.Open(t, "sqlite")
	vault := testrig.Vault(t)
	e := newEnv(t, db, withWorkbench(db, vault), func(c *web.Config) { c.Takedown.CaseRefPrefix = "BE" })
	var items []storetest.SeedItem
	for i := uint64(0); i < 8; i++ {
		it, _ := benignItem(t, vault, 700+i*13, simnet.Variant{})
		items = append(items, it)
	}
	caseID, ids := storetest.SeedCase(t, db, "https://lang.example/album", items)
	err := db.Driver().WithTx(bg, func(tx store.Tx) error {
		_, err := tx.Exec(bg, `INSERT INTO takedowns (reported_url_id, url, state, classification, severity, first_seen_at, created_at, removed_at)
			SELECT id, url, 'removed', 'iwf-b', 'B', first_reported_at, first_reported_at, last_reported_at FROM reported_urls WHERE id = $1`, caseID)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	e.addUser("sam", vigil.RoleSupervisor+","+vigil.RoleAnalyst, "sam-password-1")
	if err := e.browserLogin(ctx, "sam", "sam-password-1"); err != nil {
		t.Fatal(err)
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(sel))
		if err != nil {
			t.Fatalf("%s: %v", sel, err)
		}
		return s
	}
	for _, tc := range []struct {
		lang                        vigil.Language
		queue, caseTitle, takedowns string
		removed, state              string
		suppressed                  string
	}{
		{vigil.LangEN, "Queue", "Case", "Takedowns", "1 URL removed", "removed", "No entry is suppressed."},
		{vigil.LangNL, "Wachtrij", "Dossier", "Verwijderingen", "1 URL verwijderd", "verwijderd", "Geen enkele vermelding is opgeschort."},
		{vigil.LangFR, "File d'attente", "Dossier", "Retraits", "1 URL retirée", "retiré", "Aucune entrée n'est suspendue."},
		{vigil.LangDE, "Warteschlange", "Fall", "Löschungen", "1 URL entfernt", "entfernt", "Kein Eintrag ist gesperrt."},
	} {
		t.Run(string(tc.lang), func(t *testing.T) {
			// The switch returns to the page it was used on: the queue.
			err := chromedp.Do(ctx,
				chromedp.Navigate(e.srv.URL+"/staff/queue"),
				chromedp.WaitVisible(`#staff-langs`),
			)
			if err == nil {
				_, err = chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](`document.body.appendChild(document.createElement("i")).id = "before-switch"`))
			}
			if err == nil {
				err = chromedp.Do(ctx, chromedp.Click(fmt.Sprintf(`#staff-langs button[value="%s"]`, tc.lang)))
			}
			if err == nil {
				err = chromedp.Do(ctx, chromedp.WaitNotPresent("#before-switch"))
			}
			if err == nil {
				err = chromedp.Do(ctx, chromedp.WaitVisible(fmt.Sprintf(`html[lang="%s"] #item-%d.wb-current`, tc.lang, ids[0])))
			}
			if err != nil {
				t.Fatal(err)
			}
			check := func(page, want string) {
				t.Helper()
				body := text("body")
				if !strings.Contains(body, want) {
					t.Errorf("%s in %s lacks %q:\n%s", page, tc.lang, want, body)
				}
				if k := rawKeyRE.FindString(body); k != "" {
					t.Errorf("%s in %s shows the key %q", page, tc.lang, k)
				}
			}
			check("queue", tc.queue)
			browsertest.Screenshot(ctx, t, "queue-"+string(tc.lang))
			if tc.lang == vigil.LangEN {
				checkCompactQueue(ctx, t, ids[0])
			}
			if tc.lang == vigil.LangDE {
				// A decision by keyboard, confirmed in words.
				done := fmt.Sprintf("#item-%d.wb-decided .wb-done", ids[0])
				if err := chromedp.Do(ctx, chromedp.KeyEvent("3"), chromedp.KeyEvent(kb.Enter), chromedp.WaitVisible(done)); err != nil {
					t.Fatal(err)
				}
				if got := text(done); got != "Entschieden: Nicht illegal" {
					t.Errorf("decided card says %q", got)
				}
			}
			if err := chromedp.Do(ctx, chromedp.Navigate(fmt.Sprintf("%s/staff/cases/%d", e.srv.URL, caseID)), chromedp.WaitVisible("#case-ref")); err != nil {
				t.Fatal(err)
			}
			check("case", tc.caseTitle+" BE-")
			check("case", tc.state)
			if tc.lang == vigil.LangDE {
				check("case", "bewertet als Nicht illegal")
			}
			browsertest.Screenshot(ctx, t, "case-"+string(tc.lang))
			if err := chromedp.Do(ctx, chromedp.Navigate(e.srv.URL+"/staff/takedowns"), chromedp.WaitVisible("#takedowns")); err != nil {
				t.Fatal(err)
			}
			check("takedowns", tc.takedowns)
			check("takedowns", tc.removed)
			browsertest.Screenshot(ctx, t, "takedowns-"+string(tc.lang))
			// The exchanges' suppressed entries, which supervisors watch.
			if err := chromedp.Do(ctx, chromedp.Navigate(e.srv.URL+"/staff/exchanges/suppressed"), chromedp.WaitVisible("#suppressed")); err != nil {
				t.Fatal(err)
			}
			check("suppressed entries", tc.suppressed)
		})
	}
}

// checkCompactQueue: no card carries a form, the cards stay short, and the
// first item revealed is drawn at least as large as its preview was.
func checkCompactQueue(ctx context.Context, t *testing.T, first int64) {
	t.Helper()
	eval := func(js string) []float64 {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[[]float64](js))
		if err != nil {
			t.Fatalf("%s: %v", js, err)
		}
		return v
	}
	card := fmt.Sprintf("#item-%d", first)
	rect := func(sel string) string {
		return `(() => { const r = document.querySelector('` + sel + `').getBoundingClientRect(); return [r.width, r.height]; })()`
	}
	counts := eval(`[document.querySelectorAll('.wb-card form').length, document.querySelectorAll('#wb-panel form').length,
		Math.max(...[...document.querySelectorAll('.wb-card')].map(c => c.getBoundingClientRect().height)),
		document.documentElement.scrollHeight, document.querySelectorAll('.wb-card').length]`)
	t.Logf("queue of %.0f items: page %.0f px high (1280×900 window), tallest card %.0f px", counts[4], counts[3], counts[2])
	if counts[0] != 0 || counts[1] != 1 {
		t.Errorf("%v forms in cards, %v in the panel: want one panel", counts[0], counts[1])
	}
	if counts[2] > 400 {
		t.Errorf("the tallest card is %.0f px: the grid is not compact", counts[2])
	}
	before := eval(rect(card + " .wb-preview"))
	err := chromedp.Do(ctx,
		chromedp.KeyEvent("r"),
		chromedp.WaitVisible(card+" img.wb-original"),
	)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.querySelector('`+card+` img.wb-original').complete`)); err != nil {
		t.Fatal(err)
	}
	after := eval(rect(card + " img.wb-original"))
	if after[0] < before[0] || after[1] < before[1] || before[0] == 0 {
		t.Errorf("revealed %v, smaller than its preview %v", after, before)
	}
	if err := chromedp.Do(ctx, chromedp.KeyEvent("r")); err != nil {
		t.Fatal(err)
	}
}
