package web_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/storetest"
	"github.com/vigil-hotline/vigil/internal/testrig"
)

// TestSeveralRoles: an account that is admin and analyst opens both
// roles' pages; the menu shows each person only the pages they may open;
// a refusal is a staff page that explains itself.
func TestSeveralRoles(t *testing.T) {
	db := storetest.Open(t, "sqlite")
	e := newEnv(t, db, withWorkbench(db, testrig.Vault(t)))
	e.addUser("pat", vigil.Role("admin,analyst"), "pat's long password")
	e.addUser("ana", vigil.RoleAnalyst, "ana's long password")
	pat := e.login("pat", "pat's long password")
	for _, p := range []string{"/staff/queue", "/staff/users", "/staff/jobs"} {
		if resp, _ := e.get(pat, p); resp.StatusCode != http.StatusOK {
			t.Errorf("admin and analyst on %s: %d", p, resp.StatusCode)
		}
	}
	_, body := e.get(pat, "/staff/")
	for _, link := range []string{`href="/staff/queue"`, `href="/staff/users"`, `href="/staff/jobs"`} {
		if !strings.Contains(body, link) {
			t.Errorf("pat's menu lacks %s", link)
		}
	}
	if !strings.Contains(body, `href="/staff/audit"`) {
		t.Error("pat's menu lacks the audit log, which admits admins")
	}
	ana := e.login("ana", "ana's long password")
	_, body = e.get(ana, "/staff/")
	for _, link := range []string{`href="/staff/users"`, `href="/staff/jobs"`, `href="/staff/takedowns"`, `href="/staff/audit"`} {
		if strings.Contains(body, link) {
			t.Errorf("the analyst's menu links to %s, which would refuse her", link)
		}
	}
	resp, body := e.get(ana, "/staff/users")
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, `id="forbidden"`) || !strings.Contains(body, `href="/staff/queue"`) ||
		!strings.Contains(body, "<strong>administrator</strong>") {
		t.Errorf("refusal: %d, want the staff layout with an explanation:\n%s", resp.StatusCode, body)
	}
}
