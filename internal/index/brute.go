package index

import (
	"fmt"

	"github.com/vigil-hotline/vigil/internal/pdq"
)

// Brute is the reference: a plain list compared entry by entry. Tests and
// the benchmark check PDQ against it. Not safe for concurrent use.
type Brute struct {
	ids    []int64
	hashes []pdq.Hash
	pos    map[int64]int
}

// NewBrute returns an empty reference index.
func NewBrute() *Brute { return &Brute{pos: make(map[int64]int)} }

// Add appends an entry.
func (b *Brute) Add(id int64, h pdq.Hash) error {
	if _, ok := b.pos[id]; ok {
		return fmt.Errorf("index: brute add %d: %w", id, ErrExists)
	}
	b.pos[id] = len(b.ids)
	b.ids = append(b.ids, id)
	b.hashes = append(b.hashes, h)
	return nil
}

// Remove deletes an entry.
func (b *Brute) Remove(id int64) error {
	p, ok := b.pos[id]
	if !ok {
		return fmt.Errorf("index: brute remove %d: %w", id, ErrNotFound)
	}
	last := len(b.ids) - 1
	b.ids[p], b.hashes[p] = b.ids[last], b.hashes[last]
	b.pos[b.ids[p]] = p
	b.ids, b.hashes = b.ids[:last], b.hashes[:last]
	delete(b.pos, id)
	return nil
}

// Len is the number of entries.
func (b *Brute) Len() int { return len(b.ids) }

// Search has PDQ.Search's contract.
func (b *Brute) Search(q pdq.Hash, maxDist int) []Match {
	return b.SearchVariants([]pdq.Hash{q}, maxDist)
}

// SearchVariants has PDQ.SearchVariants's contract.
func (b *Brute) SearchVariants(qs []pdq.Hash, maxDist int) []Match {
	var hits []Match
	for i := range b.hashes {
		for v := range qs {
			if d := pdq.Distance(b.hashes[i], qs[v]); d <= maxDist {
				hits = append(hits, Match{ID: b.ids[i], Distance: d, Variant: v})
			}
		}
	}
	return dedupe(hits)
}

// BruteSearchMany answers many single-hash queries against a plain list in
// one pass per block of entries (cache-friendly); results[i] holds the
// positions in hashes within maxDist of qs[i], ascending. For checking recall
// at scale.
func BruteSearchMany(hashes []pdq.Hash, qs []pdq.Hash, maxDist int) [][]int {
	res := make([][]int, len(qs))
	const blk = 2048
	for lo := 0; lo < len(hashes); lo += blk {
		hi := min(lo+blk, len(hashes))
		for qi := range qs {
			q := &qs[qi]
			for i := lo; i < hi; i++ {
				if dist4(&hashes[i], q) <= maxDist {
					res[qi] = append(res[qi], i)
				}
			}
		}
	}
	return res
}
