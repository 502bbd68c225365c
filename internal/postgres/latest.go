package postgres

import (
	"io/fs"

	"github.com/vigil-hotline/vigil/internal/store"
)

// LatestMigration is the newest schema migration this build carries.
func LatestMigration() int {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return 0
	}
	return store.LatestMigration(sub)
}
