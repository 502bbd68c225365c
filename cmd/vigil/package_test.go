package main

import (
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/vigil-hotline/vigil/internal/notify"
)

// TestPackageOpen: a package received by e-mail is read with the
// recipient's age identity; without it, the command says what is missing.
func TestPackageOpen(t *testing.T) {
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	m, err := notify.NewMailer(notify.Config{From: mail.Address{Name: "Hotline BE", Address: "notices@hotline-be.invalid"}, Hotline: "Hotline BE"})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	sha := strings.Repeat("ab", 32)
	pf, err := m.BuildPackage(notify.Manifest{ID: "case1-hotline-0", CaseRef: "BE-2026-000001", CreatedAt: at,
		Sender:    notify.Party{Name: "Hotline BE", Kind: "hotline"},
		Recipient: notify.Party{Name: "Hotline FR", Kind: "hotline", Country: "FR"},
		Items: []notify.Item{{URL: "https://files.example.fr/a", SeenAt: []time.Time{at}, Classification: "baseline",
			Hosting: &notify.Hosting{TracedAt: at, Host: "files.example.fr", Country: "FR", ASN: 64500, Addresses: []string{"192.0.2.1"}},
			Media:   []notify.Media{{SHA256: sha}}}}},
		notify.PackageOptions{Recipients: []string{id.Recipient().String()}, Lang: notify.Language("en")})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	file, idFile := filepath.Join(dir, pf.Name), filepath.Join(dir, "id.txt")
	if err := os.WriteFile(file, pf.Data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(idFile, []byte(id.String()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	vigilRun, _ := cliEnv(t, "sqlite")
	out, err := vigilRun("", "package", "open", file, "--identity", idFile)
	if err != nil || !strings.Contains(out, "BE-2026-000001") || !strings.Contains(out, sha) || !strings.Contains(out, "AS64500") {
		t.Errorf("open: %q %v", out, err)
	}
	if _, err := vigilRun("", "package", "open", file); err == nil || !strings.Contains(err.Error(), "--identity") {
		t.Errorf("without the identity: %v", err)
	}
	if out, err := vigilRun("", "package", "open", "--json", "--identity", idFile, file); err != nil || !strings.Contains(out, `"case_ref": "BE-2026-000001"`) {
		t.Errorf("json: %q %v", out, err)
	}
}
