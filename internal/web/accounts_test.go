package web_test

import (
	"bytes"
	"context"
	"errors"
	"image/png"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/auth"
	"github.com/vigil-hotline/vigil/internal/store"
	"github.com/vigil-hotline/vigil/internal/storetest"
	"github.com/vigil-hotline/vigil/internal/web"
)

// clock is a settable clock for the server.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }
func newClock() *clock               { return &clock{t: time.Now().UTC()} }
func (e *env) user(name string) *vigil.User {
	e.t.Helper()
	u, err := e.db.FindUserByName(context.Background(), name)
	if err != nil {
		e.t.Fatal(err)
	}
	return u
}

func codeAt(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	c, err := auth.TOTPCode(secret, auth.TOTPStep(at))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// auditActions returns the actions in the log, oldest first.
func (e *env) auditActions() []string {
	e.t.Helper()
	es, err := e.db.ListAudit(context.Background(), vigil.AuditFilter{Limit: 1000})
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for i := len(es) - 1; i >= 0; i-- {
		out = append(out, es[i].Action)
	}
	return out
}

func TestLoginWithTOTP(t *testing.T) {
	storetest.ForEach(t, testLoginWithTOTP)
}

func testLoginWithTOTP(t *testing.T, db *store.DB) {
	clk := newClock()
	e := newEnv(t, db, func(c *web.Config) { c.Now = clk.Now; c.SecureCookies = true })
	e.addUser("ana", vigil.RoleAnalyst, "a long analyst password")
	c := e.browser()
	tok := e.formToken(c, "/staff/login")
	resp, body := e.postForm(c, "/staff/login", url.Values{"csrf": {tok}, "name": {"ana"}, "password": {"a long analyst password"}})
	if resp.StatusCode != 200 || !strings.Contains(body, `action="/staff/login/code"`) {
		t.Fatalf("password step: %d", resp.StatusCode)
	}
	// The password alone opens nothing.
	if resp, _ := e.get(c, "/staff/"); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/staff/login" {
		t.Errorf("after the password only: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	wrong := codeAt(t, testTOTPSecret, clk.Now().Add(-5*time.Minute))
	if resp, body := e.postForm(c, "/staff/login/code", url.Values{"csrf": {tok}, "code": {wrong}}); resp.StatusCode != 401 || !strings.Contains(body, "Wrong or already used code") {
		t.Errorf("wrong code: %d", resp.StatusCode)
	}
	code := codeAt(t, testTOTPSecret, clk.Now())
	resp, _ = e.postForm(c, "/staff/login/code", url.Values{"csrf": {tok}, "code": {code}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/staff/" {
		t.Fatalf("code step: %d", resp.StatusCode)
	}
	var session *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == "vigil_session" {
			session = ck
		}
	}
	if session == nil || !session.HttpOnly || !session.Secure || session.SameSite != http.SameSiteStrictMode || session.Path != "/staff/" {
		t.Errorf("session cookie: %+v", session)
	}
	// The same code again, from another browser, is a replay.
	c2 := e.browser()
	tok2 := e.formToken(c2, "/staff/login")
	e.postForm(c2, "/staff/login", url.Values{"csrf": {tok2}, "name": {"ana"}, "password": {"a long analyst password"}})
	if resp, _ := e.postForm(c2, "/staff/login/code", url.Values{"csrf": {tok2}, "code": {code}}); resp.StatusCode != 401 {
		t.Errorf("replayed code: %d", resp.StatusCode)
	}
	// A code step without a pending sign-in, or with a forged one, fails.
	c3 := e.browser()
	tok3 := e.formToken(c3, "/staff/login")
	u, _ := url.Parse(e.srv.URL + "/staff/login")
	c3.Jar.SetCookies(u, []*http.Cookie{{Name: "vigil_login", Value: strconv.FormatInt(e.user("ana").ID, 10) + ".99999999999.forged", Path: "/staff/login"}})
	if resp, _ := e.postForm(c3, "/staff/login/code", url.Values{"csrf": {tok3}, "code": {codeAt(t, testTOTPSecret, clk.Now().Add(30*time.Second))}}); resp.StatusCode != 401 {
		t.Errorf("forged pending sign-in: %d", resp.StatusCode)
	}
	// The pending sign-in expires.
	clk.Add(6 * time.Minute)
	if resp, _ := e.postForm(c2, "/staff/login/code", url.Values{"csrf": {tok2}, "code": {codeAt(t, testTOTPSecret, clk.Now())}}); resp.StatusCode != 401 {
		t.Errorf("expired pending sign-in: %d", resp.StatusCode)
	}
	got := strings.Join(e.auditActions(), " ")
	if got != "login.failed login login.failed" { // expired or forged sign-ins are no attempts
		t.Errorf("audit: %s", got)
	}
}

func TestEnrolment(t *testing.T) {
	clk := newClock()
	e := newEnv(t, storetest.Open(t, "sqlite"), func(c *web.Config) { c.Now = clk.Now })
	e.addUserWithoutTOTP("sup", vigil.RoleSupervisor, "a long supervisor password")
	c := e.browser()
	tok := e.formToken(c, "/staff/login")
	resp, _ := e.postForm(c, "/staff/login", url.Values{"csrf": {tok}, "name": {"sup"}, "password": {"a long supervisor password"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/staff/enrol" {
		t.Fatalf("first sign-in: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp, _ := e.get(c, "/staff/jobs"); resp.Header.Get("Location") != "/staff/enrol" {
		t.Errorf("jobs before enrolment: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	_, body := e.get(c, "/staff/enrol")
	m := regexp.MustCompile(`id="totp-secret">([A-Z2-7]+)<`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no secret on the enrolment page")
	}
	secret := m[1]
	if _, again := e.get(c, "/staff/enrol"); !strings.Contains(again, secret) {
		t.Error("reloading the page changed the secret")
	}
	resp, img := e.get(c, "/staff/enrol/qr.png")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/png" || resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("qr: %d %v", resp.StatusCode, resp.Header)
	}
	if _, err := png.Decode(bytes.NewReader([]byte(img))); err != nil {
		t.Errorf("qr is no PNG: %v", err)
	}
	tok = e.formToken(c, "/staff/enrol")
	if resp, _ := e.postForm(c, "/staff/enrol", url.Values{"csrf": {tok}, "code": {"000000"}}); resp.StatusCode != 400 {
		t.Errorf("wrong code: %d", resp.StatusCode)
	}
	if resp, _ := e.postForm(c, "/staff/enrol", url.Values{"code": {codeAt(t, secret, clk.Now())}}); resp.StatusCode != 403 {
		t.Errorf("no CSRF token: %d", resp.StatusCode)
	}
	resp, _ = e.postForm(c, "/staff/enrol", url.Values{"csrf": {tok}, "code": {codeAt(t, secret, clk.Now())}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/staff/" {
		t.Fatalf("enrol: %d", resp.StatusCode)
	}
	if resp, _ := e.get(c, "/staff/jobs"); resp.StatusCode != 200 {
		t.Errorf("jobs after enrolment: %d", resp.StatusCode)
	}
	if u := e.user("sup"); u.TOTPSecret != secret || u.TOTPPending != "" {
		t.Errorf("stored: %+v", u)
	}
	if resp, _ := e.get(c, "/staff/enrol/qr.png"); resp.StatusCode != 404 {
		t.Errorf("qr after enrolment: %d", resp.StatusCode)
	}
	// The next sign-in asks for a code, and refuses the one used to enrol.
	c2 := e.browser()
	tok2 := e.formToken(c2, "/staff/login")
	_, body = e.postForm(c2, "/staff/login", url.Values{"csrf": {tok2}, "name": {"sup"}, "password": {"a long supervisor password"}})
	if !strings.Contains(body, `action="/staff/login/code"`) {
		t.Fatal("no code asked after enrolment")
	}
	if resp, _ := e.postForm(c2, "/staff/login/code", url.Values{"csrf": {tok2}, "code": {codeAt(t, secret, clk.Now())}}); resp.StatusCode != 401 {
		t.Errorf("enrolment code reused: %d", resp.StatusCode)
	}
	clk.Add(30 * time.Second)
	if resp, _ := e.postForm(c2, "/staff/login/code", url.Values{"csrf": {tok2}, "code": {codeAt(t, secret, clk.Now())}}); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("next code: %d", resp.StatusCode)
	}
	if got := strings.Join(e.auditActions(), " "); got != "login totp.enrol login.failed login" {
		t.Errorf("audit: %s", got)
	}
}

func TestLockout(t *testing.T) {
	clk := newClock()
	e := newEnv(t, storetest.Open(t, "sqlite"), func(c *web.Config) {
		c.Now = clk.Now
		c.FormRate = web.Rate{Count: 1000, Per: time.Minute}
		c.Accounts.LockAfter, c.Accounts.LockBase, c.Accounts.LockMax = 3, time.Minute, 4*time.Minute
	})
	e.addUser("ana", vigil.RoleAnalyst, "a long analyst password")
	c := e.browser()
	tok := e.formToken(c, "/staff/login")
	try := func(pw string) int {
		resp, _ := e.postForm(c, "/staff/login", url.Values{"csrf": {tok}, "name": {"ana"}, "password": {pw}})
		return resp.StatusCode
	}
	for i := range 2 {
		if st := try("wrong password " + strconv.Itoa(i)); st != 401 {
			t.Fatalf("failure %d: %d", i, st)
		}
	}
	// The lock is not announced: it would tell which names exist.
	if st := try("wrong again"); st != 401 {
		t.Errorf("third failure: %d", st)
	}
	// Locked: even the right password is refused, and the refusal does
	// not count.
	if st := try("a long analyst password"); st != 401 {
		t.Errorf("right password while locked: %d", st)
	}
	if u := e.user("ana"); u.FailedLogins != 3 || !u.LockedUntil.Equal(clk.Now().Add(time.Minute).Truncate(time.Microsecond)) {
		t.Errorf("stored: %d failures, locked until %v", u.FailedLogins, u.LockedUntil)
	}
	// Each further failure doubles the lock, up to the maximum.
	for _, want := range []time.Duration{2 * time.Minute, 4 * time.Minute, 4 * time.Minute} {
		clk.Add(5 * time.Minute)
		try("still wrong")
		if u := e.user("ana"); !u.LockedUntil.Equal(clk.Now().Add(want).Truncate(time.Microsecond)) {
			t.Errorf("after %d failures: locked for %v, want %v", u.FailedLogins, u.LockedUntil.Sub(clk.Now()), want)
		}
	}
	// Wrong codes count too.
	clk.Add(5 * time.Minute)
	_, body := e.postForm(c, "/staff/login", url.Values{"csrf": {tok}, "name": {"ana"}, "password": {"a long analyst password"}})
	if !strings.Contains(body, "/staff/login/code") {
		t.Fatal("no code step after the lock ended")
	}
	if resp, _ := e.postForm(c, "/staff/login/code", url.Values{"csrf": {tok}, "code": {"000000"}}); resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("wrong code: %d", resp.StatusCode)
	}
	// Success clears the count.
	clk.Add(5 * time.Minute)
	e.postForm(c, "/staff/login", url.Values{"csrf": {tok}, "name": {"ana"}, "password": {"a long analyst password"}})
	if resp, _ := e.postForm(c, "/staff/login/code", url.Values{"csrf": {tok}, "code": {codeAt(t, testTOTPSecret, clk.Now())}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in after the lock: %d", resp.StatusCode)
	}
	if u := e.user("ana"); u.FailedLogins != 0 || !u.LockedUntil.IsZero() {
		t.Errorf("after success: %+v", u)
	}
}

func TestSessionTimeouts(t *testing.T) {
	clk := newClock()
	e := newEnv(t, storetest.Open(t, "sqlite"), func(c *web.Config) {
		c.Now = clk.Now
		c.SessionIdle, c.SessionMax = 10*time.Minute, time.Hour
	})
	e.addUser("aud", vigil.RoleAuditor, "a long auditor password")
	login := func() *http.Client {
		c := e.browser()
		tok := e.formToken(c, "/staff/login")
		e.postForm(c, "/staff/login", url.Values{"csrf": {tok}, "name": {"aud"}, "password": {"a long auditor password"}})
		clk.Add(30 * time.Second) // a fresh code step each time
		if resp, _ := e.postForm(c, "/staff/login/code", url.Values{"csrf": {tok}, "code": {codeAt(t, testTOTPSecret, clk.Now())}}); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("login: %d", resp.StatusCode)
		}
		return c
	}
	c := login()
	clk.Add(11 * time.Minute)
	if resp, _ := e.get(c, "/staff/audit"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("idle session: %d", resp.StatusCode)
	}
	c = login()
	for range 7 { // always active, but past the absolute limit
		clk.Add(9 * time.Minute)
		e.get(c, "/staff/audit")
	}
	if resp, _ := e.get(c, "/staff/audit"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("session past its maximum: %d", resp.StatusCode)
	}
}

func TestUserAdministration(t *testing.T) {
	storetest.ForEach(t, testUserAdministration)
}

func testUserAdministration(t *testing.T, db *store.DB) {
	e := newEnv(t, db)
	e.addUser("admin", vigil.RoleAdmin, "a long admin password")
	adminID := e.user("admin").ID
	e.addUser("ana", vigil.RoleAnalyst, "a long analyst password")
	anaID := strconv.FormatInt(e.user("ana").ID, 10)
	admin := e.login("admin", "a long admin password")
	ana := e.login("ana", "a long analyst password")
	_, body := e.get(admin, "/staff/users")
	if !strings.Contains(body, `id="user-ana"`) || !strings.Contains(body, "enrolled") {
		t.Fatalf("users page: %s", body)
	}
	tok := e.formToken(admin, "/staff/users")
	post := func(path string, form url.Values) (*http.Response, string) {
		form.Set("csrf", tok)
		return e.postForm(admin, path, form)
	}
	// Create: name, role and password are checked.
	if resp, body := post("/staff/users", url.Values{"name": {"bob"}, "role": {"analyst"}, "password": {"short"}}); resp.StatusCode != 400 || !strings.Contains(body, "12") {
		t.Errorf("short password: %d", resp.StatusCode)
	}
	if resp, _ := post("/staff/users", url.Values{"name": {"bob"}, "role": {"root"}, "password": {"a long bob password"}}); resp.StatusCode != 400 {
		t.Errorf("bad role: %d", resp.StatusCode)
	}
	if resp, _ := post("/staff/users", url.Values{"name": {"ana"}, "role": {"analyst"}, "password": {"a long bob password"}}); resp.StatusCode != 409 {
		t.Errorf("duplicate: %d", resp.StatusCode)
	}
	if resp, _ := e.postForm(admin, "/staff/users", url.Values{"name": {"bob"}, "role": {"analyst"}, "password": {"a long bob password"}}); resp.StatusCode != 403 {
		t.Errorf("no CSRF token: %d", resp.StatusCode)
	}
	if resp, _ := post("/staff/users", url.Values{"name": {"bob"}, "role": {"auditor"}, "password": {"a long bob password"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("create: %d", resp.StatusCode)
	}
	if u := e.user("bob"); u.Role != vigil.RoleAuditor || u.HasTOTP() {
		t.Errorf("created: %+v", u)
	}
	// Disable ends the user's sessions; enable lets them sign in again.
	if resp, _ := post("/staff/users/"+anaID+"/disable", url.Values{}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("disable: %d", resp.StatusCode)
	}
	if resp, _ := e.get(ana, "/staff/"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("disabled user's session: %d", resp.StatusCode)
	}
	post("/staff/users/"+anaID+"/enable", url.Values{})
	ana = e.login("ana", "a long analyst password")
	// Role change.
	if resp, _ := post("/staff/users/"+anaID+"/role", url.Values{"role": {"supervisor"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("role: %d", resp.StatusCode)
	}
	if u := e.user("ana"); u.Role != vigil.RoleSupervisor {
		t.Errorf("role not changed: %s", u.Role)
	}
	// Password reset.
	post("/staff/users/"+anaID+"/password", url.Values{"password": {"a brand new password"}})
	ana = e.login("ana", "a brand new password")
	// Second-factor reset: the next sign-in goes to enrolment.
	post("/staff/users/"+anaID+"/reset-totp", url.Values{})
	if resp, _ := e.get(ana, "/staff/"); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/staff/login" {
		t.Errorf("session after reset: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	e.loginWithoutTOTP("ana", "a brand new password")
	// An admin cannot disable or demote themselves.
	me := strconv.FormatInt(adminID, 10)
	if resp, _ := post("/staff/users/"+me+"/disable", url.Values{}); resp.StatusCode != 400 {
		t.Errorf("self-disable: %d", resp.StatusCode)
	}
	if resp, _ := post("/staff/users/"+me+"/role", url.Values{"role": {"analyst"}}); resp.StatusCode != 400 {
		t.Errorf("self-demotion: %d", resp.StatusCode)
	}
	if resp, _ := post("/staff/users/9999/disable", url.Values{}); resp.StatusCode != 404 {
		t.Errorf("missing user: %d", resp.StatusCode)
	}
	es, err := e.db.ListAudit(context.Background(), vigil.AuditFilter{ActorID: adminID, Action: "user."})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for i := len(es) - 1; i >= 0; i-- {
		got = append(got, es[i].Action+" "+es[i].Object)
	}
	// PostgreSQL spends an ID on the refused duplicate: take bob's own.
	want := "user.create user:" + strconv.FormatInt(e.user("bob").ID, 10) + ",user.disable user:2,user.enable user:2,user.role user:2,user.password user:2,user.totp_reset user:2"
	if strings.Join(got, ",") != want {
		t.Errorf("audit:\n%s\nwant\n%s", strings.Join(got, ","), want)
	}
}

func TestAuditPage(t *testing.T) {
	e := newEnv(t, storetest.Open(t, "sqlite"), func(c *web.Config) { c.Accounts.AuditPage = 3 })
	e.addUser("aud", vigil.RoleAuditor, "a long auditor password")
	e.addUser("ana", vigil.RoleAnalyst, "a long analyst password")
	e.login("ana", "a long analyst password")
	storetest.AppendAuditEntries(t, e.db, 4)
	aud := e.login("aud", "a long auditor password")
	_, body := e.get(aud, "/staff/audit")
	if n := strings.Count(body, "<tr><td>"); n != 3 || !strings.Contains(body, `id="audit-older"`) {
		t.Errorf("first page: %d rows", n)
	}
	_, body = e.get(aud, "/staff/audit?before=4")
	if !strings.Contains(body, "<td>3</td>") || strings.Contains(body, "<td>4</td>") {
		t.Errorf("older page: %s", body)
	}
	_, body = e.get(aud, "/staff/audit?actor=ana")
	if !strings.Contains(body, "<td>login</td>") || strings.Contains(body, "media.view") {
		t.Errorf("actor filter: %s", body)
	}
	_, body = e.get(aud, "/staff/audit?action=media.&object=media:2")
	if strings.Count(body, "<tr><td>") != 1 || !strings.Contains(body, "media:2") {
		t.Errorf("action and object filter: %s", body)
	}
	if _, body = e.get(aud, "/staff/audit?actor=nobody"); !strings.Contains(body, "No entries") {
		t.Errorf("unknown actor: %s", body)
	}
	if _, body = e.get(aud, "/staff/audit?verify=1"); !strings.Contains(body, "The chain holds") {
		t.Errorf("verification: %s", body)
	}
	storetest.DropAuditGuards(t, e.db)
	storetest.Exec(t, e.db, `UPDATE audit_log SET detail = '{}' WHERE id = 3`)
	if _, body = e.get(aud, "/staff/audit?verify=1"); !strings.Contains(body, "broken at entry 3") {
		t.Errorf("verification after tampering: %s", body)
	}
}

// failingAudit refuses every entry.
type failingAudit struct{ vigil.AuditService }

func (failingAudit) AppendAudit(context.Context, *vigil.AuditEntry) error {
	return errors.New("disk full")
}

func TestSignInFailsClosedWithoutAudit(t *testing.T) {
	e := newEnv(t, storetest.Open(t, "sqlite"), func(c *web.Config) { c.Accounts.Audit = failingAudit{} })
	e.addUser("ana", vigil.RoleAnalyst, "a long analyst password")
	c := e.browser()
	tok := e.formToken(c, "/staff/login")
	e.postForm(c, "/staff/login", url.Values{"csrf": {tok}, "name": {"ana"}, "password": {"a long analyst password"}})
	if resp, _ := e.postForm(c, "/staff/login/code", url.Values{"csrf": {tok}, "code": {e.totpCode("ana")}}); resp.StatusCode != 500 {
		t.Errorf("sign-in without an audit log: %d", resp.StatusCode)
	}
	if resp, _ := e.get(c, "/staff/"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("a session was left: %d", resp.StatusCode)
	}
	// Without an audit service at all (tests), sign-in works and logs.
	e2 := newEnv(t, storetest.Open(t, "sqlite"), func(c *web.Config) { c.Accounts.Audit = nil })
	e2.addUser("ana", vigil.RoleAnalyst, "a long analyst password")
	e2.login("ana", "a long analyst password")
}
