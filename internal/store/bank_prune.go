package store

import (
	"context"
	"time"
)

// PruneBankChanges deletes the bank change feed's entries older than
// before, and returns how many went. The newest entry always stays, so
// that the feed's position is never lost. Matchers read the feed every
// fraction of a second and load the banks whole when they start, so only a
// process cut off from the database for longer than the retention can miss
// a pruned change; the matcher marks itself stale then (see internal/match).
func (db *DB) PruneBankChanges(ctx context.Context, before time.Time) (int64, error) {
	var n int64
	err := db.drv.WithTx(ctx, func(tx Tx) error {
		var err error
		n, err = tx.Exec(ctx, `DELETE FROM bank_changes WHERE changed_at < $1
			AND seq < (SELECT max(seq) FROM bank_changes)`, before)
		return err
	})
	return n, wrap(err, "prune bank changes")
}
