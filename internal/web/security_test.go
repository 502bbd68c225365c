package web_test

// Regression tests for the red-team findings of issue 12 (items 1, 2, 5,
// 8, 10 and 12); each failed before its fix.

import (
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/auth"
	"github.com/vigil-hotline/vigil/internal/simnet"
	"github.com/vigil-hotline/vigil/internal/storetest"
	"github.com/vigil-hotline/vigil/internal/testrig"
	"github.com/vigil-hotline/vigil/internal/web"
)

// Item 1: each password check holds its hash's memory; 200 sign-ins at once
// (unknown names and wrong passwords) stay within the checks' memory budget
// instead of holding 200 checks' worth.
func TestLoginMemoryBounded(t *testing.T) {
	const mib = 1024
	params := auth.Argon2Params{Memory: 8 * mib, Time: 1, Threads: 1}
	e := newEnv(t, storetest.Open(t, "sqlite"), func(c *web.Config) {
		c.FormRate = web.Rate{}
		c.Accounts.Argon2 = params
		c.Accounts.Passwords = auth.VerifierConfig{MemoryKiB: 16 * mib, MaxQueue: 64, Wait: 30 * time.Second}
	})
	h, err := auth.HashPassword("a long analyst password", params)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.db.CreateUser(context.Background(), &vigil.User{Name: "ana", Role: vigil.RoleAnalyst, PasswordHash: h}); err != nil {
		t.Fatal(err)
	}
	c := e.browser()
	tok := e.formToken(c, "/staff/login")
	// One check first, so that the dummy hash exists before measuring.
	e.postForm(c, "/staff/login", url.Values{"csrf": {tok}, "name": {"warm-up"}, "password": {"x"}})
	runtime.GC()
	base := testrig.HeapPeak()()
	stop := testrig.HeapPeak()
	var wg sync.WaitGroup
	var mu sync.Mutex
	statuses := map[int]int{}
	for i := range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := fmt.Sprintf("nobody-%d", i)
			if i%4 == 0 {
				name = "ana"
			}
			resp, _ := e.postForm(c, "/staff/login", url.Values{"csrf": {tok}, "name": {name}, "password": {"a wrong password"}})
			mu.Lock()
			statuses[resp.StatusCode]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	peak := stop()
	for st := range statuses {
		if st != http.StatusUnauthorized && st != http.StatusServiceUnavailable {
			t.Errorf("status %d answered %d times", st, statuses[st])
		}
	}
	// Two checks fit the budget (16 MiB); allow as much again for garbage
	// not yet collected, and as much for the rest of the server. Unbounded,
	// 200 checks of 8 MiB hold over a gigabyte.
	grown := int64(peak) - int64(base)
	t.Logf("heap grew by %d MiB at most (statuses %v)", grown>>20, statuses)
	if grown > 96<<20 {
		t.Errorf("heap grew by %d MiB during 200 simultaneous sign-ins, want under 96 MiB", grown>>20)
	}
}

// loginFailures counts the sign-in failures on the record for a reason.
func (e *env) loginFailures(reason string) int {
	e.t.Helper()
	es, err := e.db.ListAudit(context.Background(), vigil.AuditFilter{Action: "login.failed", Limit: 1000})
	if err != nil {
		e.t.Fatal(err)
	}
	n := 0
	for _, x := range es {
		if strings.Contains(string(x.Detail), `"reason":"`+reason+`"`) {
			n++
		}
	}
	return n
}

// Item 2: 50 simultaneous wrong guesses leave at most the lock's number
// checked, and once locked a burst holding the right password gets no
// session.
func TestSimultaneousGuessesStopAtTheLock(t *testing.T) {
	e := newEnv(t, storetest.Open(t, "sqlite"), func(c *web.Config) {
		c.FormRate = web.Rate{}
		c.Accounts.Argon2 = auth.Argon2Params{Memory: 1024, Time: 1, Threads: 1}
		c.Accounts.Passwords = auth.VerifierConfig{MaxQueue: 200, Wait: time.Minute}
	})
	e.addUserWithoutTOTP("ana", vigil.RoleAnalyst, "a long analyst password")
	c := e.browser()
	tok := e.formToken(c, "/staff/login")
	burst := func(n int, right int) (sessions int) {
		var wg sync.WaitGroup
		var got atomic.Int32
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				pw := fmt.Sprintf("wrong guess number %d", i)
				if i == right {
					pw = "a long analyst password"
				}
				resp, _ := e.postForm(c, "/staff/login", url.Values{"csrf": {tok}, "name": {"ana"}, "password": {pw}})
				if resp.StatusCode == http.StatusSeeOther {
					got.Add(1)
				}
			}()
		}
		wg.Wait()
		return int(got.Load())
	}
	burst(50, -1)
	if n := e.loginFailures("password"); n > 5 {
		t.Errorf("%d of 50 simultaneous wrong passwords were checked, want at most the lock's 5", n)
	}
	if u := e.user("ana"); u.FailedLogins > 5 || u.LockedUntil.IsZero() {
		t.Errorf("after the burst: %d failures, locked until %v", u.FailedLogins, u.LockedUntil)
	}
	if n := burst(41, 20); n != 0 {
		t.Errorf("a burst of 40 wrong and 1 right password on a locked account opened %d sessions", n)
	}
}

// Item 8: a locked account answers exactly like an unknown name.
func TestLockedAnswersLikeUnknown(t *testing.T) {
	e := newEnv(t, storetest.Open(t, "sqlite"), func(c *web.Config) {
		c.FormRate = web.Rate{}
		c.Accounts.Argon2 = auth.Argon2Params{Memory: 1024, Time: 1, Threads: 1}
	})
	e.addUser("ana", vigil.RoleAnalyst, "a long analyst password")
	c := e.browser()
	tok := e.formToken(c, "/staff/login")
	try := func(name, pw string) (int, string) {
		resp, body := e.postForm(c, "/staff/login", url.Values{"csrf": {tok}, "name": {name}, "password": {pw}})
		return resp.StatusCode, body
	}
	for range 10 {
		try("ana", "a wrong password")
	}
	if u := e.user("ana"); u.LockedUntil.IsZero() {
		t.Fatal("not locked after 10 failures")
	}
	wantStatus, want := try("nobody", "a wrong password")
	for _, pw := range []string{"a wrong password", "a long analyst password"} {
		st, body := try("ana", pw)
		if st != wantStatus || body != want {
			t.Errorf("locked account, %q: %d, unknown name: %d; the pages differ: %v", pw, st, wantStatus, body != want)
		}
	}
}

// Item 5: behind a trusted proxy each client has its own limit; without
// one, forwarding headers are not believed.
func TestTrustedProxies(t *testing.T) {
	report := func(e *env, c *http.Client, fwd ...string) int {
		tok := e.formToken(c, "/status")
		req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/status", strings.NewReader(url.Values{"csrf": {tok}, "code": {"ABCD-EFGH-JKLM"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for i := 0; i+1 < len(fwd); i += 2 {
			req.Header.Set(fwd[i], fwd[i+1])
		}
		resp, _ := e.do(c, req)
		return resp.StatusCode
	}
	rate := web.Rate{Count: 3, Per: time.Hour}
	proxied := newEnv(t, storetest.Open(t, "sqlite"), func(c *web.Config) {
		c.FormRate = rate
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	})
	c := proxied.browser()
	for range 3 {
		report(proxied, c, "X-Forwarded-For", "198.51.100.7, 127.0.0.2")
	}
	if st := report(proxied, c, "X-Forwarded-For", "198.51.100.7"); st != http.StatusTooManyRequests {
		t.Errorf("fourth look-up of one client: %d, want 429", st)
	}
	if st := report(proxied, c, "X-Forwarded-For", "203.0.113.9"); st == http.StatusTooManyRequests {
		t.Error("another client behind the proxy was limited by the first one's look-ups")
	}
	if st := report(proxied, c, "Forwarded", `for="[2001:db8::1]:4711";proto=https`); st == http.StatusTooManyRequests {
		t.Error("a client named in Forwarded was limited by another's look-ups")
	}
	// No trusted proxy (the default): the header is the client's word.
	direct := newEnv(t, storetest.Open(t, "sqlite"), func(c *web.Config) { c.FormRate = rate })
	c = direct.browser()
	for i := range 3 {
		report(direct, c, "X-Forwarded-For", fmt.Sprintf("192.0.2.%d", i))
	}
	if st := report(direct, c, "X-Forwarded-For", "192.0.2.99"); st != http.StatusTooManyRequests {
		t.Errorf("a client escaped its limit with a forged X-Forwarded-For: %d", st)
	}
}

// Item 10: a supervisor cannot lift their own exposure budget.
func TestSupervisorCannotLiftOwnBudget(t *testing.T) {
	db := storetest.Open(t, "sqlite")
	e := newEnv(t, db, withWorkbench(db, testrig.Vault(t)))
	e.addUser("sue", vigil.RoleSupervisor, "sue-password-1")
	e.addUser("sam", vigil.RoleSupervisor, "sam-password-1")
	sue := e.login("sue", "sue-password-1")
	tok := e.formToken(sue, "/staff/wellbeing")
	if resp, _ := e.postForm(sue, fmt.Sprintf("/staff/wellbeing/%d/extend", e.user("sue").ID), url.Values{"csrf": {tok}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("supervisor lifting her own budget: %d, want 403", resp.StatusCode)
	}
	if e.auditHas("exposure.extend", fmt.Sprintf("user:%d", e.user("sue").ID)) {
		t.Error("a self-extension is on the record as granted")
	}
	if resp, _ := e.postForm(sue, fmt.Sprintf("/staff/wellbeing/%d/extend", e.user("sam").ID), url.Values{"csrf": {tok}}); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("supervisor lifting a colleague's budget: %d", resp.StatusCode)
	}
}

// Item 12: a staff CSRF token is bound to its session: a valid token from
// another browser, with its cookie, does not pass next to the victim's
// session.
func TestCSRFBoundToSession(t *testing.T) {
	e := newEnv(t, storetest.Open(t, "sqlite"))
	e.addUser("admin", vigil.RoleAdmin, "a long admin password")
	e.addUser("eve", vigil.RoleAnalyst, "a long analyst password")
	victim := e.login("admin", "a long admin password")
	attacker := e.login("eve", "a long analyst password")
	anon := e.browser()
	anonTok := e.formToken(anon, "/staff/login")
	eveTok := e.formToken(attacker, "/staff/")
	u, _ := url.Parse(e.srv.URL + "/staff/")
	var sessionCookie *http.Cookie
	for _, ck := range victim.Jar.Cookies(u) {
		if ck.Name == "vigil_session" {
			sessionCookie = ck
		}
	}
	if sessionCookie == nil {
		t.Fatal("no session cookie")
	}
	for name, tok := range map[string]string{"anonymous browser's": anonTok, "another session's": eveTok} {
		form := url.Values{"csrf": {tok}, "name": {"mallory"}, "role": {"admin"}, "password": {"correct horse battery staple"}}
		req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/staff/users", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Cookie", sessionCookie.Name+"="+sessionCookie.Value+"; vigil_csrf="+tok)
		resp, _ := e.do(http.DefaultClient, req)
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s token with the victim's session: %d, want 403", name, resp.StatusCode)
		}
	}
	if _, err := e.db.FindUserByName(context.Background(), "mallory"); !vigil.IsNotFound(err) {
		t.Error("the forged request created an account")
	}
	// The victim's own token still works.
	tok := e.formToken(victim, "/staff/users")
	resp, _ := e.postForm(victim, "/staff/users", url.Values{"csrf": {tok}, "name": {"carl"}, "role": {"analyst"}, "password": {"correct horse battery staple"}})
	if resp.StatusCode != http.StatusSeeOther && resp.StatusCode != http.StatusOK {
		t.Errorf("the victim's own form: %d", resp.StatusCode)
	}
}

// Item 4: reveals count against the budget on the server, with no
// heartbeat at all; a heartbeat only extends a reveal.
func TestRevealsCountWithoutHeartbeat(t *testing.T) {
	db := storetest.Open(t, "sqlite")
	vault := testrig.Vault(t)
	clk := newClock()
	e := newEnv(t, db, withWorkbench(db, vault, func(c *web.WorkbenchConfig) {
		c.Budget, c.RevealCost, c.Heartbeat = 40*time.Second, 10*time.Second, 5*time.Second
	}), func(c *web.Config) { c.Now = clk.Now })
	it, _ := benignItem(t, vault, 310, simnet.Variant{})
	_, ids := storetest.SeedCase(t, db, "https://reveal.example/", []storetest.SeedItem{it})
	e.addUser("ann", vigil.RoleAnalyst, "ann-password-1")
	e.addUser("bob", vigil.RoleAnalyst, "bob-password-1")
	// Both sign in first: TOTP codes follow the server's clock.
	ann := e.login("ann", "ann-password-1")
	bob := e.login("bob", "bob-password-1")
	served := 0
	for range 290 { // the red-team's minute of reveals
		clk.Add(200 * time.Millisecond)
		resp, _ := e.get(ann, fmt.Sprintf("/staff/media/%d/original", ids[0]))
		if resp.StatusCode == http.StatusOK {
			served++
		}
	}
	if served != 4 {
		t.Errorf("%d reveals served under a 40 s budget at 10 s each, want 4", served)
	}
	if !e.auditHas("exposure.limit", "") {
		t.Error("the stop is not on the record")
	}

	// A heartbeat within the time a reveal was charged adds nothing.
	if resp, _ := e.get(bob, fmt.Sprintf("/staff/media/%d/original", ids[0])); resp.StatusCode != http.StatusOK {
		t.Fatalf("bob's reveal: %d", resp.StatusCode)
	}
	tok := e.formToken(bob, "/staff/preferences")
	clk.Add(5 * time.Second)
	if st, res := e.postJSON(bob, "/staff/exposure", url.Values{"csrf": {tok}, "ms": {"5000"}}); st != http.StatusOK {
		t.Fatalf("beat: %d %v", st, res)
	}
	ex, err := db.FindExposure(context.Background(), e.user("bob").ID, clk.Now().In(time.Local).Format(time.DateOnly))
	if err != nil || ex.Visible != 10*time.Second {
		t.Errorf("after a reveal and a beat within it: %v %v, want 10s", ex.Visible, err)
	}
	clk.Add(10 * time.Second)
	e.postJSON(bob, "/staff/exposure", url.Values{"csrf": {tok}, "ms": {"10000"}})
	if ex, _ := db.FindExposure(context.Background(), e.user("bob").ID, clk.Now().In(time.Local).Format(time.DateOnly)); ex.Visible != 15*time.Second {
		t.Errorf("a beat beyond the reveal's time: %v, want 15s", ex.Visible)
	}
}
