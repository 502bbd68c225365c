package web_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/auth"
	"github.com/vigil-hotline/vigil/internal/browsertest"
	"github.com/vigil-hotline/vigil/internal/storetest"
)

// TestBrowserTOTP signs a new admin in, enrols a second factor from the
// secret on the page (the QR code beside it must load under the CSP),
// signs out and in again with a code computed here, adds a user, and
// finds it all in the audit log.
func TestBrowserTOTP(t *testing.T) {
	ctx, cancel := context.WithTimeout(browsertest.New(t), 45*time.Second)
	defer cancel()
	e := newEnv(t, storetest.Open(t, "sqlite"))
	e.addUserWithoutTOTP("root", vigil.RoleAdmin, "a long admin password")
	err := chromedp.Do(ctx,
		chromedp.Navigate(e.srv.URL+"/staff/"),
		chromedp.WaitVisible("#login-form"),
		chromedp.SendKeys("#name", "root"),
		chromedp.SendKeys("#password", "a long admin password"),
		chromedp.Submit("#login-form"),
		chromedp.WaitVisible("#totp-secret"),
	)
	if err != nil {
		t.Fatal(err)
	}
	secret, err := chromedp.Run(ctx, chromedp.Text("#totp-secret"))
	if err != nil {
		t.Fatal(err)
	}
	qrWidth, err := chromedp.Run(ctx, chromedp.Evaluate[int](`new Promise(done => {
		const img = document.getElementById("totp-qr");
		if (img.complete) { done(img.naturalWidth); return; }
		img.onload = () => done(img.naturalWidth);
		img.onerror = () => done(-1);
	})`, chromedp.EvalAwaitPromise))
	if err != nil || qrWidth <= 0 {
		t.Errorf("QR code did not load: width %d, %v", qrWidth, err)
	}
	browsertest.Screenshot(ctx, t, "enrol")
	now := time.Now()
	code, _ := auth.TOTPCode(secret, auth.TOTPStep(now))
	err = chromedp.Do(ctx,
		chromedp.SendKeys("#code", code),
		chromedp.Submit("#enrol-form"),
		chromedp.WaitVisible("#count-reports"),
		chromedp.Click(`form[action="/staff/logout"] button`),
		chromedp.WaitVisible("#login-form"),
		chromedp.SendKeys("#name", "root"),
		chromedp.SendKeys("#password", "a long admin password"),
		chromedp.Submit("#login-form"),
		chromedp.WaitVisible("#code-form"),
	)
	if err != nil {
		t.Fatal(err)
	}
	// The enrolment code is used up; the next step's code is accepted.
	code, _ = auth.TOTPCode(secret, auth.TOTPStep(now)+1)
	err = chromedp.Do(ctx,
		chromedp.SendKeys("#code", code),
		chromedp.Submit("#code-form"),
		chromedp.WaitVisible("#count-reports"),
		chromedp.Navigate(e.srv.URL+"/staff/users"),
		chromedp.WaitVisible("#user-create"),
		chromedp.SendKeys("#new-name", "ana"),
		chromedp.SetValue("#new-role", "analyst"),
		chromedp.SendKeys("#new-password", "a long analyst password"),
		chromedp.Submit("#user-create"),
		chromedp.WaitVisible("#notice"),
		chromedp.WaitVisible("#user-ana"),
		chromedp.Navigate(e.srv.URL+"/staff/audit"),
		chromedp.WaitVisible("#audit"),
	)
	if err != nil {
		t.Fatal(err)
	}
	log, err := chromedp.Run(ctx, chromedp.Text("#audit"))
	if err != nil {
		t.Fatal(err)
	}
	browsertest.Screenshot(ctx, t, "audit")
	for _, want := range []string{"totp.enrol", "logout", "user.create", `"role":"analyst"`} {
		if !strings.Contains(log, want) {
			t.Errorf("audit log lacks %s:\n%s", want, log)
		}
	}
	if u := e.user("ana"); u.Role != vigil.RoleAnalyst {
		t.Errorf("created with role %s", u.Role)
	}
}
