package sqlite

import (
	"io/fs"
	"strconv"
	"strings"
)

// LatestMigration is the newest schema migration this build carries, for
// the readiness check: a database behind it is not ready for this binary.
func LatestMigration() int {
	names, _ := fs.Glob(migrations, "migrations/*.sql")
	latest := 0
	for _, n := range names {
		num, _, _ := strings.Cut(strings.TrimPrefix(n, "migrations/"), "_")
		if v, err := strconv.Atoi(num); err == nil && v > latest {
			latest = v
		}
	}
	return latest
}
