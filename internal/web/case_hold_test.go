package web_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"filippo.io/age"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/evidence"
	"github.com/vigil-hotline/vigil/internal/simnet"
	"github.com/vigil-hotline/vigil/internal/storetest"
	"github.com/vigil-hotline/vigil/internal/web"
)

// TestCaseHoldAndEvidence: a supervisor puts a case on legal hold and
// lifts it from the case page, and exports its signed evidence package,
// which verifies and decrypts with the police's identity; each is on the
// audit record, and an analyst may do none of it.
func TestCaseHoldAndEvidence(t *testing.T) {
	db := storetest.Open(t, "sqlite")
	vault := newVault(t)
	key := evidence.SigningKey(bytes.Repeat([]byte{5}, 32))
	e := newEnv(t, db, withWorkbench(db, vault, func(c *web.WorkbenchConfig) {
		c.Holds, c.Evidence, c.EvidenceKey = db, db, key
	}))
	it, _ := benignItem(t, vault, 7, simnet.Variant{})
	caseID, _ := storetest.SeedCase(t, db, "https://hold.example/album", []storetest.SeedItem{it})
	e.addUser("sue", vigil.RoleSupervisor, "sue-password-1")
	e.addUser("ann", vigil.RoleAnalyst, "ann-password-1")
	sue, ann := e.login("sue", "sue-password-1"), e.login("ann", "ann-password-1")
	page := fmt.Sprintf("/staff/cases/%d", caseID)
	tok := e.formToken(sue, page)

	atok := e.formToken(ann, page)
	for _, p := range []string{"/hold", "/hold/lift", "/evidence"} {
		if resp, _ := e.postForm(ann, page+p, url.Values{"csrf": {atok}, "reason": {"x"}}); resp.StatusCode != http.StatusForbidden {
			t.Errorf("analyst on %s: %d", p, resp.StatusCode)
		}
	}
	if resp, _ := e.postForm(sue, page+"/hold", url.Values{"csrf": {tok}, "reason": {" "}}); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("hold without a reason: %d", resp.StatusCode)
	}
	if resp, _ := e.postForm(sue, page+"/hold", url.Values{"csrf": {tok}, "reason": {"police request 2026/12"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("hold: %d", resp.StatusCode)
	}
	if _, body := e.get(sue, page); !strings.Contains(body, "On legal hold") || !strings.Contains(body, "police request 2026/12") {
		t.Error("the case page does not show the hold")
	}
	if h, err := db.FindLegalHold(context.Background(), caseID); err != nil || h.SetByName != "sue" {
		t.Errorf("hold: %+v %v", h, err)
	}

	id, _ := age.GenerateX25519Identity()
	if resp, _ := e.postForm(sue, page+"/evidence", url.Values{"csrf": {tok}, "recipient": {"not a key"}}); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("bad recipient: %d", resp.StatusCode)
	}
	resp, body := e.postForm(sue, page+"/evidence", url.Values{"csrf": {tok}, "recipient": {id.Recipient().String()}})
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/x-tar" {
		t.Fatalf("evidence: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	rep, err := evidence.Verify(strings.NewReader(body), key.Public().(ed25519.PublicKey), id)
	if err != nil || rep.Decrypted != 1 || rep.Manifest.ExportedBy != "sue" || rep.Manifest.CaseID != caseID {
		t.Fatalf("package: %+v %v", rep, err)
	}

	if resp, _ := e.postForm(sue, page+"/hold/lift", url.Values{"csrf": {tok}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("lift: %d", resp.StatusCode)
	}
	if _, err := db.FindLegalHold(context.Background(), caseID); vigil.ErrorCode(err) != vigil.ENOTFOUND {
		t.Errorf("after lift: %v", err)
	}
	object := fmt.Sprintf("case:%d", caseID)
	for _, a := range []string{"case.hold", "case.hold_lift", "evidence.export"} {
		if !e.auditHas(a, object) {
			t.Errorf("%s is not on the audit log", a)
		}
	}
}
