package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/storetest"
)

// login signs a user in with password and, when the sign-in asks for one,
// a code of testTOTPSecret (see addUser), and returns the signed-in client.
func (e *env) login(name, password string) *http.Client {
	e.t.Helper()
	c := e.browser()
	tok := e.formToken(c, "/staff/login")
	resp, body := e.postForm(c, "/staff/login", url.Values{"csrf": {tok}, "name": {name}, "password": {password}})
	if resp.StatusCode == http.StatusOK && strings.Contains(body, `action="/staff/login/code"`) {
		resp, _ = e.postForm(c, "/staff/login/code", url.Values{"csrf": {tok}, "code": {e.totpCode(name)}})
	}
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/staff/" {
		e.t.Fatalf("login %s: %d %s", name, resp.StatusCode, resp.Header.Get("Location"))
	}
	return c
}

func TestStaffAccess(t *testing.T) {
	e := newEnv(t, storetest.Open(t, "sqlite"))
	e.addUser("admin", vigil.RoleAdmin, "a long admin password")
	e.addUser("ana", vigil.RoleAnalyst, "a long analyst password")

	anon := e.browser()
	for _, path := range []string{"/staff/", "/staff/jobs", "/staff/anything"} {
		resp, body := e.get(anon, path)
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/staff/login" || strings.Contains(body, "<table") {
			t.Errorf("anonymous GET %s: %d %q", path, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	if resp, _ := e.postForm(anon, "/staff/logout", url.Values{}); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("anonymous POST /staff/logout: %d", resp.StatusCode)
	}

	tok := e.formToken(anon, "/staff/login")
	for _, pw := range []string{"wrong password!!", ""} {
		resp, body := e.postForm(anon, "/staff/login", url.Values{"csrf": {tok}, "name": {"admin"}, "password": {pw}})
		if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "Wrong name or password") {
			t.Errorf("wrong password: %d", resp.StatusCode)
		}
	}
	resp, _ := e.postForm(anon, "/staff/login", url.Values{"csrf": {tok}, "name": {"nobody"}, "password": {"whatever it is"}})
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("unknown user: %d", resp.StatusCode)
	}
	if resp, _ := e.postForm(anon, "/staff/login", url.Values{"name": {"admin"}, "password": {"a long admin password"}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("login without CSRF token: %d", resp.StatusCode)
	}

	admin := e.login("admin", "a long admin password")
	if resp, body := e.get(admin, "/staff/"); resp.StatusCode != 200 || !strings.Contains(body, "Signed in as <strong>admin</strong>") {
		t.Errorf("admin home: %d", resp.StatusCode)
	}
	if resp, _ := e.get(admin, "/staff/jobs"); resp.StatusCode != 200 {
		t.Errorf("admin jobs: %d", resp.StatusCode)
	}
	analyst := e.login("ana", "a long analyst password")
	if resp, _ := e.get(analyst, "/staff/jobs"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("analyst jobs: %d, want 403", resp.StatusCode)
	}
	// Logging out ends the session.
	tok = e.formToken(admin, "/staff/")
	if resp, _ := e.postForm(admin, "/staff/logout", url.Values{"csrf": {tok}}); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("logout: %d", resp.StatusCode)
	}
	if resp, _ := e.get(admin, "/staff/"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("after logout: %d", resp.StatusCode)
	}
}

func TestStaffJobsListsCrawlJobs(t *testing.T) {
	e := newEnv(t, storetest.Open(t, "sqlite"))
	e.addUser("sup", vigil.RoleSupervisor, "a long supervisor password")
	key := e.apiKey("p")
	if status, _ := e.api("POST", "/api/v1/reports", key, "application/json", `{"urls": ["https://jobs.example/x"]}`); status != 201 {
		t.Fatal(status)
	}
	c := e.login("sup", "a long supervisor password")
	_, body := e.get(c, "/staff/jobs?state=available")
	if !strings.Contains(body, "<td>crawl</td>") || !strings.Contains(body, "reported_url_id") {
		t.Errorf("pending crawl job not listed: %s", body)
	}
}
