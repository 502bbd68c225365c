package web_test

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/storetest"
	"github.com/vigil-hotline/vigil/internal/web"
)

// TestPartnersPage: an administrator adds a partner hotline with its
// trust settings, sees it listed (never our API key at it), and removes
// it; each action is audited; a bad key is refused with its reason.
func TestPartnersPage(t *testing.T) {
	db := storetest.Open(t, "sqlite")
	e := newEnv(t, db, func(c *web.Config) { c.Federation.PublicKey = "OUR-PUBLIC-KEY" })
	e.addUser("admin", vigil.RoleAdmin, "a long admin password")
	admin := e.login("admin", "a long admin password")
	_, body := e.get(admin, "/staff/partners")
	if !strings.Contains(body, "OUR-PUBLIC-KEY") || !strings.Contains(body, `id="partner-add"`) {
		t.Fatalf("page: %s", body)
	}
	tok := e.formToken(admin, "/staff/partners")
	pub, _, _ := ed25519.GenerateKey(nil)
	form := url.Values{"csrf": {tok}, "name": {"meldpunt"}, "countries": {"nl, lu"}, "url": {"https://vigil.example.nl"},
		"public_key": {base64.StdEncoding.EncodeToString(pub)}, "api_key": {"vgl_their_key"}, "accept_baseline": {"on"}}
	bad := url.Values{}
	for k, v := range form {
		bad[k] = v
	}
	bad.Set("public_key", "not a key")
	if resp, body := e.postForm(admin, "/staff/partners", bad); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "Ed25519") {
		t.Errorf("bad key: %d", resp.StatusCode)
	}
	if resp, _ := e.postForm(admin, "/staff/partners", form); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("add: %d", resp.StatusCode)
	}
	p, err := db.FindPartner(context.Background(), "meldpunt")
	if err != nil || !p.AcceptBaseline || p.AcceptNational || p.SendMedia || p.APIKey != "vgl_their_key" || len(p.Countries) != 2 {
		t.Fatalf("stored: %+v %v", p, err)
	}
	_, body = e.get(admin, "/staff/partners")
	if !strings.Contains(body, `id="partner-meldpunt"`) || strings.Contains(body, "vgl_their_key") {
		t.Errorf("list shows the partner, never our key at it: %s", body)
	}
	if resp, _ := e.postForm(admin, "/staff/partners/meldpunt/remove", url.Values{"csrf": {tok}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("remove: %d", resp.StatusCode)
	}
	if _, err := db.FindPartner(context.Background(), "meldpunt"); !vigil.IsNotFound(err) {
		t.Errorf("after removal: %v", err)
	}
	entries, err := db.ListAudit(context.Background(), vigil.AuditFilter{})
	var n int
	for _, en := range entries {
		if strings.HasPrefix(en.Action, "partner.") {
			n++
		}
	}
	if err != nil || n != 2 {
		t.Errorf("audit entries: %d %v", n, err)
	}
}
