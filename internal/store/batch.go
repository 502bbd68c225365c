package store

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// writeBatcher is group commit for SQLite: write transactions that arrive
// while one is being committed wait and are committed together in the next,
// so that many share one fsync (the database runs with synchronous=FULL).
// Each runs in its own savepoint, so one that fails is rolled back alone
// and the others commit. PostgreSQL groups commits itself and does not use
// this.
type writeBatcher struct {
	drv     Driver
	reqs    chan *writeReq
	once    sync.Once
	stop    chan struct{}
	stopped chan struct{}
}

type writeReq struct {
	fn   func(Tx) error
	done chan error
}

// maxWriteBatch bounds a batch so that its transaction stays short.
const maxWriteBatch = 128

func newWriteBatcher(drv Driver) *writeBatcher {
	return &writeBatcher{drv: drv, reqs: make(chan *writeReq), stop: make(chan struct{}), stopped: make(chan struct{})}
}

// write runs fn in the next batch. Once handed over, fn runs even if the
// caller gives up: what was sent is never half-written.
func (b *writeBatcher) write(ctx context.Context, fn func(Tx) error) error {
	b.once.Do(func() { go b.loop() })
	req := &writeReq{fn: fn, done: make(chan error, 1)}
	select {
	case b.reqs <- req:
	case <-ctx.Done():
		return ctx.Err()
	case <-b.stop:
		return fmt.Errorf("store closed")
	}
	return <-req.done
}

func (b *writeBatcher) loop() {
	defer close(b.stopped)
	for {
		var batch []*writeReq
		select {
		case req := <-b.reqs:
			batch = append(batch, req)
		case <-b.stop:
			return
		}
	drain:
		for len(batch) < maxWriteBatch {
			select {
			case req := <-b.reqs:
				batch = append(batch, req)
			default:
				break drain
			}
		}
		b.commit(batch)
	}
}

func (b *writeBatcher) commit(batch []*writeReq) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	errs := make([]error, len(batch))
	err := b.drv.WithTx(ctx, func(tx Tx) error {
		for i, req := range batch {
			errs[i] = inSavepoint(ctx, tx, "batched", req.fn)
		}
		return nil
	})
	for i, req := range batch {
		if err != nil {
			errs[i] = err
		}
		req.done <- errs[i]
	}
}

func (b *writeBatcher) close() {
	b.once.Do(func() { close(b.stopped) }) // never started
	select {
	case <-b.stop:
	default:
		close(b.stop)
	}
	<-b.stopped
}

// inSavepoint runs fn so that its failure undoes only its own writes.
func inSavepoint(ctx context.Context, tx Tx, name string, fn func(Tx) error) error {
	if _, err := tx.Exec(ctx, "SAVEPOINT "+name); err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		if _, rerr := tx.Exec(ctx, "ROLLBACK TO SAVEPOINT "+name); rerr != nil {
			return rerr
		}
		if _, rerr := tx.Exec(ctx, "RELEASE SAVEPOINT "+name); rerr != nil {
			return rerr
		}
		return err
	}
	_, err := tx.Exec(ctx, "RELEASE SAVEPOINT "+name)
	return err
}

// write runs fn in a write transaction: batched with others on SQLite, on
// its own on PostgreSQL.
func (db *DB) write(ctx context.Context, fn func(Tx) error) error {
	if db.batch != nil {
		return db.batch.write(ctx, fn)
	}
	return db.drv.WithTx(ctx, fn)
}
