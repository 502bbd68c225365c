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
	ok := func(vars map[string]string, stdin string, args ...string) string {
		t.Helper()
		out, stderr, code := runIn(t, vars, stdin, args...)
		if code != 0 {
			t.Fatalf("vigil %v: status %d\n%s", args, code, stderr)
		}
		return out
	}
	ok(vars, "", "migrate")
	ok(vars, "a long admin password\n", "user", "add", "--role", "admin", "root")
	ok(vars, "", "bank", "create", "iwf", "--source", "iwf")
	list := filepath.Join(dir, "list.csv")
	if err := os.WriteFile(list, []byte("hash,type,category\n"+strings.Repeat("1", 32)+",md5,A\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ok(vars, "", "bank", "import", "iwf", list)
	// The media key, made by the workers; here by hand.
	if err := os.MkdirAll(filepath.Join(data, "keys"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(data, "keys", "media.key"), []byte("key"), 0o600); err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(dir, "backup")
	if out := ok(vars, "", "backup", target); !strings.Contains(out, target) {
		t.Errorf("backup: %s", out)
	}
	if _, _, code := runIn(t, vars, "", "backup", target); code == 0 {
		t.Error("a backup over an existing folder")
	}
	restored := map[string]string{"VIGIL_DATA": target}
	if out := ok(restored, "", "user", "list"); !strings.Contains(out, "root") {
		t.Errorf("restored accounts:\n%s", out)
	}
	if out := ok(restored, "", "bank", "list"); !strings.Contains(out, "iwf") {
		t.Errorf("restored banks:\n%s", out)
	}
	if out := ok(restored, "", "audit", "verify"); !strings.Contains(out, "intact") {
		t.Errorf("restored audit log:\n%s", out)
	}
	if b, err := os.ReadFile(filepath.Join(target, "keys", "media.key")); err != nil || string(b) != "key" {
		t.Errorf("media key not in the backup: %q %v", b, err)
	}
}
