package store

import (
	"context"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

// Migrate applies, in order, each NNNN_name.sql file in migrations that the
// database has not seen, each in its own transaction, and records it in
// vigil_migrations. Both dialects number their files alike.
func Migrate(ctx context.Context, drv Driver, migrations fs.FS) error {
	err := drv.WithTx(ctx, func(tx Tx) error {
		_, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS vigil_migrations (
			version INTEGER PRIMARY KEY,
			name TEXT NOT NULL
		)`)
		return err
	})
	if err != nil {
		return fmt.Errorf("migrate: create vigil_migrations: %w", err)
	}
	names, err := fs.Glob(migrations, "*.sql")
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	sort.Strings(names)
	for _, name := range names {
		base := path.Base(name)
		version, ok := migrationVersion(base)
		if !ok {
			return fmt.Errorf("migrate: file %s is not named NNNN_name.sql", base)
		}
		body, err := fs.ReadFile(migrations, name)
		if err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		err = drv.WithTx(ctx, func(tx Tx) error {
			var n int
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM vigil_migrations WHERE version = $1`, version).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return nil
			}
			if _, err := tx.Exec(ctx, string(body)); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO vigil_migrations (version, name) VALUES ($1, $2)`, version, base)
			return err
		})
		if err != nil {
			return fmt.Errorf("migrate: %s: %w", base, err)
		}
	}
	return nil
}

// migrationVersion reads the version of a migration file named
// NNNN_name.sql.
func migrationVersion(base string) (int, bool) {
	num, _, ok := strings.Cut(base, "_")
	v, err := strconv.Atoi(num)
	return v, ok && err == nil
}

// LatestMigration is the newest version among the migrations, for the
// readiness check: a database behind it is not ready for this binary.
func LatestMigration(migrations fs.FS) int {
	names, _ := fs.Glob(migrations, "*.sql") // only a malformed pattern fails
	latest := 0
	for _, n := range names {
		if v, ok := migrationVersion(path.Base(n)); ok && v > latest {
			latest = v
		}
	}
	return latest
}
