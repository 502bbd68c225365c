// Package storetest holds the test suite that every store must pass, and
// helpers that open a fresh store of each kind for other packages' tests.
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/vigil-hotline/vigil/internal/postgres"
	"github.com/vigil-hotline/vigil/internal/sqlite"
	"github.com/vigil-hotline/vigil/internal/store"
)

// PostgresEnv names the variable holding the URL of a PostgreSQL server for
// tests; PostgreSQL tests skip when it is empty.
const PostgresEnv = "VIGIL_TEST_POSTGRES"

// Kinds lists the stores every suite runs against.
var Kinds = []string{"sqlite", "postgres"}

// Open returns a fresh, migrated store of the given kind, closed when the
// test ends. A postgres store lives in a database of its own, copied from a
// migrated template and dropped at the end, so tests may run in parallel.
func Open(t testing.TB, kind string) *store.DB {
	t.Helper()
	switch kind {
	case "sqlite":
		return OpenSQLite(t, filepath.Join(t.TempDir(), "vigil.db"))
	case "postgres":
		// A copy of the migrated template: migrating again would only
		// check, at a third of a second a store.
		drv, err := postgres.Open(context.Background(), postgres.Config{URL: MigratedPostgresURL(t), MaxConns: 8})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if err := drv.Close(); err != nil {
				t.Error(err)
			}
		})
		return withSecretsKey(t, store.New(drv))
	}
	t.Fatalf("unknown store kind %q", kind)
	return nil
}

// ForEach runs fn as a subtest against each kind of store.
func ForEach(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	for _, kind := range Kinds {
		t.Run(kind, func(t *testing.T) { fn(t, Open(t, kind)) })
	}
}

// ForEachParallel is ForEach with the kinds side by side, for tests that
// mostly wait (on River's scheduler, on timers) and share nothing between
// the kinds.
func ForEachParallel(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	for _, kind := range Kinds {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			fn(t, Open(t, kind))
		})
	}
}

// OpenSQLite opens and migrates a SQLite store at path. A new store
// starts as a copy of one migrated once per test binary: migrating takes
// a fifth of a second, and the tests open hundreds of stores.
func OpenSQLite(t testing.TB, path string) *store.DB {
	t.Helper()
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		if tmpl, err := migratedSQLite(); err == nil {
			if err := os.WriteFile(path, tmpl, 0o600); err != nil {
				t.Fatal(err)
			}
		} else {
			t.Logf("no migrated template, migrating afresh: %v", err)
		}
	}
	drv, err := sqlite.Open(sqlite.Config{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	return migrated(t, drv)
}

// migrated migrates an opened driver, closes it when the test ends, and
// returns its store with the test secrets key.
func migrated[D interface {
	store.Driver
	Migrate(context.Context) error
	Close() error
}](t testing.TB, drv D) *store.DB {
	t.Helper()
	t.Cleanup(func() {
		if err := drv.Close(); err != nil {
			t.Error(err)
		}
	})
	if err := drv.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return withSecretsKey(t, store.New(drv))
}

// sqliteTemplate is the file of a store migrated once per test binary
// (a test helper's memo, not state of the product).
var sqliteTemplate struct {
	once sync.Once
	data []byte
	err  error
}

// migratedSQLite returns the bytes of a freshly migrated SQLite database,
// closed (so its WAL is checkpointed into the file), made on first use.
func migratedSQLite() ([]byte, error) {
	sqliteTemplate.once.Do(func() {
		dir, err := os.MkdirTemp("", "vigil-storetest-")
		if err != nil {
			sqliteTemplate.err = err
			return
		}
		defer func() { _ = os.RemoveAll(dir) }() // a temporary copy
		p := filepath.Join(dir, "vigil.db")
		drv, err := sqlite.Open(sqlite.Config{Path: p})
		if err != nil {
			sqliteTemplate.err = err
			return
		}
		err = errors.Join(drv.Migrate(context.Background()), drv.Close())
		if err == nil {
			if fi, serr := os.Stat(p + "-wal"); serr == nil && fi.Size() > 0 {
				err = fmt.Errorf("storetest: %s-wal left with %d bytes after close", p, fi.Size())
			}
		}
		if err == nil {
			sqliteTemplate.data, err = os.ReadFile(p)
		}
		sqliteTemplate.err = err
	})
	return sqliteTemplate.data, sqliteTemplate.err
}

// OpenPostgres opens and migrates a PostgreSQL store at the given URL.
func OpenPostgres(t testing.TB, u string) *store.DB {
	t.Helper()
	drv, err := postgres.Open(context.Background(), postgres.Config{URL: u, MaxConns: 8})
	if err != nil {
		t.Fatal(err)
	}
	return migrated(t, drv)
}

// PostgresURL creates a fresh, empty schema on the test server and returns a
// URL whose search_path points at it, skipping the test when no server is
// set. Tests that want a migrated store use MigratedPostgresURL, far cheaper
// than migrating here.
func PostgresURL(t testing.TB) string {
	t.Helper()
	base := os.Getenv(PostgresEnv)
	if base == "" {
		t.Skipf("PostgreSQL tests need %s", PostgresEnv)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "vigil_test_" + hex.EncodeToString(b[:])
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("connect to %s: %v", PostgresEnv, err)
	}
	defer func() { _ = conn.Close(ctx) }() // used for one statement
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), base)
		if err == nil {
			_, _ = c.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
			_ = c.Close(context.Background()) // used for one statement
		}
	})
	pu, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := pu.Query()
	q.Set("search_path", schema)
	pu.RawQuery = q.Encode()
	return pu.String()
}

// testSecretsKey seals the test stores' secrets, as vigil's key file does.
var testSecretsKey = []byte("storetest secrets key, 32 bytes+")

func withSecretsKey(t testing.TB, db *store.DB) *store.DB {
	t.Helper()
	if err := db.SetSecretsKey(testSecretsKey); err != nil {
		t.Fatal(err)
	}
	return db
}
