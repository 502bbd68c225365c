package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/sync/semaphore"
)

// ErrBusy is returned when a password check could not start in time: too
// many are running or waiting. The caller answers 503 and the client tries
// again later.
var ErrBusy = errors.New("auth: too many password checks at once")

// Verifier runs argon2id checks within a memory budget. Each check holds as
// much memory as its hash asks for (64 MiB by default) for tens of
// milliseconds, so without a bound a burst of sign-ins, even with unknown
// names, takes the server's memory; with one, a burst waits in a short
// queue and the rest is refused.
type Verifier struct {
	budget   int64 // KiB
	sem      *semaphore.Weighted
	maxQueue int64
	wait     time.Duration
	waiting  atomic.Int64
	// checks counts the argon2 computations started (tests read it).
	checks atomic.Int64
}

// VerifierConfig bounds a Verifier. Zero values take the defaults.
type VerifierConfig struct {
	// MemoryKiB is the memory all running checks may hold together
	// (default 256 MiB: four checks with DefaultArgon2).
	MemoryKiB int64
	// MaxQueue is how many checks may wait for memory (default 32); Wait is
	// how long one waits at most (default 5 s).
	MaxQueue int
	Wait     time.Duration
}

// NewVerifier returns a Verifier with the given bounds.
func NewVerifier(c VerifierConfig) *Verifier {
	if c.MemoryKiB <= 0 {
		c.MemoryKiB = 4 * int64(DefaultArgon2.Memory)
	}
	if c.MaxQueue <= 0 {
		c.MaxQueue = 32
	}
	if c.Wait <= 0 {
		c.Wait = 5 * time.Second
	}
	return &Verifier{budget: c.MemoryKiB, sem: semaphore.NewWeighted(c.MemoryKiB), maxQueue: int64(c.MaxQueue), wait: c.Wait}
}

// Verify checks password against hash once the memory it needs is free.
// It returns ErrBusy when the queue is full or the wait too long.
func (v *Verifier) Verify(ctx context.Context, password, hash string) (bool, error) {
	mem, err := hashMemory(hash)
	if err != nil {
		return false, err
	}
	// A hash asking for more than the whole budget still runs, alone.
	mem = min(mem, v.budget)
	if !v.sem.TryAcquire(mem) {
		if v.waiting.Add(1) > v.maxQueue {
			v.waiting.Add(-1)
			return false, ErrBusy
		}
		wctx, cancel := context.WithTimeout(ctx, v.wait)
		err := v.sem.Acquire(wctx, mem)
		cancel()
		v.waiting.Add(-1)
		if err != nil {
			return false, fmt.Errorf("%w: %w", ErrBusy, err)
		}
	}
	defer v.sem.Release(mem)
	v.checks.Add(1)
	return VerifyPassword(password, hash)
}

// Checks returns how many argon2 checks this Verifier has run.
func (v *Verifier) Checks() int64 { return v.checks.Load() }

// hashMemory reads the memory cost (KiB) of a PHC argon2id string.
func hashMemory(hash string) (int64, error) {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return 0, errBadHash
	}
	var p Argon2Params
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil || p.Memory == 0 {
		return 0, errBadHash
	}
	return int64(p.Memory), nil
}
