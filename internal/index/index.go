// Package index holds the in-memory match indexes: PDQ, which finds every
// entry within a Hamming distance of a PDQ hash (multi-index hashing, exact:
// 100% recall against brute force), and Exact, for MD5, SHA-1 and SHA-256.
//
// Entries are keyed by an int64 ID that the caller chooses; the bank stores
// use their entry's primary key, and map a match back to bank, entry and
// classification themselves. The index keeps no other data per entry.
//
// The PDQ index is a list of immutable segments, each with its own tables and
// a deletion bitmap, plus a small tail of recent additions that is scanned.
// Queries read a published view without taking any lock. Additions go to the
// tail and are visible as soon as Add returns; a background compaction turns
// the tail into a segment and merges segments (LSM-style, sizes in ratio
// 1:4), swapping the new view in atomically.
package index

import (
	"cmp"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	vigil "github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/pdq"
)

// Errors. Both are domain errors, so vigil.IsNotFound and vigil.ErrorCode work
// on anything that wraps them.
var (
	ErrNotFound = &vigil.Error{Code: vigil.ENOTFOUND, Message: "no such entry in the index"}
	ErrExists   = &vigil.Error{Code: vigil.ECONFLICT, Message: "an entry with this ID is already in the index"}
)

// Match is one indexed entry within the asked distance of a query.
type Match struct {
	ID       int64
	Distance int
	// Variant is the position of the query hash that matched, in the slice
	// given to SearchVariants (0 for Search).
	Variant int
}

// Options tunes a PDQ index; the zero value is good.
type Options struct {
	// TailSize is how many entries added one at a time are scanned before a
	// background compaction indexes them. Default 4096 (a few microseconds
	// of scanning per query).
	TailSize int
	// Workers bounds the goroutines that build tables. Default GOMAXPROCS.
	Workers int

	// blocks forces the number of tables of every segment (tests): 0 means
	// automatic, -1 none (always scan).
	blocks int
	// noScan makes queries probe the tables even where a scan is cheaper
	// (tests), unless that means over a million probes.
	noScan bool
}

func (o Options) withDefaults() Options {
	if o.TailSize <= 0 {
		o.TailSize = 4096
	}
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	return o
}

// PDQ is a concurrent index of PDQ hashes. All methods are safe for
// concurrent use. Searches take no lock and never wait for writers; an Add or
// Remove that has returned is seen by every search that starts after it.
type PDQ struct {
	opts Options
	cur  atomic.Pointer[view]
	live atomic.Int64

	mu         sync.Mutex // serialises writers; guards tail and compacting
	tail       tail
	compacting bool

	cmu sync.Mutex // serialises compactions
}

// view is what a search reads: immutable except for deletion bits.
type view struct {
	segs       []*segment
	tailIDs    []int64
	tailHashes []pdq.Hash
	tailDead   []uint64
}

// tail holds recent additions in arrival order; writers append, and readers
// see the prefix published in their view.
type tail struct {
	ids    []int64
	hashes []pdq.Hash
	dead   []uint64 // covers cap(ids)
	ndead  int
	pos    map[int64]int // live entries only
}

// NewPDQ returns an empty index.
func NewPDQ(opts Options) *PDQ {
	x := &PDQ{opts: opts.withDefaults()}
	x.tail.pos = make(map[int64]int)
	x.cur.Store(&view{})
	return x
}

// Len is the number of live entries.
func (x *PDQ) Len() int { return int(x.live.Load()) }

// publish swaps in a view of segs and the current tail; x.mu is held.
func (x *PDQ) publish(segs []*segment) {
	n := len(x.tail.ids)
	x.cur.Store(&view{segs: segs, tailIDs: x.tail.ids[:n:n], tailHashes: x.tail.hashes[:n:n], tailDead: x.tail.dead})
}

// locate finds a live entry; x.mu is held. seg is nil for the tail.
func (x *PDQ) locate(id int64) (seg *segment, pos int, ok bool) {
	if p, ok := x.tail.pos[id]; ok {
		return nil, p, true
	}
	for _, s := range x.cur.Load().segs {
		if p := s.find(id); p >= 0 {
			return s, p, true
		}
	}
	return nil, 0, false
}

// Add indexes one hash under id. The ID must not be live in the index.
func (x *PDQ) Add(id int64, h pdq.Hash) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	if _, _, ok := x.locate(id); ok {
		return fmt.Errorf("index: add %d: %w", id, ErrExists)
	}
	x.appendTail(id, h)
	x.publish(x.cur.Load().segs)
	x.live.Add(1)
	x.kick()
	return nil
}

func (x *PDQ) appendTail(id int64, h pdq.Hash) {
	t := &x.tail
	if len(t.ids) == cap(t.ids) {
		// Grow by hand so that the deletion bitmap always covers the
		// capacity; readers keep the old arrays.
		c := max(64, 2*cap(t.ids))
		ids := make([]int64, len(t.ids), c)
		copy(ids, t.ids)
		hs := make([]pdq.Hash, len(t.hashes), c)
		copy(hs, t.hashes)
		dead := make([]uint64, (c+63)/64)
		for i := range t.dead {
			dead[i] = atomic.LoadUint64(&t.dead[i])
		}
		t.ids, t.hashes, t.dead = ids, hs, dead
	}
	t.pos[id] = len(t.ids)
	t.ids = append(t.ids, id)
	t.hashes = append(t.hashes, h)
}

// AddBatch indexes many entries at once: a large batch becomes a segment of
// its own, built outside the writer lock. Either every entry is added or,
// on a duplicate ID (within the batch or with the index), none.
func (x *PDQ) AddBatch(ids []int64, hashes []pdq.Hash) error {
	if len(ids) != len(hashes) {
		return fmt.Errorf("index: add batch: %d IDs for %d hashes", len(ids), len(hashes))
	}
	if len(ids) < x.opts.TailSize {
		x.mu.Lock()
		defer x.mu.Unlock()
		seen := make(map[int64]struct{}, len(ids))
		for _, id := range ids {
			if _, dup := seen[id]; dup {
				return fmt.Errorf("index: add batch: ID %d twice: %w", id, ErrExists)
			}
			seen[id] = struct{}{}
			if _, _, ok := x.locate(id); ok {
				return fmt.Errorf("index: add batch: %d: %w", id, ErrExists)
			}
		}
		for i, id := range ids {
			x.appendTail(id, hashes[i])
		}
		x.publish(x.cur.Load().segs)
		x.live.Add(int64(len(ids)))
		x.kick()
		return nil
	}
	sids, shs, err := sortEntries(ids, hashes)
	if err != nil {
		return fmt.Errorf("index: add batch: %w", err)
	}
	seg := newSegment(sids, shs, x.opts.blocks, x.opts.Workers)
	x.mu.Lock()
	defer x.mu.Unlock()
	for _, id := range sids {
		if _, _, ok := x.locate(id); ok {
			return fmt.Errorf("index: add batch: %d: %w", id, ErrExists)
		}
	}
	old := x.cur.Load().segs
	segs := append(slices.Clip(old), seg)
	x.publish(segs)
	x.live.Add(int64(len(sids)))
	x.kick()
	return nil
}

// Remove takes the entry with this ID out of the index.
func (x *PDQ) Remove(id int64) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	s, p, ok := x.locate(id)
	if !ok {
		return fmt.Errorf("index: remove %d: %w", id, ErrNotFound)
	}
	if s == nil {
		atomic.OrUint64(&x.tail.dead[p>>6], 1<<(uint(p)&63))
		x.tail.ndead++
		delete(x.tail.pos, id)
	} else {
		s.kill(p)
	}
	x.live.Add(-1)
	x.kick()
	return nil
}

// Get returns the hash indexed under id.
func (x *PDQ) Get(id int64) (pdq.Hash, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	s, p, ok := x.locate(id)
	switch {
	case !ok:
		return pdq.Hash{}, fmt.Errorf("index: get %d: %w", id, ErrNotFound)
	case s == nil:
		return x.tail.hashes[p], nil
	default:
		return s.hashes[p], nil
	}
}

// Search returns every live entry within maxDist bits of q (inclusive),
// nearest first, then by ID. A maxDist below zero matches nothing; one of 256
// or more matches everything.
func (x *PDQ) Search(q pdq.Hash, maxDist int) []Match {
	qs := [1]pdq.Hash{q}
	return x.SearchVariants(qs[:], maxDist)
}

// SearchVariants searches for several hashes at once, typically the eight
// dihedral variants of an image. Each entry appears once, with the smallest
// distance to any of the queries and the first query at that distance.
func (x *PDQ) SearchVariants(qs []pdq.Hash, maxDist int) []Match {
	if maxDist < 0 || len(qs) == 0 {
		return nil
	}
	maxDist = min(maxDist, 256)
	v := x.cur.Load()
	sc := scratchPool.Get().(*scratch)
	sc.hits = sc.hits[:0]
	for _, s := range v.segs {
		s.search(qs, maxDist, sc, x.opts.noScan)
	}
	for i := range v.tailHashes {
		for q := range qs {
			if d := dist4(&v.tailHashes[i], &qs[q]); d <= maxDist &&
				atomic.LoadUint64(&v.tailDead[i>>6])&(1<<(uint(i)&63)) == 0 {
				sc.hits = append(sc.hits, Match{ID: v.tailIDs[i], Distance: d, Variant: q})
			}
		}
	}
	out := dedupe(sc.hits)
	scratchPool.Put(sc)
	return out
}

// dedupe keeps, per ID, the nearest match (then the lowest variant), and
// returns a fresh slice ordered by distance then ID. A hit appears once per
// table whose probe found it, so duplicates are the rule, not the exception.
func dedupe(hits []Match) []Match {
	if len(hits) == 0 {
		return nil
	}
	slices.SortFunc(hits, func(a, b Match) int {
		return cmp.Or(cmp.Compare(a.ID, b.ID), cmp.Compare(a.Distance, b.Distance), cmp.Compare(a.Variant, b.Variant))
	})
	out := make([]Match, 0, len(hits))
	for i, h := range hits {
		if i == 0 || h.ID != hits[i-1].ID {
			out = append(out, h)
		}
	}
	slices.SortFunc(out, func(a, b Match) int {
		return cmp.Or(cmp.Compare(a.Distance, b.Distance), cmp.Compare(a.ID, b.ID))
	})
	return out
}

// sortEntries returns copies sorted by ID, or an error on a duplicate ID.
func sortEntries(ids []int64, hashes []pdq.Hash) ([]int64, []pdq.Hash, error) {
	sids := slices.Clone(ids)
	shs := cloneHuge(hashes)
	if !slices.IsSorted(sids) {
		perm := make([]int32, len(ids))
		for i := range perm {
			perm[i] = int32(i)
		}
		slices.SortFunc(perm, func(a, b int32) int { return cmp.Compare(ids[a], ids[b]) })
		for i, p := range perm {
			sids[i], shs[i] = ids[p], hashes[p]
		}
	}
	for i := 1; i < len(sids); i++ {
		if sids[i] == sids[i-1] {
			return nil, nil, fmt.Errorf("ID %d twice: %w", sids[i], ErrExists)
		}
	}
	return sids, shs, nil
}
