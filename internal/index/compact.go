package index

import (
	"math/bits"
	"slices"
	"sync/atomic"

	"github.com/vigil-hotline/vigil/internal/pdq"
)

// Merge policy: merge two neighbouring segments when the newer holds at least
// a quarter as many live entries as the older, which keeps O(log N) segments;
// rewrite one alone when a quarter or more of it is removed entries.
const mergeRatio = 4

// kick starts a background compaction if there is work and none runs; x.mu
// is held.
func (x *PDQ) kick() {
	if x.compacting || !x.needsWork() {
		return
	}
	x.compacting = true
	go x.background()
}

func (x *PDQ) needsWork() bool {
	if len(x.tail.ids) >= x.opts.TailSize {
		return true
	}
	_, _, ok := pickMerge(x.cur.Load().segs)
	return ok
}

func (x *PDQ) background() {
	x.cmu.Lock()
	defer x.cmu.Unlock()
	for {
		if x.step(false) {
			continue
		}
		x.mu.Lock()
		if !x.needsWork() {
			x.compacting = false
			x.mu.Unlock()
			return
		}
		x.mu.Unlock()
	}
}

// Compact indexes the whole tail and merges every segment into one, dropping
// removed entries; it returns when done. Searches run on meanwhile. Call it
// after a bulk change (an import, a bank removed) to get the fastest layout.
func (x *PDQ) Compact() {
	x.cmu.Lock()
	defer x.cmu.Unlock()
	for x.step(true) {
	}
}

func live(s *segment) int { return s.len() - s.ndead }

// pickMerge chooses segments [lo, hi) to merge; x.mu is held.
func pickMerge(segs []*segment) (lo, hi int, ok bool) {
	for i := len(segs) - 1; i >= 1; i-- {
		if live(segs[i])*mergeRatio >= live(segs[i-1]) {
			return i - 1, i + 1, true
		}
	}
	for i, s := range segs {
		if s.ndead*4 >= s.len() && s.ndead > 0 {
			return i, i + 1, true
		}
	}
	return 0, 0, false
}

// step does one unit of compaction: freeze the tail, or merge segments. all
// asks for everything to end in one clean segment. It reports whether it did
// anything. The building happens outside x.mu; removals made meanwhile are
// carried over to the new segment before it is swapped in.
func (x *PDQ) step(all bool) bool {
	x.mu.Lock()
	if n := len(x.tail.ids); n >= x.opts.TailSize || all && n > 0 {
		ids, hs := x.tail.ids[:n], x.tail.hashes[:n]
		dead0 := snapshotBits(x.tail.dead[:(n+63)/64])
		x.mu.Unlock()

		var lids []int64
		var lhs []pdq.Hash
		for i := range ids {
			if !bitSet(dead0, i) {
				lids = append(lids, ids[i])
				lhs = append(lhs, hs[i])
			}
		}
		sids, shs, err := sortEntries(lids, lhs)
		if err != nil {
			panic("index: duplicate live ID in the tail: " + err.Error())
		}
		seg := newSegment(sids, shs, x.opts.blocks, x.opts.Workers)

		x.mu.Lock()
		defer x.mu.Unlock()
		carry(x.tail.dead, dead0, ids, seg)
		x.cutTail(n)
		segs := x.cur.Load().segs
		if seg.len() > 0 {
			segs = append(slices.Clip(segs), seg)
		}
		x.publish(segs)
		return true
	}
	segs := x.cur.Load().segs
	lo, hi, ok := pickMerge(segs)
	if all {
		lo, hi = 0, len(segs)
		ok = len(segs) > 1 || len(segs) == 1 && segs[0].ndead > 0
	}
	if !ok {
		x.mu.Unlock()
		return false
	}
	inputs := slices.Clone(segs[lo:hi])
	dead0 := make([][]uint64, len(inputs))
	for i, s := range inputs {
		dead0[i] = snapshotBits(s.dead)
	}
	x.mu.Unlock()

	sids, shs := mergeLive(inputs, dead0)
	seg := newSegment(sids, shs, x.opts.blocks, x.opts.Workers)

	x.mu.Lock()
	defer x.mu.Unlock()
	for i, s := range inputs {
		carry(s.dead, dead0[i], s.ids, seg)
	}
	// Only compactions remove segments, and AddBatch only appends, so the
	// inputs are still where they were.
	cur := x.cur.Load().segs
	next := make([]*segment, 0, len(cur)-len(inputs)+1)
	next = append(next, cur[:lo]...)
	if seg.len() > 0 {
		next = append(next, seg)
	}
	next = append(next, cur[hi:]...)
	x.publish(next)
	return true
}

// cutTail drops the first n tail entries (now in a segment). Readers may
// still hold the old arrays, so the rest is copied; x.mu is held.
func (x *PDQ) cutTail(n int) {
	t := &x.tail
	rest := len(t.ids) - n
	c := max(64, 2*rest)
	ids := make([]int64, rest, c)
	copy(ids, t.ids[n:])
	hs := make([]pdq.Hash, rest, c)
	copy(hs, t.hashes[n:])
	dead := make([]uint64, (c+63)/64)
	ndead := 0
	for i := range rest {
		if bitSet(t.dead, n+i) {
			dead[i>>6] |= 1 << (uint(i) & 63)
			ndead++
		}
	}
	for i, id := range t.ids[:n] {
		if p, ok := t.pos[id]; ok && p == i {
			delete(t.pos, id)
		}
	}
	for i, id := range ids {
		if !bitSet(dead, i) {
			t.pos[id] = i
		}
	}
	t.ids, t.hashes, t.dead, t.ndead = ids, hs, dead, ndead
}

// carry marks in seg the entries removed since dead0 was taken; x.mu is held.
func carry(now, dead0 []uint64, ids []int64, seg *segment) {
	for w := range dead0 {
		diff := atomic.LoadUint64(&now[w]) &^ dead0[w]
		for diff != 0 {
			b := diff & -diff
			diff &^= b
			pos := w*64 + bits.TrailingZeros64(b)
			if pos >= len(ids) {
				break // tail entries added after the snapshot
			}
			if p := seg.find(ids[pos]); p >= 0 {
				seg.kill(p)
			}
		}
	}
}

// mergeLive returns the live entries of segments (each sorted by ID), sorted
// by ID, by repeated two-way merges.
func mergeLive(segs []*segment, dead0 [][]uint64) ([]int64, []pdq.Hash) {
	var ids []int64
	var hs []pdq.Hash
	for i, s := range segs {
		n := s.len()
		for _, w := range dead0[i] {
			n -= bits.OnesCount64(w)
		}
		bi, bh := make([]int64, 0, n), makeHuge[pdq.Hash](n)[:0]
		for p := range s.ids {
			if !bitSet(dead0[i], p) {
				bi = append(bi, s.ids[p])
				bh = append(bh, s.hashes[p])
			}
		}
		if i == 0 {
			ids, hs = bi, bh
			continue
		}
		mi := make([]int64, 0, len(ids)+len(bi))
		mh := makeHuge[pdq.Hash](len(ids) + len(bi))[:0]
		a, b := 0, 0
		for a < len(ids) || b < len(bi) {
			if b == len(bi) || a < len(ids) && ids[a] < bi[b] {
				mi, mh = append(mi, ids[a]), append(mh, hs[a])
				a++
			} else {
				mi, mh = append(mi, bi[b]), append(mh, bh[b])
				b++
			}
		}
		ids, hs = mi, mh
	}
	return ids, hs
}

func snapshotBits(b []uint64) []uint64 {
	out := make([]uint64, len(b))
	for i := range b {
		out[i] = atomic.LoadUint64(&b[i])
	}
	return out
}

func bitSet(b []uint64, i int) bool {
	return atomic.LoadUint64(&b[i>>6])&(1<<(uint(i)&63)) != 0
}
