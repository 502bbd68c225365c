package main

import (
	"regexp"
	"strings"
	"testing"

	"github.com/vigil-hotline/vigil/internal/storetest"
)

func regexpLine(s, re string) bool { return regexp.MustCompile(`(?m)^` + re).MatchString(s) }

// TestAuditCommands: `vigil audit verify` passes on an intact log, and
// fails naming the row once one row is altered, removed or reordered in
// the database; `vigil audit list` reads and filters the log.
func TestAuditCommands(t *testing.T) {
	for _, kind := range storetest.Kinds {
		t.Run(kind, func(t *testing.T) {
			for _, tc := range []struct {
				name   string
				tamper []string
				want   string
			}{
				{"altered", []string{`UPDATE audit_log SET actor = 'someone-else' WHERE id = 2`}, "entry 2:"},
				{"removed", []string{`DELETE FROM audit_log WHERE id = 2`}, "entry 3:"},
				{"reordered", []string{`UPDATE audit_log SET id = 100 WHERE id = 2`, `UPDATE audit_log SET id = 2 WHERE id = 3`,
					`UPDATE audit_log SET id = 3 WHERE id = 100`}, "entry 2:"},
			} {
				t.Run(tc.name, func(t *testing.T) {
					vigilRun, open := cliEnv(t, kind)
					db := open()
					storetest.AppendAuditEntries(t, db, 4)
					out, err := vigilRun("", "audit", "verify")
					if err != nil || !strings.Contains(out, "intact: 4 entries; last entry 4, hash ") {
						t.Fatalf("intact log: %q %v", out, err)
					}
					out, err = vigilRun("", "audit", "list", "--object", "media:3")
					if err != nil || !regexpLine(out, `3\s+\S+ \S+\s+tester\s+media.view\s+media:3`) || strings.Contains(out, "media:2") {
						t.Errorf("list:\n%s %v", out, err)
					}
					storetest.DropAuditGuards(t, db)
					for _, q := range tc.tamper {
						storetest.Exec(t, db, q)
					}
					_, err = vigilRun("", "audit", "verify")
					if exitCode(err) != 1 || !strings.Contains(err.Error(), "broken at "+tc.want) {
						t.Errorf("after tampering: %v", err)
					}
				})
			}
		})
	}
}
