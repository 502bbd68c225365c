package main

import (
	"strconv"
	"strings"
	"testing"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/storetest"
)

// TestPurgeAndHoldCommands: vigil hold sets, lists and lifts a legal hold,
// audited; vigil purge --dry-run shows the policy and removes nothing; a
// bad retention setting is refused naming it.
func TestPurgeAndHoldCommands(t *testing.T) {
	for _, kind := range storetest.Kinds {
		t.Run(kind, func(t *testing.T) {
			vigilRun, open, _ := auditCLI(t, kind)
			if _, err := vigilRun("", "migrate"); err != nil {
				t.Fatal(err)
			}
			db := open()
			urlID, _ := storetest.SeedCase(t, db, "https://hold.example/", nil)
			id := strconv.FormatInt(urlID, 10)
			if _, err := vigilRun("", "hold", "set", id); err == nil {
				t.Error("a hold without a reason was set")
			}
			out, err := vigilRun("", "hold", "set", id, "--reason", "police request 77")
			if err != nil || !strings.Contains(out, "on legal hold") {
				t.Fatalf("hold set: %q %v", out, err)
			}
			out, err = vigilRun("", "hold", "list")
			if err != nil || !regexpLine(out, id+`\s+\S+ \S+\s+vigil hold\s+police request 77`) {
				t.Errorf("hold list:\n%s %v", out, err)
			}
			out, err = vigilRun("", "purge", "--dry-run")
			if err != nil || !regexpLine(out, `contacts\s+90 days\s+0`) || !strings.Contains(out, "WOULD GO") {
				t.Errorf("purge --dry-run:\n%s %v", out, err)
			}
			if out, err = vigilRun("", "purge"); err != nil || !regexpLine(out, `reports\s+365 days\s+0`) {
				t.Errorf("purge:\n%s %v", out, err)
			}
			if _, err := vigilRun("", "hold", "lift", id); err != nil {
				t.Fatal(err)
			}
			if _, err := vigilRun("", "hold", "lift", id); err == nil || !strings.Contains(err.Error(), "not on legal hold") {
				t.Errorf("lift twice: %v", err)
			}
			entries, err := db.ListAudit(t.Context(), vigil.AuditFilter{Object: "case:" + id})
			if err != nil || len(entries) != 2 || entries[0].Action != "case.hold_lift" || entries[1].Action != "case.hold" {
				t.Errorf("audit: %v %v", entries, err)
			}
		})
	}
}
