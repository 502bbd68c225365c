package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/vigil-hotline/vigil/internal/auditseal"
	"github.com/vigil-hotline/vigil/internal/blob"
	"github.com/vigil-hotline/vigil/internal/store"
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

// TestAuditVerifyCheckpoints: the red-team findings of issue 12, item 11.
// Cutting the newest entries and moving the head back, or rewriting an
// entry and recomputing every later hash, left a chain that verified; with
// the chain keyed and its head checkpointed outside the database, `vigil
// audit verify` exits 1 and names the problem.
func TestAuditVerifyCheckpoints(t *testing.T) {
	for _, kind := range storetest.Kinds {
		t.Run(kind, func(t *testing.T) {
			for _, tc := range []struct {
				name   string
				keyed  bool
				tamper func(t *testing.T, db *store.DB, data string)
				want   string
			}{
				{"truncated keyed", true, func(t *testing.T, db *store.DB, _ string) { storetest.TruncateAudit(t, db, 5) },
					"the newest entries were removed"},
				{"truncated unkeyed", false, func(t *testing.T, db *store.DB, _ string) { storetest.TruncateAudit(t, db, 5) },
					"the newest entries were removed"},
				{"rewritten keyed", true, func(t *testing.T, db *store.DB, _ string) { storetest.RewriteAudit(t, db, 3, `{"i":1}`) },
					"broken at entry 3: it is not keyed"},
				{"rewritten unkeyed", false, func(t *testing.T, db *store.DB, _ string) { storetest.RewriteAudit(t, db, 3, `{"i":1}`) },
					"differs from the one checkpoint file line 1 recorded"},
				{"checkpoint forged", true, func(t *testing.T, _ *store.DB, data string) {
					p := filepath.Join(data, auditseal.FileName)
					b, err := os.ReadFile(p)
					if err != nil {
						t.Fatal(err)
					}
					b = []byte(strings.Replace(string(b), `"id":9`, `"id":4`, 1))
					if err := os.WriteFile(p, b, 0o600); err != nil {
						t.Fatal(err)
					}
				}, "checkpoint file line 1 does not carry this deployment's signature"},
			} {
				t.Run(tc.name, func(t *testing.T) {
					vigilRun, open, data := auditCLI(t, kind)
					if _, err := vigilRun("", "migrate"); err != nil { // makes the database and the key
						t.Fatal(err)
					}
					db := open()
					if tc.keyed {
						key, err := blob.LoadOrCreateKey(filepath.Join(data, "keys", "audit.key"))
						if err != nil {
							t.Fatal(err)
						}
						if err := db.SetAuditKey(key); err != nil {
							t.Fatal(err)
						}
						storetest.AppendAuditEntries(t, db, 8) // and the switch entry
					} else {
						storetest.AppendAuditEntries(t, db, 9)
					}
					out, err := vigilRun("", "audit", "checkpoint")
					if err != nil || !strings.Contains(out, "audit checkpoint: entry 9, hash ") {
						t.Fatalf("checkpoint: %q %v", out, err)
					}
					out, err = vigilRun("", "audit", "verify")
					if err != nil || !strings.Contains(out, "intact: 9 entries") || !strings.Contains(out, "checked against 1 checkpoints") ||
						tc.keyed != strings.Contains(out, "keyed from entry 1 with key") {
						t.Fatalf("intact log: %q %v", out, err)
					}
					tc.tamper(t, db, data)
					_, err = vigilRun("", "audit", "verify")
					if exitCode(err) != 1 || !strings.Contains(err.Error(), tc.want) {
						t.Errorf("after tampering: %v", err)
					}
				})
			}
		})
	}
}

// auditCLI is cliEnv that also says where the data folder is.
func auditCLI(t *testing.T, kind string) (vigilRun func(string, ...string) (string, error), open func() *store.DB, data string) {
	t.Helper()
	data, dbURL := storeURLs(t, kind)
	vigilRun = func(stdin string, args ...string) (string, error) {
		var out, errb bytes.Buffer
		env := &Env{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errb,
			Getenv: func(k string) string {
				return map[string]string{"VIGIL_DATA": data, "VIGIL_DATABASE_URL": dbURL}[k]
			}}
		err := run(context.Background(), env, args)
		return out.String(), err
	}
	open = func() *store.DB {
		if kind == "postgres" {
			return storetest.OpenPostgres(t, dbURL)
		}
		return storetest.OpenSQLite(t, filepath.Join(data, "vigil.db"))
	}
	return vigilRun, open, data
}
