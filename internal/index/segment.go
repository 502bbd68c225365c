package index

import (
	"math/bits"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/vigil-hotline/vigil/internal/pdq"
)

// groupKeys keys share one 16-byte directory group: a 32-bit base offset and
// 8-bit offsets relative to it, so that a lookup touches one cache line and a
// directory costs 1.45 bytes per key instead of 4.
const groupKeys = 11

// ovfFlag marks a group whose keys hold 256 entries or more; its base then
// indexes ovf, which holds the groupKeys+1 absolute offsets.
const ovfFlag = 1 << 31

type group struct {
	base uint32
	rel  [groupKeys + 1]uint8
}

// block is one multi-index table: bits start … start+width-1 of each hash,
// used as a key into a directory over slots sorted by key.
type block struct {
	start uint
	width uint
	dir   []group
	ovf   []uint32
	slots []uint32 // entry positions, sorted by key then position
}

// lookup returns the slot range of key.
func (b *block) lookup(key uint32) (lo, hi uint32) {
	g := &b.dir[key/groupKeys]
	i := key % groupKeys
	if g.base&ovfFlag == 0 {
		return g.base + uint32(g.rel[i]), g.base + uint32(g.rel[i+1])
	}
	o := (g.base&^ovfFlag)*(groupKeys+1) + i
	return b.ovf[o], b.ovf[o+1]
}

// segment is an immutable run of entries sorted by ID, with its tables. Only
// the deletion bitmap changes after it is built: bits are set (atomically)
// under the index's writer lock and read without it.
type segment struct {
	ids    []int64 // ascending, unique
	hashes []pdq.Hash
	dead   []uint64
	ndead  int // guarded by the index's writer lock
	blocks []block
	plans  []plan // per radius 0 … 256; nil when there are no tables
}

func (s *segment) len() int { return len(s.ids) }

func (s *segment) isDead(pos int) bool {
	return atomic.LoadUint64(&s.dead[pos>>6])&(1<<(uint(pos)&63)) != 0
}

// kill marks pos removed; the caller holds the writer lock.
func (s *segment) kill(pos int) {
	atomic.OrUint64(&s.dead[pos>>6], 1<<(uint(pos)&63))
	s.ndead++
}

// find returns the position of a live entry with this ID, or -1.
func (s *segment) find(id int64) int {
	i := sort.Search(len(s.ids), func(i int) bool { return s.ids[i] >= id })
	if i < len(s.ids) && s.ids[i] == id && !s.isDead(i) {
		return i
	}
	return -1
}

// newSegment builds tables over entries already sorted by ID. m is the number
// of tables (0: automatic; negative: none). workers bounds build parallelism.
func newSegment(ids []int64, hashes []pdq.Hash, m, workers int) *segment {
	n := len(ids)
	s := &segment{ids: ids, hashes: hashes, dead: make([]uint64, (n+63)/64)}
	if m == 0 {
		m = chooseBlocks(n)
	}
	if m <= 0 || n == 0 {
		return s
	}
	l := makeLayout(m)
	s.blocks = make([]block, m)
	if workers < 1 {
		workers = 1
	}
	workers = min(workers, m)
	maxW := 0
	for _, w := range l.widths {
		maxW = max(maxW, int(w))
	}
	var next atomic.Int32
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			counts := make([]uint32, 1<<maxW+1)
			for {
				j := int(next.Add(1)) - 1
				if j >= m {
					return
				}
				s.blocks[j] = buildBlock(uint(l.starts[j]), uint(l.widths[j]), hashes, counts)
			}
		}()
	}
	wg.Wait()
	s.plans = make([]plan, 257)
	for r := range s.plans {
		s.plans[r], _ = makePlan(n, l, r)
	}
	return s
}

// buildBlock is a counting sort of entry positions by key. counts is scratch
// of at least 2^w+1 elements.
func buildBlock(start, w uint, hashes []pdq.Hash, counts []uint32) block {
	nkeys := 1 << w
	counts = counts[:nkeys+1]
	clear(counts)
	for i := range hashes {
		counts[blockKey(&hashes[i], start, w)+1]++
	}
	for k := 1; k <= nkeys; k++ {
		counts[k] += counts[k-1]
	}
	b := block{start: start, width: w, dir: makeHuge[group]((nkeys + groupKeys - 1) / groupKeys)}
	for g := range b.dir {
		k0 := g * groupKeys
		base := counts[k0]
		end := counts[min(k0+groupKeys, nkeys)]
		if end-base < 256 {
			d := &b.dir[g]
			d.base = base
			for i := 1; i <= groupKeys; i++ {
				d.rel[i] = uint8(counts[min(k0+i, nkeys)] - base)
			}
			continue
		}
		b.dir[g].base = ovfFlag | uint32(len(b.ovf)/(groupKeys+1))
		for i := 0; i <= groupKeys; i++ {
			b.ovf = append(b.ovf, counts[min(k0+i, nkeys)])
		}
	}
	b.slots = makeHuge[uint32](len(hashes))
	for i := range hashes {
		k := blockKey(&hashes[i], start, w)
		b.slots[counts[k]] = uint32(i)
		counts[k]++
	}
	return b
}

// dist4 is the Hamming distance, inlined.
func dist4(a, b *pdq.Hash) int {
	return bits.OnesCount64(a[0]^b[0]) + bits.OnesCount64(a[1]^b[1]) +
		bits.OnesCount64(a[2]^b[2]) + bits.OnesCount64(a[3]^b[3])
}

// scratch is per-query working memory, pooled.
type scratch struct {
	keys   []uint32
	ranges [][2]uint32
	cands  []uint32
	hits   []Match
}

var scratchPool = sync.Pool{New: func() any {
	return &scratch{keys: make([]uint32, 0, 1024), hits: make([]Match, 0, 64)}
}}

// appendProbes appends every key within rho bits of key (w-bit keys).
func appendProbes(dst []uint32, key uint32, w uint, rho int) []uint32 {
	dst = append(dst, key)
	if rho >= 1 {
		for i := uint(0); i < w; i++ {
			dst = append(dst, key^1<<i)
		}
	}
	if rho >= 2 {
		for i := uint(1); i < w; i++ {
			ki := key ^ 1<<i
			for j := uint(0); j < i; j++ {
				dst = append(dst, ki^1<<j)
			}
		}
	}
	limit := uint64(1) << w
	for k := 3; k <= rho; k++ {
		// Gosper's hack: every w-bit mask with exactly k bits set.
		for m := uint64(1)<<k - 1; m < limit; {
			dst = append(dst, key^uint32(m))
			c := m & -m
			r := m + c
			m = (((r ^ m) >> 2) >> bits.TrailingZeros64(c)) | r
		}
	}
	return dst
}

// search appends to sc.hits the live entries within r of each query.
func (s *segment) search(qs []pdq.Hash, r int, sc *scratch, noScan bool) {
	if s.len() == 0 || r < 0 {
		return
	}
	if s.plans == nil || s.plans[r].scan && !(noScan && s.plans[r].probes <= 1e6) {
		s.scan(qs, r, sc)
		return
	}
	p := &s.plans[r]
	for v := range qs {
		s.probe(&qs[v], r, uint8(v), p, sc)
	}
}

// probe runs the multi-index search of one query in three passes, each a
// loop of independent loads: directory lookups for every probe key, then the
// slot ranges they give, then the candidate hashes. The CPU overlaps the
// cache misses of each pass, which a nested loop would serialise.
func (s *segment) probe(q *pdq.Hash, r int, variant uint8, p *plan, sc *scratch) {
	cands := sc.cands[:0]
	for j := range s.blocks {
		rho := int(p.radius[j])
		if rho < 0 {
			continue
		}
		b := &s.blocks[j]
		sc.keys = appendProbes(sc.keys[:0], blockKey(q, b.start, b.width), b.width, rho)
		// Branch-free: whether a key is empty is a coin toss the branch
		// predictor would lose.
		ranges := slices.Grow(sc.ranges[:0], len(sc.keys))[:len(sc.keys)]
		nr := 0
		for _, k := range sc.keys {
			lo, hi := b.lookup(k)
			ranges[nr] = [2]uint32{lo, hi}
			inc := 0
			if lo != hi {
				inc = 1
			}
			nr += inc
		}
		ranges = ranges[:nr]
		slots := b.slots
		for _, rg := range ranges {
			// Most ranges hold one or two slots: a loop beats append's memmove.
			for i := rg[0]; i < rg[1]; i++ {
				cands = append(cands, slots[i])
			}
		}
		sc.ranges = ranges
	}
	hashes := s.hashes
	for _, pos := range cands {
		h := &hashes[pos]
		d := bits.OnesCount64(h[0]^q[0]) + bits.OnesCount64(h[1]^q[1])
		if d > r {
			continue
		}
		d += bits.OnesCount64(h[2]^q[2]) + bits.OnesCount64(h[3]^q[3])
		if d <= r && !s.isDead(int(pos)) {
			sc.hits = append(sc.hits, Match{ID: s.ids[pos], Distance: d, Variant: int(variant)})
		}
	}
	sc.cands = cands
}

// scan compares every entry with every query.
func (s *segment) scan(qs []pdq.Hash, r int, sc *scratch) {
	hashes := s.hashes
	if len(qs) == 1 {
		q := &qs[0]
		for i := range hashes {
			if dist4(&hashes[i], q) <= r && !s.isDead(i) {
				sc.hits = append(sc.hits, Match{ID: s.ids[i], Distance: dist4(&hashes[i], q)})
			}
		}
		return
	}
	for i := range hashes {
		h := &hashes[i]
		for v := range qs {
			if d := dist4(h, &qs[v]); d <= r && !s.isDead(i) {
				sc.hits = append(sc.hits, Match{ID: s.ids[i], Distance: d, Variant: v})
			}
		}
	}
}

// makeHuge allocates a slice for random access, on huge pages where possible.
func makeHuge[T any](n int) []T {
	s := make([]T, n)
	if n > 0 {
		var zero T
		adviseHuge(unsafe.Pointer(&s[0]), uintptr(n)*unsafe.Sizeof(zero))
	}
	return s
}

func cloneHuge(s []pdq.Hash) []pdq.Hash {
	out := makeHuge[pdq.Hash](len(s))
	copy(out, s)
	return out
}
