package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"
)

// TestPartnerCommands: our key is made once and printed the same each
// time; a partner added with its key and ours at it is listed and removed;
// the API key it sends referrals with is bound to it, listed with it, and
// unbound.
func TestPartnerCommands(t *testing.T) {
	vigilRun, open := cliEnv(t, "sqlite")
	key, err := vigilRun("", "partner", "key")
	if err != nil || len(strings.TrimSpace(key)) != 44 {
		t.Fatalf("key: %q %v", key, err)
	}
	if again, _ := vigilRun("", "partner", "key"); again != key {
		t.Errorf("key changed: %q %q", key, again)
	}
	// Our age recipient, that partners encrypt media to: made once too.
	recipient, err := vigilRun("", "partner", "key", "--age")
	if _, perr := age.ParseX25519Recipient(strings.TrimSpace(recipient)); err != nil || perr != nil {
		t.Fatalf("age recipient: %q %v %v", recipient, err, perr)
	}
	if again, _ := vigilRun("", "partner", "key", "--age"); again != recipient {
		t.Errorf("age recipient changed: %q %q", recipient, again)
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
	// The key the partner sends us referrals with is bound to it.
	if _, err := vigilRun("", "apikey", "create", "from-meldpunt", "--scopes", "referral", "--partner", "meldpunt"); err != nil {
		t.Fatal(err)
	}
	if _, err := vigilRun("", "apikey", "create", "from-nobody", "--scopes", "referral", "--partner", "nobody"); err == nil {
		t.Error("a key bound to an unknown partner")
	}
	if out, err := vigilRun("", "apikey", "list"); err != nil || !strings.Contains(out, "PARTNER") || !strings.Contains(out, "meldpunt") {
		t.Errorf("apikey list: %q %v", out, err)
	}
	out, err := vigilRun("", "partner", "list")
	if err != nil || !strings.Contains(out, "meldpunt") || !strings.Contains(out, "NL,LU") || strings.Contains(out, "vgl_at_partner") ||
		!strings.Contains(out, "from-meldpunt") {
		t.Errorf("list: %q %v", out, err)
	}
	if _, err := vigilRun("", "apikey", "update", "from-meldpunt", "--partner", ""); err != nil {
		t.Fatal(err)
	}
	if out, _ := vigilRun("", "partner", "list"); strings.Contains(out, "from-meldpunt") {
		t.Errorf("unbound key still listed: %q", out)
	}
	p, err := open().FindPartner(context.Background(), "meldpunt")
	if err != nil || p.APIKey != "vgl_at_partner" || !p.AcceptBaseline || p.AcceptNational {
		t.Errorf("stored: %+v %v", p, err)
	}
	if _, err := vigilRun("", "partner", "remove", "meldpunt"); err != nil {
		t.Fatal(err)
	}
}
