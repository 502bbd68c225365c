package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPartnerCommands: our key is made once and printed the same each
// time; a partner added with its key and ours at it is listed and removed.
func TestPartnerCommands(t *testing.T) {
	vigilRun, open := cliEnv(t, "sqlite")
	key, err := vigilRun("", "partner", "key")
	if err != nil || len(strings.TrimSpace(key)) != 44 {
		t.Fatalf("key: %q %v", key, err)
	}
	if again, _ := vigilRun("", "partner", "key"); again != key {
		t.Errorf("key changed: %q %q", key, again)
	}
	f := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(f, []byte("vgl_at_partner\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := vigilRun("", "partner", "add", "meldpunt", "--countries", "NL,LU", "--url", "https://vigil.example.nl",
		"--public-key", strings.TrimSpace(key), "--api-key-file", f); err != nil {
		t.Fatal(err)
	}
	if _, err := vigilRun("", "partner", "add", "x", "--countries", "NLD", "--public-key", strings.TrimSpace(key)); err == nil {
		t.Error("bad country accepted")
	}
	out, err := vigilRun("", "partner", "list")
	if err != nil || !strings.Contains(out, "meldpunt") || !strings.Contains(out, "NL,LU") || strings.Contains(out, "vgl_at_partner") {
		t.Errorf("list: %q %v", out, err)
	}
	p, err := open().FindPartner(context.Background(), "meldpunt")
	if err != nil || p.APIKey != "vgl_at_partner" || !p.AcceptBaseline || p.AcceptNational {
		t.Errorf("stored: %+v %v", p, err)
	}
	if _, err := vigilRun("", "partner", "remove", "meldpunt"); err != nil {
		t.Fatal(err)
	}
}
