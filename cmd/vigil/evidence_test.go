package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"filippo.io/age"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/blob"
	"github.com/vigil-hotline/vigil/internal/storetest"
)

// TestEvidenceCommands: vigil evidence export writes a signed package of a
// case, on the record; vigil evidence verify passes it (and decrypts its
// media with the recipient's identity), and exits 1 naming the problem
// once a byte of it is changed.
func TestEvidenceCommands(t *testing.T) {
	vigilRun, open, data := auditCLI(t, "sqlite")
	if _, err := vigilRun("", "migrate"); err != nil {
		t.Fatal(err)
	}
	db := open()
	filler := []byte("generated benign filler for the evidence test")
	sum := sha256.Sum256(filler)
	urlID, _ := storetest.SeedCase(t, db, "https://police.example/page", []storetest.SeedItem{{SHA256: hex.EncodeToString(sum[:]),
		MD5: strings.Repeat("b", 32), PDQ: strings.Repeat("e", 64), Quality: 90, BlobKey: "blobpolice1"}})
	key, err := blob.LoadOrCreateKey(filepath.Join(data, "keys", "media.key"))
	if err != nil {
		t.Fatal(err)
	}
	dir, err := blob.NewDir(filepath.Join(data, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	vault, err := blob.NewVault(dir, key)
	if err != nil {
		t.Fatal(err)
	}
	if err := vault.Put(context.Background(), "blobpolice1", filler); err != nil {
		t.Fatal(err)
	}
	id, _ := age.GenerateX25519Identity()
	idFile := filepath.Join(t.TempDir(), "police.key")
	os.WriteFile(idFile, []byte(id.String()+"\n"), 0o600)
	out := filepath.Join(t.TempDir(), "case.tar")
	caseArg := strconv.FormatInt(urlID, 10)
	got, err := vigilRun("", "evidence", "export", caseArg, "--out", out, "--recipient", id.Recipient().String(), "--by", "sam")
	if err != nil || !strings.Contains(got, "evidence package of case "+caseArg) {
		t.Fatalf("export: %q %v", got, err)
	}
	got, err = vigilRun("", "evidence", "verify", out, "--identity", idFile)
	if err != nil || !strings.Contains(got, "evidence package intact: case "+caseArg) || !strings.Contains(got, "1 media decrypted") {
		t.Fatalf("verify: %q %v", got, err)
	}
	pub, err := vigilRun("", "evidence", "key")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := vigilRun("", "evidence", "verify", out, "--public-key", strings.TrimSpace(pub)); err != nil {
		t.Errorf("verify with the public key: %v", err)
	}
	if _, err := vigilRun("", "evidence", "export", caseArg, "--out", out, "--recipient", id.Recipient().String()); err == nil {
		t.Error("an existing package was overwritten")
	}
	b, _ := os.ReadFile(out)
	b = bytes.Replace(b, []byte("police.example"), []byte("policy.example"), 1)
	os.WriteFile(out, b, 0o600)
	_, err = vigilRun("", "evidence", "verify", out)
	if exitCode(err) != 1 || !strings.Contains(err.Error(), "does not verify") {
		t.Errorf("tampered package: %v", err)
	}
	es, err := db.ListAudit(context.Background(), vigil.AuditFilter{Action: "evidence.export"})
	if err != nil || len(es) != 1 || es[0].Actor != "sam" || !strings.Contains(es[0].Detail, `"package_sha256"`) {
		t.Errorf("audit: %+v %v", es, err)
	}
}
