package index

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/vigil-hotline/vigil/internal/pdq"
)

// TestConcurrentMutationsAndSearches runs searches while other goroutines add
// and remove entries (and compactions run). Stable entries are never removed,
// so every search must find exactly the stable neighbours brute force finds,
// and whatever churning entry it returns must be at the right distance. At
// the end the index must equal brute force. Run it with -race.
func TestConcurrentMutationsAndSearches(t *testing.T) {
	const stableN, churnN = 4000, 3000
	rng := rand.New(rand.NewPCG(21, 22))
	hs := dataset(rng, stableN+churnN, true)
	stableIDs := make([]int64, stableN)
	for i := range stableIDs {
		stableIDs[i] = int64(i)
	}
	x, stable := build(t, stableIDs, hs[:stableN], Options{TailSize: 256, blocks: 24, noScan: true})
	hashOf := func(id int64) pdq.Hash { return hs[id] }

	var done atomic.Bool
	var writers, readers sync.WaitGroup
	final := make([]map[int64]bool, 2) // per writer: churn IDs live at the end
	for w := range 2 {
		writers.Add(1)
		go func() {
			defer writers.Done()
			wr := rand.New(rand.NewPCG(uint64(w), 99))
			liveSet := map[int64]bool{}
			// Writer w owns churn IDs of its parity.
			for op := range 1500 {
				id := int64(stableN + 2*wr.IntN(churnN/2) + w)
				if liveSet[id] {
					if err := x.Remove(id); err != nil {
						t.Error(err)
						return
					}
					delete(liveSet, id)
				} else {
					if err := x.Add(id, hashOf(id)); err != nil {
						t.Error(err)
						return
					}
					liveSet[id] = true
				}
				if op == 700 && w == 0 {
					x.Compact()
				}
			}
			final[w] = liveSet
		}()
	}
	var searches atomic.Int64
	for r := range 2 {
		readers.Add(1)
		go func() {
			defer readers.Done()
			rr := rand.New(rand.NewPCG(uint64(r), 7))
			for i := 0; !done.Load() || i < 50; i++ {
				q := flip(rr, hs[rr.IntN(len(hs))], rr.IntN(20))
				d := thresholds[i%len(thresholds)]
				var got []Match
				if i%5 == 0 {
					qs := []pdq.Hash{q, flip(rr, q, 40), randHash(rr)}
					got = x.SearchVariants(qs, d)
				} else {
					got = x.Search(q, d)
				}
				var want []Match
				if i%5 != 0 {
					want = stable.Search(q, d)
				}
				var gotStable []Match
				for _, m := range got {
					if m.ID < stableN {
						gotStable = append(gotStable, m)
					} else if i%5 != 0 && pdq.Distance(hashOf(m.ID), q) != m.Distance {
						t.Errorf("churn entry %d at distance %d, really %d", m.ID, m.Distance, pdq.Distance(hashOf(m.ID), q))
						return
					}
				}
				if i%5 != 0 && fmt.Sprint(gotStable) != fmt.Sprint(want) {
					t.Errorf("search %d (d=%d): stable matches %v, want %v", i, d, head(gotStable), head(want))
					return
				}
				searches.Add(1)
			}
		}()
	}
	writers.Wait()
	done.Store(true)
	readers.Wait()
	if t.Failed() {
		return
	}
	ref := NewBrute()
	for _, id := range stableIDs {
		_ = ref.Add(id, hashOf(id))
	}
	for _, set := range final {
		for id := range set {
			_ = ref.Add(id, hashOf(id))
		}
	}
	if x.Len() != ref.Len() {
		t.Fatalf("Len %d, want %d", x.Len(), ref.Len())
	}
	for i, q := range queries(rng, hs, 80) {
		d := thresholds[i%len(thresholds)]
		sameMatches(t, fmt.Sprintf("final d=%d", d), x.Search(q, d), ref.Search(q, d))
	}
	x.Compact()
	for i, q := range queries(rng, hs, 80) {
		d := thresholds[i%len(thresholds)]
		sameMatches(t, fmt.Sprintf("compacted d=%d", d), x.Search(q, d), ref.Search(q, d))
	}
	t.Logf("%d searches ran during the mutations", searches.Load())
}
