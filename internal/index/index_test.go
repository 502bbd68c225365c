package index

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	vigil "github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/pdq"
)

var thresholds = []int{0, 8, 16, 31, 32, 48, 63, 64}

// dataset makes n hashes: uniform random, or families of 1-20 near-duplicates
// within 0-30 bits of a root (as real lists are).
func dataset(rng *rand.Rand, n int, clustered bool) []pdq.Hash {
	hs := make([]pdq.Hash, 0, n)
	for len(hs) < n {
		root := randHash(rng)
		if !clustered {
			hs = append(hs, root)
			continue
		}
		for k := 1 + rng.IntN(20); k > 0 && len(hs) < n; k-- {
			hs = append(hs, flip(rng, root, rng.IntN(31)))
		}
	}
	return hs
}

// queries: near-duplicates of indexed hashes at 0-40 bits, and random ones.
func queries(rng *rand.Rand, hs []pdq.Hash, n int) []pdq.Hash {
	qs := make([]pdq.Hash, n)
	for i := range qs {
		if i%2 == 0 {
			qs[i] = flip(rng, hs[rng.IntN(len(hs))], rng.IntN(41))
		} else {
			qs[i] = randHash(rng)
		}
	}
	return qs
}

func build(t testing.TB, ids []int64, hs []pdq.Hash, opts Options) (*PDQ, *Brute) {
	t.Helper()
	b := NewBuilder(len(ids), opts)
	ref := NewBrute()
	for i, id := range ids {
		b.Add(id, hs[i])
		if err := ref.Add(id, hs[i]); err != nil {
			t.Fatal(err)
		}
	}
	x, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	return x, ref
}

func sameMatches(t *testing.T, what string, got, want []Match) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Fatalf("%s: got %d matches, brute force %d\n got: %v\nwant: %v", what, len(got), len(want), head(got), head(want))
	}
}

func head(m []Match) []Match { return m[:min(len(m), 8)] }

func TestSearchMatchesBruteForce(t *testing.T) {
	cases := []struct {
		name   string
		n      int
		opts   Options
		nq     int
		maxDst int
	}{
		{"auto", 20000, Options{}, 40, 256},
		{"11-tables", 20000, Options{blocks: 11, noScan: true}, 40, 32},
		{"16-tables", 20000, Options{blocks: 16, noScan: true}, 30, 64},
		{"24-tables", 5000, Options{blocks: 24, noScan: true}, 30, 64},
	}
	for _, clustered := range []bool{false, true} {
		for _, c := range cases {
			t.Run(fmt.Sprintf("%s/clustered=%v", c.name, clustered), func(t *testing.T) {
				if raceOn && c.opts.blocks == 11 {
					t.Skip("2^23-key tables take too long to build under the race detector")
				}
				t.Parallel()
				rng := rand.New(rand.NewPCG(uint64(c.n), 7))
				n, nq := c.n, c.nq
				if raceOn {
					n, nq = n/4, nq/2
				}
				hs := dataset(rng, n, clustered)
				ids := make([]int64, len(hs))
				for i := range ids {
					ids[i] = int64(rng.Uint64() >> 1) // arbitrary order and values
				}
				x, ref := build(t, ids, hs, c.opts)
				qs := queries(rng, hs, nq)
				for _, r := range append(slices.Clone(thresholds), 100, 256) {
					if r > c.maxDst || r > 64 && c.opts.noScan {
						continue
					}
					nq := len(qs)
					if r > 64 {
						nq = 4 // everything matches; the scan path needs few
					}
					for i, q := range qs[:nq] {
						sameMatches(t, fmt.Sprintf("r=%d q=%d", r, i), x.Search(q, r), ref.Search(q, r))
					}
					for i := 0; i+8 <= len(qs) && i < 24; i += 8 {
						sameMatches(t, fmt.Sprintf("variants r=%d q=%d", r, i), x.SearchVariants(qs[i:i+8], r), ref.SearchVariants(qs[i:i+8], r))
					}
				}
			})
		}
	}
}

// TestDuplicateHeavy fills single keys with hundreds of entries, which uses
// the directory's overflow groups.
func TestDuplicateHeavy(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	var hs []pdq.Hash
	root := randHash(rng)
	for range 700 {
		hs = append(hs, root)
	}
	for range 300 {
		hs = append(hs, flip(rng, root, rng.IntN(6)))
	}
	hs = append(hs, dataset(rng, 4000, true)...)
	hs = append(hs, pdq.Hash{}, pdq.Hash{^uint64(0), ^uint64(0), ^uint64(0), ^uint64(0)})
	ids := make([]int64, len(hs))
	for i := range ids {
		ids[i] = int64(i) - 500 // negative IDs too
	}
	x, ref := build(t, ids, hs, Options{blocks: 16, noScan: true})
	if len(x.cur.Load().segs[0].blocks[0].ovf) == 0 {
		t.Fatal("expected overflow groups")
	}
	for _, r := range thresholds {
		for _, q := range []pdq.Hash{root, flip(rng, root, 10), hs[2000], {}} {
			sameMatches(t, fmt.Sprintf("r=%d", r), x.Search(q, r), ref.Search(q, r))
		}
	}
}

func TestSearchEdges(t *testing.T) {
	x := NewPDQ(Options{})
	if m := x.Search(pdq.Hash{}, 31); len(m) != 0 {
		t.Fatalf("empty index matched %v", m)
	}
	if err := x.Add(5, pdq.Hash{1}); err != nil {
		t.Fatal(err)
	}
	if m := x.Search(pdq.Hash{1}, -1); len(m) != 0 {
		t.Fatalf("negative distance matched %v", m)
	}
	if m := x.Search(pdq.Hash{^uint64(0) - 1, ^uint64(0), ^uint64(0), ^uint64(0)}, 1000); len(m) != 1 || m[0].Distance != 256 {
		t.Fatalf("distance 256: %v", m)
	}
	if m := x.SearchVariants(nil, 31); len(m) != 0 {
		t.Fatalf("no queries matched %v", m)
	}
}

func TestErrors(t *testing.T) {
	x := NewPDQ(Options{})
	if err := x.Add(1, pdq.Hash{1}); err != nil {
		t.Fatal(err)
	}
	if err := x.Add(1, pdq.Hash{2}); !errors.Is(err, ErrExists) || vigil.ErrorCode(err) != vigil.ECONFLICT {
		t.Fatalf("duplicate add: %v", err)
	}
	if err := x.Remove(2); !errors.Is(err, ErrNotFound) || !vigil.IsNotFound(err) {
		t.Fatalf("remove unknown: %v", err)
	}
	if _, err := x.Get(2); !vigil.IsNotFound(err) {
		t.Fatalf("get unknown: %v", err)
	}
	if h, err := x.Get(1); err != nil || h != (pdq.Hash{1}) {
		t.Fatalf("get: %v %v", h, err)
	}
	if err := x.Remove(1); err != nil {
		t.Fatal(err)
	}
	if err := x.Remove(1); !vigil.IsNotFound(err) {
		t.Fatalf("second remove: %v", err)
	}
	b := NewBuilder(2, Options{})
	b.Add(7, pdq.Hash{})
	b.Add(7, pdq.Hash{1})
	if _, err := b.Build(); !errors.Is(err, ErrExists) {
		t.Fatalf("builder duplicate: %v", err)
	}
	if err := x.AddBatch([]int64{1, 2}, []pdq.Hash{{}}); err == nil {
		t.Fatal("mismatched batch accepted")
	}
	if err := x.AddBatch([]int64{3, 3}, []pdq.Hash{{}, {}}); !errors.Is(err, ErrExists) {
		t.Fatalf("batch duplicate: %v", err)
	}
	if x.Len() != 0 {
		t.Fatalf("Len %d after failed batches", x.Len())
	}
}

// TestMutationsMatchBruteForce adds and removes entries one at a time and in
// batches, with a small tail so that compactions run, and compares with
// brute force after every round.
func TestMutationsMatchBruteForce(t *testing.T) {
	for _, clustered := range []bool{false, true} {
		t.Run(fmt.Sprintf("clustered=%v", clustered), func(t *testing.T) {
			t.Parallel()
			rng := rand.New(rand.NewPCG(11, 12))
			pool := dataset(rng, 40000, clustered)
			x, ref := build(t, nil, nil, Options{TailSize: 200, blocks: 16, noScan: true})
			var liveIDs []int64
			next := int64(0)
			for round := range 12 {
				switch {
				case round%4 == 1: // a large batch: a segment of its own
					ids := make([]int64, 5000)
					hs := make([]pdq.Hash, 5000)
					for i := range ids {
						ids[i], hs[i] = next, pool[int(next)%len(pool)]
						next++
						_ = ref.Add(ids[i], hs[i])
					}
					if err := x.AddBatch(ids, hs); err != nil {
						t.Fatal(err)
					}
					liveIDs = append(liveIDs, ids...)
				default:
					for range 1500 {
						if len(liveIDs) > 0 && rng.IntN(3) == 0 {
							i := rng.IntN(len(liveIDs))
							id := liveIDs[i]
							liveIDs[i] = liveIDs[len(liveIDs)-1]
							liveIDs = liveIDs[:len(liveIDs)-1]
							if err := x.Remove(id); err != nil {
								t.Fatal(err)
							}
							_ = ref.Remove(id)
							continue
						}
						h := pool[int(next)%len(pool)]
						if err := x.Add(next, h); err != nil {
							t.Fatal(err)
						}
						_ = ref.Add(next, h)
						liveIDs = append(liveIDs, next)
						next++
					}
				}
				if round == 7 {
					x.Compact()
					if n := len(x.cur.Load().segs); n != 1 || len(x.cur.Load().tailIDs) != 0 {
						t.Fatalf("after Compact: %d segments, tail %d", n, len(x.cur.Load().tailIDs))
					}
				}
				if x.Len() != ref.Len() {
					t.Fatalf("round %d: Len %d, brute force %d", round, x.Len(), ref.Len())
				}
				for i, q := range queries(rng, pool[:int(min(next, int64(len(pool))))], 40) {
					r := thresholds[i%len(thresholds)]
					sameMatches(t, fmt.Sprintf("round %d r=%d", round, r), x.Search(q, r), ref.Search(q, r))
				}
			}
		})
	}
}

func TestReAddAfterRemove(t *testing.T) {
	x := NewPDQ(Options{TailSize: 8, blocks: 16, noScan: true})
	rng := rand.New(rand.NewPCG(5, 5))
	hs := dataset(rng, 3000, false)
	ids := make([]int64, len(hs))
	for i := range ids {
		ids[i] = int64(i)
	}
	if err := x.AddBatch(ids, hs); err != nil {
		t.Fatal(err)
	}
	// Entry 10 moves to a new hash under the same ID.
	if err := x.Remove(10); err != nil {
		t.Fatal(err)
	}
	moved := flip(rng, hs[10], 128)
	if err := x.Add(10, moved); err != nil {
		t.Fatal(err)
	}
	check := func(stage string) {
		if m := x.Search(hs[10], 0); len(m) != 0 {
			t.Fatalf("%s: old hash still matches: %v", stage, m)
		}
		if m := x.Search(moved, 0); len(m) != 1 || m[0].ID != 10 {
			t.Fatalf("%s: new hash: %v", stage, m)
		}
	}
	check("tail")
	x.Compact()
	check("compacted")
}

func TestSnapshotRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	hs := dataset(rng, 5000, true)
	ids := make([]int64, len(hs))
	for i := range ids {
		ids[i] = int64(len(hs) - i) // reverse order: ReadPDQ must sort
	}
	x, ref := build(t, ids, hs, Options{})
	for i := range 30 { // some in the tail, some removed
		id := int64(100000 + i)
		h := randHash(rng)
		_ = x.Add(id, h)
		_ = ref.Add(id, h)
	}
	for _, id := range []int64{1, 2, 100003} {
		_ = x.Remove(id)
		_ = ref.Remove(id)
	}
	var buf bytes.Buffer
	n, err := x.WriteTo(&buf)
	if err != nil || n != int64(buf.Len()) {
		t.Fatalf("WriteTo: %d %v (buffer %d)", n, err, buf.Len())
	}
	y, err := ReadPDQ(bytes.NewReader(buf.Bytes()), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if y.Len() != ref.Len() {
		t.Fatalf("Len %d, want %d", y.Len(), ref.Len())
	}
	for _, q := range queries(rng, hs, 20) {
		sameMatches(t, "snapshot", y.Search(q, 31), ref.Search(q, 31))
	}
	bad := slices.Clone(buf.Bytes())
	bad[20] ^= 1
	for name, b := range map[string][]byte{"flipped": bad, "truncated": buf.Bytes()[:buf.Len()-50], "empty": nil} {
		if _, err := ReadPDQ(bytes.NewReader(b), Options{}); !errors.Is(err, ErrBadSnapshot) {
			t.Errorf("%s snapshot: %v", name, err)
		}
	}
}

func TestChooseBlocks(t *testing.T) {
	for _, c := range []struct{ n, want int }{{1000, 0}, {10_000_000, 11}} {
		if got := chooseBlocks(c.n); got != c.want {
			t.Errorf("chooseBlocks(%d) = %d, want %d", c.n, got, c.want)
		}
	}
	// The refined pigeonhole plan covers the radius: sum of (radius+1) over
	// blocks exceeds r.
	for _, m := range []int{8, 11, 16, 24} {
		l := makeLayout(m)
		for r := 0; r <= 64; r++ {
			p, _ := makePlan(1<<20, l, r)
			sum := 0
			for _, rho := range p.radius {
				sum += int(rho) + 1
			}
			if sum <= r {
				t.Fatalf("m=%d r=%d: radii %v do not cover r", m, r, p.radius)
			}
		}
	}
}
