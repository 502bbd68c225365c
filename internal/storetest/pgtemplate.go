package storetest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vigil-hotline/vigil/internal/postgres"
)

// Migrating a PostgreSQL store (Vigil's migrations, then River's) costs
// seconds on a loaded machine, and the tests open hundreds of stores. So a
// database is migrated once into a template, named after a digest of the
// migrations, shared by every test binary (and every worktree) whose
// migrations are the same; each test then gets a copy of it (CREATE
// DATABASE … TEMPLATE, a file copy) that it drops when it ends.

// pgTemplate is the name of the migrated template database, made on first
// use in a test binary, and a spare copy of it made ahead of the next test
// (a test helper's memo, not state of the product).
var pgTemplate struct {
	once    sync.Once
	name    string
	err     error
	spare   chan string // at most one database, created in the background
	filling atomic.Bool // a spare is being created
}

// MigratedPostgresURL creates a fresh database on the test server, already
// migrated, and returns its URL (no search_path: its tables are in public),
// skipping the test when no server is set. The database is dropped when the
// test ends.
//
// Creating a copy takes about half a second and dropping one a second or
// more (PostgreSQL checkpoints on DROP DATABASE), so neither is left in a
// test's path: the next copy is made while a test runs, and a test's copy is
// dropped in the background. What a test binary leaves when it exits (its
// spare, a drop it had no time to send) is swept by a later binary: the
// databases are named with their creation time.
func MigratedPostgresURL(t testing.TB) string {
	t.Helper()
	base := os.Getenv(PostgresEnv)
	if base == "" {
		t.Skipf("PostgreSQL tests need %s", PostgresEnv)
	}
	pgTemplate.once.Do(func() {
		pgTemplate.name, pgTemplate.err = migratedPostgresTemplate(base)
		pgTemplate.spare = make(chan string, 1)
		if pgTemplate.err == nil {
			go sweepTestDatabases(base)
		}
	})
	if pgTemplate.err != nil {
		t.Fatalf("storetest: migrated template database: %v", pgTemplate.err)
	}
	var name string
	select {
	case name = <-pgTemplate.spare:
		if time.Since(createdAt(name)) > spareMaxAge {
			// Old enough for another binary's sweep to be near: not used.
			go func(old string) { _ = adminExec(base, "DROP DATABASE IF EXISTS "+old) }(name) // swept later if lost
			name = ""
		}
	default:
	}
	if name == "" {
		var err error
		if name, err = copyTemplate(base, pgTemplate.name); err != nil {
			t.Fatalf("storetest: %v", err)
		}
	}
	if pgTemplate.filling.CompareAndSwap(false, true) {
		go func() {
			defer pgTemplate.filling.Store(false)
			// The next test's copy; if one is already waiting, this is dropped.
			if next, err := copyTemplate(base, pgTemplate.name); err == nil {
				select {
				case pgTemplate.spare <- next:
				default:
					_ = adminExec(base, "DROP DATABASE IF EXISTS "+next) // a spare not needed
				}
			}
		}()
	}
	t.Cleanup(func() {
		// FORCE: a child process killed by a test may leave a session.
		go func() { _ = adminExec(base, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)") }() // swept later if lost
	})
	u, err := databaseURL(base, name)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// A test database is swept (dropped by another binary) once older than
// sweepAfter and without sessions: a binary that old has passed go test's
// default timeout of ten minutes, and a database in use has its pool's
// connections (the drop, without FORCE, fails on them). A spare older than
// spareMaxAge is not handed out, so that none is swept under a test.
const (
	sweepAfter  = 10 * time.Minute
	spareMaxAge = 3 * time.Minute
)

// createdAt is when a test database was created, from its name (the zero
// time for a name not made by copyTemplate).
func createdAt(name string) time.Time {
	created, _, _ := strings.Cut(strings.TrimPrefix(name, testDatabasePrefix), "_")
	sec, err := strconv.ParseInt(created, 10, 64)
	if err != nil {
		return time.Time{}
	}
	return time.Unix(sec, 0)
}

// testDatabasePrefix starts the name of every test database copied from
// the template; the Unix time of its creation follows.
const testDatabasePrefix = "vigil_t_"

// copyTemplate creates a database copied from template and returns its name.
func copyTemplate(base, template string) (string, error) {
	name := fmt.Sprintf("%s%d_%s", testDatabasePrefix, time.Now().Unix(), randomName())
	if err := adminExec(base, "CREATE DATABASE "+name+" TEMPLATE "+template); err != nil {
		return "", err
	}
	return name, nil
}

// sweepTestDatabases drops test databases that their binaries left behind
// (a spare, a drop not sent before exit): older than sweepAfter and without
// sessions.
func sweepTestDatabases(base string) {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		return
	}
	defer func() { _ = conn.Close(ctx) }() // best effort: a later binary sweeps again
	rows, err := conn.Query(ctx, `SELECT datname FROM pg_database WHERE starts_with(datname, $1)`, testDatabasePrefix)
	if err != nil {
		return
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return
	}
	// In random order: binaries sweeping at once then drop different ones.
	mrand.Shuffle(len(names), func(i, j int) { names[i], names[j] = names[j], names[i] })
	for _, n := range names {
		if c := createdAt(n); !c.IsZero() && time.Since(c) > sweepAfter {
			// Without FORCE: a database with a session is in use.
			_, _ = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{n}.Sanitize())
		}
	}
}

// migratedPostgresTemplate returns the name of the template database for
// this build's migrations, creating and migrating it if no test binary has
// yet. An advisory lock (server-wide for the base database) keeps two test
// binaries from building it at once; it is built under a temporary name and
// renamed when complete, so a binary killed half way leaves no half-migrated
// template behind.
func migratedPostgresTemplate(base string) (string, error) {
	digest, err := migrationsDigest()
	if err != nil {
		return "", err
	}
	name := "vigil_tpl_" + digest
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		return "", fmt.Errorf("connect to %s: %w", PostgresEnv, err)
	}
	defer func() { _ = conn.Close(ctx) }() // closing releases the lock too
	const lockKey = 0x76746d70             // "vtmp"
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, lockKey); err != nil {
		return "", err
	}
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		return "", err
	}
	if exists {
		return name, nil
	}
	building := "vigil_tplbuild_" + randomName()
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+building); err != nil {
		return "", err
	}
	u, err := databaseURL(base, building)
	if err == nil {
		err = migrateDatabase(ctx, u)
	}
	if err == nil {
		_, err = conn.Exec(ctx, "ALTER DATABASE "+building+" RENAME TO "+name)
	}
	if err != nil {
		_, _ = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+building+" WITH (FORCE)") // the error above says why
		return "", err
	}
	return name, nil
}

func migrateDatabase(ctx context.Context, u string) error {
	drv, err := postgres.Open(ctx, postgres.Config{URL: u, MaxConns: 2})
	if err != nil {
		return err
	}
	return errors.Join(drv.Migrate(ctx), drv.Close())
}

// migrationsDigest identifies the schema a migrated database has: the
// PostgreSQL migrations' files (read from the source tree beside this
// file) and the version of River, whose migrations follow Vigil's.
func migrationsDigest() (string, error) {
	_, self, _, ok := runtime.Caller(0)
	if !ok {
		return "", errors.New("storetest: cannot locate the source tree")
	}
	dir := filepath.Join(filepath.Dir(self), "..", "postgres", "migrations")
	files, err := filepath.Glob(filepath.Join(dir, "*.sql"))
	if err != nil || len(files) == 0 {
		return "", fmt.Errorf("storetest: no migrations in %s (%v)", dir, err)
	}
	sort.Strings(files)
	h := sha256.New()
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%s %d\n", filepath.Base(f), len(b))
		h.Write(b)
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if strings.HasPrefix(d.Path, "github.com/riverqueue/river") {
				fmt.Fprintf(h, "%s %s\n", d.Path, d.Version)
			}
		}
	}
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}

// adminExec runs one statement on the base database.
func adminExec(base, sql string) error {
	ctx := context.Background()
	c, err := pgx.Connect(ctx, base)
	if err != nil {
		return fmt.Errorf("connect to %s: %w", PostgresEnv, err)
	}
	_, err = c.Exec(ctx, sql)
	return errors.Join(err, c.Close(ctx))
}

// databaseURL is base with its database replaced by name.
func databaseURL(base, name string) (string, error) {
	pu, err := url.Parse(base)
	if err != nil {
		return "", err
	}
	pu.Path = "/" + name
	return pu.String(), nil
}

func randomName() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
