package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/storetest"
	"github.com/vigil-hotline/vigil/internal/web"
)

// loginWithoutTOTP signs in a user who has not enrolled a second factor;
// a role that needs one is sent to enrolment.
func (e *env) loginWithoutTOTP(name, password string) *http.Client {
	e.t.Helper()
	c := e.browser()
	tok := e.formToken(c, "/staff/login")
	resp, _ := e.postForm(c, "/staff/login", url.Values{"csrf": {tok}, "name": {name}, "password": {password}})
	if resp.StatusCode != http.StatusSeeOther {
		e.t.Fatalf("login %s: %d", name, resp.StatusCode)
	}
	return c
}

var wildcardRE = regexp.MustCompile(`\{[^}]*\}`)

// routePath turns a pattern's path into one that matches it.
func routePath(path string) string {
	return wildcardRE.ReplaceAllStringFunc(path, func(w string) string {
		switch {
		case w == "{$}":
			return ""
		case strings.HasSuffix(w, "...}"):
			return "x/y"
		}
		return "1"
	})
}

// TestStaffRoutesAccess walks every route registered with staffRoute (the
// workbench's too) as every kind of visitor: anonymous, each role, and
// signed in but not yet enrolled in two-factor authentication. Whoever may
// not use a route is refused by the gate before the handler runs; whoever
// may gets past it, and a POST without a CSRF token is still refused by
// the handler.
func TestStaffRoutesAccess(t *testing.T) {
	e := newEnv(t, storetest.Open(t, "sqlite"), func(c *web.Config) { c.FormRate = web.Rate{Count: 1000, Per: 60_000_000_000} })
	const pw = "a long enough password"
	type visitor struct {
		name  string
		role  vigil.Role // "" for anonymous
		c     *http.Client
		noMFA bool // signed in without the second factor the role needs
	}
	var visitors []visitor
	visitors = append(visitors, visitor{name: "anonymous", c: e.browser()})
	for _, r := range vigil.Roles {
		e.addUser("u-"+string(r), r, pw)
		visitors = append(visitors, visitor{name: string(r), role: r, c: e.login("u-"+string(r), pw)})
	}
	for _, r := range []vigil.Role{vigil.RoleAnalyst, vigil.RoleAdmin} {
		e.addUserWithoutTOTP("new-"+string(r), r, pw)
		visitors = append(visitors, visitor{name: string(r) + " without TOTP", role: r, c: e.loginWithoutTOTP("new-"+string(r), pw), noMFA: true})
	}
	// An auditor needs no second factor and may use every auditor route.
	e.addUserWithoutTOTP("new-auditor", vigil.RoleAuditor, pw)
	visitors = append(visitors, visitor{name: "auditor without TOTP", role: vigil.RoleAuditor, c: e.loginWithoutTOTP("new-auditor", pw)})

	routes := append(e.web.StaffRoutes(), web.StaffRoute{Pattern: "GET /staff/no-such-page"})
	t.Logf("%d staff routes, %d visitors", len(routes), len(visitors))
	// The policy of the accounts routes, written out once more so that a
	// slip in the registry itself shows.
	admin, auditor := []vigil.Role{vigil.RoleAdmin}, []vigil.Role{vigil.RoleAuditor, vigil.RoleAdmin}
	for pattern, want := range map[string][]vigil.Role{
		"GET /staff/{$}": nil, "POST /staff/logout": nil, "GET /staff/enrol": nil, "POST /staff/enrol": nil,
		"GET /staff/enrol/qr.png": nil, "GET /staff/users": admin, "POST /staff/users": admin,
		"POST /staff/users/{id}/disable": admin, "POST /staff/users/{id}/enable": admin,
		"POST /staff/users/{id}/password": admin, "POST /staff/users/{id}/reset-totp": admin,
		"POST /staff/users/{id}/role": admin, "GET /staff/audit": auditor,
		"GET /staff/jobs": {vigil.RoleAdmin, vigil.RoleSupervisor},
	} {
		i := slices.IndexFunc(routes, func(r web.StaffRoute) bool { return r.Pattern == pattern })
		if i < 0 {
			t.Errorf("route %s is not registered with staffRoute", pattern)
		} else if got := routes[i].Roles; !slices.Equal(slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(want))) {
			t.Errorf("route %s admits %v, want %v", pattern, got, want)
		}
	}
	for _, rt := range routes {
		method, path, ok := strings.Cut(rt.Pattern, " ")
		if !ok || !strings.HasPrefix(path, "/staff/") {
			t.Errorf("staff route %q: want METHOD /staff/…", rt.Pattern)
			continue
		}
		path = routePath(path)
		for _, v := range visitors {
			req, _ := http.NewRequest(method, e.srv.URL+path, strings.NewReader(""))
			if method != http.MethodGet {
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			}
			resp, body := e.do(v.c, req)
			loc := resp.Header.Get("Location")
			allowed := v.role != "" && (len(rt.Roles) == 0 || slices.Contains(rt.Roles, v.role)) && (!v.noMFA || rt.BeforeTOTP)
			gateRefused := resp.StatusCode == http.StatusUnauthorized ||
				(resp.StatusCode == http.StatusForbidden && (strings.Contains(body, web.RefusedRole) || strings.Contains(body, web.RefusedTOTP))) ||
				(resp.StatusCode == http.StatusSeeOther && (loc == "/staff/login" || loc == "/staff/enrol"))
			what := rt.Pattern + " as " + v.name
			if resp.Header.Get("Cache-Control") != "no-store" {
				t.Errorf("%s: Cache-Control %q", what, resp.Header.Get("Cache-Control"))
			}
			switch {
			case !allowed && !gateRefused:
				t.Errorf("%s: %d %q, want a refusal", what, resp.StatusCode, loc)
			case !allowed && v.role == "" && method == http.MethodGet && loc != "/staff/login":
				t.Errorf("%s: %d %q, want a redirect to the login page", what, resp.StatusCode, loc)
			case !allowed && v.role == "" && method != http.MethodGet && resp.StatusCode != http.StatusUnauthorized:
				t.Errorf("%s: %d, want 401", what, resp.StatusCode)
			case !allowed && v.noMFA && method == http.MethodGet && loc != "/staff/enrol":
				t.Errorf("%s: %d %q, want a redirect to enrolment", what, resp.StatusCode, loc)
			case allowed && gateRefused:
				t.Errorf("%s: refused (%d %q)", what, resp.StatusCode, loc)
			case allowed && method != http.MethodGet && resp.StatusCode < 400:
				t.Errorf("%s without a CSRF token: %d, want a refusal", what, resp.StatusCode)
			}
			if !allowed && strings.Contains(body, "<table") {
				t.Errorf("%s: refusal carries page content", what)
			}
		}
	}
}
