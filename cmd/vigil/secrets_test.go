package main

import (
	"bytes"
	"context"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/blob"
	"github.com/vigil-hotline/vigil/internal/store"
)

const (
	plainTOTP    = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
	plainContact = "reporter.contact.address@example.org"
)

// leaks returns the files under dir that hold a plain secret, and those
// that others may read.
func leaks(t *testing.T, dir string) (plain, open []string) {
	t.Helper()
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		if fi.Mode().Perm()&0o077 != 0 {
			open = append(open, p)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if bytes.Contains(b, []byte(plainTOTP)) || bytes.Contains(b, []byte(plainContact)) {
			plain = append(plain, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return plain, open
}

// TestSecretsAtRest: no plain TOTP secret or contact address in the
// database, its WAL or any file of the data folder, and no file readable
// by others, even in a folder the operator made 0755 (issue 12 item 7).
func TestSecretsAtRest(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "data")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	restrictUmask()
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	db, err := openStore(ctx, &config{DataDir: dir, create: true}, logger)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "open to other users") {
		t.Errorf("no warning about the open data folder: %s", logs.String())
	}
	u := &vigil.User{Name: "admin", Role: vigil.RoleAdmin, PasswordHash: "h", TOTPSecret: plainTOTP}
	if err := db.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	if err := db.SetTOTPPending(ctx, u.ID, plainTOTP); err != nil {
		t.Fatal(err)
	}
	rep, err := vigil.NewReport(vigil.ReportInput{URLs: []string{"https://example.org/a"}, Contact: plainContact}, vigil.SourceForm, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := db.CreateReport(ctx, rep); err != nil {
		t.Fatal(err)
	}
	// Read back in plain.
	if got, err := db.FindUserByName(ctx, "admin"); err != nil || got.TOTPSecret != plainTOTP || got.TOTPPending != plainTOTP {
		t.Fatalf("read back: %+v %v", got, err)
	}
	if err := db.ConfirmTOTP(ctx, u.ID, plainTOTP, 1); err != nil {
		t.Fatalf("confirm a sealed pending secret: %v", err)
	}
	if got, err := db.FindReportByTrackingCode(ctx, rep.TrackingCode); err != nil || got.Contact != plainContact {
		t.Fatalf("report read back: %v %v", got, err)
	}
	// While open (the WAL holds the writes) and after closing.
	plain, open := leaks(t, dir)
	if len(plain) > 0 || len(open) > 0 {
		t.Errorf("while open: plain secrets in %v; readable by others: %v", plain, open)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	plain, open = leaks(t, dir)
	if len(plain) > 0 || len(open) > 0 {
		t.Errorf("after closing: plain secrets in %v; readable by others: %v", plain, open)
	}
}

// TestSecretsSealedOnUpgrade: rows an older version wrote in plain text are
// sealed at the first start, and still read back.
func TestSecretsSealedOnUpgrade(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	c := &config{DataDir: dir, create: true}
	db, err := openStore(ctx, c, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	// As an older version wrote them: plain, and files of mode 0644.
	rep, err := vigil.NewReport(vigil.ReportInput{URLs: []string{"https://example.org/old"}}, vigil.SourceForm, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := db.CreateReport(ctx, rep); err != nil {
		t.Fatal(err)
	}
	err = db.Driver().WithTx(ctx, func(tx store.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO users (name, role, password_hash, created_at, disabled, totp_secret)
			VALUES ('old', 'admin', 'h', $1, false, $2)`, time.Now(), plainTOTP); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `UPDATE reports SET contact = $2 WHERE id = $1`, rep.ID, plainContact)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(dir, "vigil.db"), 0o644); err != nil {
		t.Fatal(err)
	}
	db, err = openStore(ctx, c, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if u, err := db.FindUserByName(ctx, "old"); err != nil || u.TOTPSecret != plainTOTP {
		t.Errorf("old user after sealing: %+v %v", u, err)
	}
	if r, err := db.FindReportByTrackingCode(ctx, rep.TrackingCode); err != nil || r.Contact != plainContact {
		t.Errorf("old report after sealing: %v %v", r, err)
	}
	plain, open := leaks(t, dir)
	if len(plain) > 0 || len(open) > 0 {
		t.Errorf("after the upgrade: plain secrets in %v; readable by others: %v", plain, open)
	}
}

// dataKey makes a store opened by a test seal and open secrets with the
// data folder's key, as vigil's commands do.
func dataKey(t *testing.T, db *store.DB, data string) *store.DB {
	t.Helper()
	key, err := blob.LoadOrCreateKey(filepath.Join(data, "keys", "secrets.key"))
	if err != nil {
		t.Fatal(err)
	}
	if err := db.SetSecretsKey(key); err != nil {
		t.Fatal(err)
	}
	return db
}
