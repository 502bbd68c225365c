package store

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/vigil-hotline/vigil"
)

// reportBatcher is group commit for SQLite: reports that arrive while a
// transaction is being written wait and are committed together in the next
// one, so that many reports share one fsync. Each report runs in its own
// savepoint, so one that fails is rolled back alone and the others commit.
// PostgreSQL groups commits itself, so it does not use this.
type reportBatcher struct {
	db      *DB
	reqs    chan *reportReq
	once    sync.Once
	stop    chan struct{}
	stopped chan struct{}
}

type reportReq struct {
	r    *vigil.Report
	done chan error
}

// maxReportBatch bounds a batch so that its transaction stays short.
const maxReportBatch = 128

func newReportBatcher(db *DB) *reportBatcher {
	return &reportBatcher{db: db, reqs: make(chan *reportReq), stop: make(chan struct{}), stopped: make(chan struct{})}
}

func (b *reportBatcher) create(ctx context.Context, r *vigil.Report) error {
	b.once.Do(func() { go b.loop() })
	req := &reportReq{r: r, done: make(chan error, 1)}
	select {
	case b.reqs <- req:
	case <-ctx.Done():
		return ctx.Err()
	case <-b.stop:
		return fmt.Errorf("create report: store closed")
	}
	// Once handed over, the report is written even if the caller gives up:
	// what a reporter sent is never half-stored.
	return <-req.done
}

func (b *reportBatcher) loop() {
	defer close(b.stopped)
	for {
		var batch []*reportReq
		select {
		case req := <-b.reqs:
			batch = append(batch, req)
		case <-b.stop:
			return
		}
	drain:
		for len(batch) < maxReportBatch {
			select {
			case req := <-b.reqs:
				batch = append(batch, req)
			default:
				break drain
			}
		}
		b.write(batch)
	}
}

func (b *reportBatcher) write(batch []*reportReq) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	errs := make([]error, len(batch))
	err := b.db.drv.WithTx(ctx, func(tx Tx) error {
		for i, req := range batch {
			errs[i] = b.db.createReportSavepoint(ctx, tx, req.r)
		}
		return nil
	})
	for i, req := range batch {
		if err != nil {
			errs[i] = err
		}
		req.done <- wrap(errs[i], "create report")
	}
}

func (b *reportBatcher) close() {
	b.once.Do(func() { close(b.stopped) }) // never started
	select {
	case <-b.stop:
	default:
		close(b.stop)
	}
	<-b.stopped
}

// createReportSavepoint writes one report of a batch inside a savepoint,
// retrying with a fresh tracking code on the (80-bit) chance of a
// collision.
func (db *DB) createReportSavepoint(ctx context.Context, tx Tx, r *vigil.Report) error {
	for attempt := 0; ; attempt++ {
		if r.TrackingCode == "" || attempt > 0 {
			r.TrackingCode = vigil.NewTrackingCode()
		}
		if _, err := tx.Exec(ctx, "SAVEPOINT report"); err != nil {
			return err
		}
		err := db.createReport(ctx, tx, r)
		if err == nil {
			_, err = tx.Exec(ctx, "RELEASE SAVEPOINT report")
			return err
		}
		if _, rerr := tx.Exec(ctx, "ROLLBACK TO SAVEPOINT report"); rerr != nil {
			return rerr
		}
		if _, rerr := tx.Exec(ctx, "RELEASE SAVEPOINT report"); rerr != nil {
			return rerr
		}
		r.ID = 0
		for _, u := range r.URLs {
			u.ID, u.New = 0, false
		}
		if !db.drv.IsUniqueViolation(err) || attempt >= 3 {
			return err
		}
	}
}
