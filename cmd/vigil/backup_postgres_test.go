package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/vigil-hotline/vigil/internal/storetest"
)

// TestBackupRestorePostgres: `vigil backup` on PostgreSQL dumps the schema
// with pg_dump; the README's restore (pg_restore into a new database) gives
// a working Vigil: its accounts, banks and an intact audit log.
func TestBackupRestorePostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("runs pg_dump and pg_restore")
	}
	t.Parallel()                      // mostly waiting on processes and PostgreSQL
	dbURL := storetest.PostgresURL(t) // skips without VIGIL_TEST_POSTGRES
	pgRestore, err := exec.LookPath("pg_restore")
	if err != nil {
		t.Skip("pg_restore is not installed")
	}
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	vars := map[string]string{"VIGIL_DATA": data, "VIGIL_DATABASE_URL": dbURL}
	seedBackupSource(t, vars, dir, "admin,analyst", "B")

	target := filepath.Join(dir, "backup")
	out := runOK(t, vars, "", "backup", target)
	if !strings.Contains(out, "pg_restore") || !strings.Contains(out, pgDumpFile) {
		t.Errorf("backup says: %s", out)
	}
	if _, _, code := runIn(t, vars, "", "backup", target); code == 0 {
		t.Error("a backup over an existing folder")
	}
	for _, f := range []string{pgDumpFile, "keys/audit.key"} {
		if _, err := os.Stat(filepath.Join(target, f)); err != nil {
			t.Errorf("backup lacks %s: %v", f, err)
		}
	}

	// Restore as the README says, into a database of its own.
	newDB := "vigil_restore_" + randomHex(t)
	base := os.Getenv(storetest.PostgresEnv)
	exec1 := func(sql string) {
		t.Helper()
		ctx := context.Background()
		c, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = c.Close(ctx) }()
		if _, err := c.Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
	}
	exec1("CREATE DATABASE " + newDB)
	t.Cleanup(func() { exec1("DROP DATABASE " + newDB + " WITH (FORCE)") })
	restored, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	restored.Path = "/" + newDB
	libpq, _, err := libpqURL(restored.String())
	if err != nil {
		t.Fatal(err)
	}
	if b, err := exec.Command(pgRestore, "--no-owner", "--exit-on-error", "--dbname="+libpq, filepath.Join(target, pgDumpFile)).CombinedOutput(); err != nil {
		t.Fatalf("pg_restore: %v\n%s", err, b)
	}
	// The restored system: the backup's keys as its data folder.
	rvars := map[string]string{"VIGIL_DATA": target, "VIGIL_DATABASE_URL": restored.String()}
	if out := runOK(t, rvars, "", "user", "list"); !strings.Contains(out, "root") || !strings.Contains(out, "admin,analyst") {
		t.Errorf("restored accounts:\n%s", out)
	}
	if out := runOK(t, rvars, "", "bank", "list"); !strings.Contains(out, "iwf") {
		t.Errorf("restored banks:\n%s", out)
	}
	if out := runOK(t, rvars, "", "audit", "verify"); !strings.Contains(out, "intact") {
		t.Errorf("restored audit log:\n%s", out)
	}
}

func randomHex(t *testing.T) string {
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b[:])
}

func TestLibpqURL(t *testing.T) {
	conn, schema, err := libpqURL("postgres://u:p@db:5432/vigil?sslmode=require&search_path=hotline,public&pool_max_conns=20")
	if err != nil || schema != "hotline" || conn != "postgres://u:p@db:5432/vigil?sslmode=require" {
		t.Errorf("libpqURL: %q %q %v", conn, schema, err)
	}
	if _, _, err := libpqURL("host=db dbname=vigil"); err == nil {
		t.Error("a key=value string accepted")
	}
}
