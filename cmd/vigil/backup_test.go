package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBackupRestore: a backup of a data folder is itself a working data
// folder: the accounts, banks and an intact audit log are there.
func TestBackupRestore(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	vars := map[string]string{"VIGIL_DATA": data}
	seedBackupSource(t, vars, dir, "admin", "A")
	// The media key, made by the workers; here by hand.
	if err := os.MkdirAll(filepath.Join(data, "keys"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(data, "keys", "media.key"), []byte("key"), 0o600); err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(dir, "backup")
	if out := runOK(t, vars, "", "backup", target); !strings.Contains(out, target) {
		t.Errorf("backup: %s", out)
	}
	if _, _, code := runIn(t, vars, "", "backup", target); code == 0 {
		t.Error("a backup over an existing folder")
	}
	restored := map[string]string{"VIGIL_DATA": target}
	if out := runOK(t, restored, "", "user", "list"); !strings.Contains(out, "root") {
		t.Errorf("restored accounts:\n%s", out)
	}
	if out := runOK(t, restored, "", "bank", "list"); !strings.Contains(out, "iwf") {
		t.Errorf("restored banks:\n%s", out)
	}
	if out := runOK(t, restored, "", "audit", "verify"); !strings.Contains(out, "intact") {
		t.Errorf("restored audit log:\n%s", out)
	}
	if b, err := os.ReadFile(filepath.Join(target, "keys", "media.key")); err != nil || string(b) != "key" {
		t.Errorf("media key not in the backup: %q %v", b, err)
	}
}

// runOK runs vigil in-process with vars and stdin and returns its output,
// failing the test on a non-zero status.
func runOK(t *testing.T, vars map[string]string, stdin string, args ...string) string {
	t.Helper()
	out, stderr, code := runIn(t, vars, stdin, args...)
	if code != 0 {
		t.Fatalf("vigil %v: status %d\n%s", args, code, stderr)
	}
	return out
}

// seedBackupSource gives a store what a backup must keep: a schema, an
// account with roles, and a bank with one entry of the category imported.
func seedBackupSource(t *testing.T, vars map[string]string, dir, roles, category string) {
	t.Helper()
	runOK(t, vars, "", "migrate")
	runOK(t, vars, "a long admin password\n", "user", "add", "--role", roles, "root")
	runOK(t, vars, "", "bank", "create", "iwf", "--source", "iwf")
	list := filepath.Join(dir, "list.csv")
	if err := os.WriteFile(list, []byte("hash,type,category\n"+strings.Repeat("1", 32)+",md5,"+category+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	runOK(t, vars, "", "bank", "import", "iwf", list)
}
