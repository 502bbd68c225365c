package web_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/vigil-hotline/vigil/internal/browsertest"
	"github.com/vigil-hotline/vigil/internal/storetest"
)

// TestBrowserReport fills in and submits the public form in a real
// browser, then looks the report up on the status page.
func TestBrowserReport(t *testing.T) {
	ctx := browsertest.New(t)
	e := newEnv(t, storetest.Open(t, "sqlite"))
	err := chromedp.Do(ctx,
		chromedp.Navigate(e.srv.URL+"/?lang=fr"),
		chromedp.WaitVisible("#report-form"),
		chromedp.SendKeys("#urls", "https://galerie.example/album/1\nexample.org/page"),
		chromedp.Click(`input[name="saw_images"]`),
		chromedp.SendKeys("#description", "Vu en cherchant autre chose."),
	)
	if err != nil {
		t.Fatal(err)
	}
	title, err := chromedp.Run(ctx, chromedp.Title())
	if err != nil {
		t.Fatal(err)
	}
	browsertest.Screenshot(ctx, t, "report-form")
	if err := chromedp.Do(ctx, chromedp.Click("#submit"), chromedp.WaitVisible("#tracking-code")); err != nil {
		t.Fatal(err)
	}
	code, err := chromedp.Run(ctx, chromedp.Text("#tracking-code"))
	if err != nil {
		t.Fatal(err)
	}
	browsertest.Screenshot(ctx, t, "report-done")
	if !strings.Contains(title, "Signaler") {
		t.Errorf("title %q is not French", title)
	}
	if !regexp.MustCompile(`^[0-9A-Z]{4}(-[0-9A-Z]{4}){3}$`).MatchString(code) {
		t.Fatalf("tracking code %q", code)
	}
	err = chromedp.Do(ctx,
		chromedp.Navigate(e.srv.URL+"/status?lang=fr"),
		chromedp.WaitVisible("#code"),
		chromedp.SendKeys("#code", strings.ToLower(code)),
		chromedp.Submit("#code"),
		chromedp.WaitVisible("#status"),
	)
	if err != nil {
		t.Fatal(err)
	}
	status, err := chromedp.Run(ctx, chromedp.Text("#status"))
	if err != nil {
		t.Fatal(err)
	}
	browsertest.Screenshot(ctx, t, "status")
	if !strings.Contains(status, code) || !strings.Contains(status, "Reçu") {
		t.Errorf("status page says %q", status)
	}
	if n := e.reportCount(); n != 1 {
		t.Errorf("%d reports stored, want 1", n)
	}
}
