package index

import (
	"math/rand/v2"
	"os"
	"strconv"
	"sync"
	"testing"

	"github.com/vigil-hotline/vigil/internal/pdq"
)

// benchN is the index size for the benchmarks: VIGIL_BENCH_N, default 1M.
func benchN() int {
	if n, err := strconv.Atoi(os.Getenv("VIGIL_BENCH_N")); err == nil && n > 0 {
		return n
	}
	return 1_000_000
}

var benchIdx struct {
	once   sync.Once
	x      *PDQ
	hashes []pdq.Hash
	qs     []pdq.Hash
}

func benchIndex(b *testing.B) (*PDQ, []pdq.Hash) {
	benchIdx.once.Do(func() {
		n := benchN()
		rng := rand.New(rand.NewPCG(1, 2))
		m, _ := strconv.Atoi(os.Getenv("VIGIL_BENCH_M"))
		bl := NewBuilder(n, Options{blocks: m})
		benchIdx.hashes = make([]pdq.Hash, n)
		for i := range n {
			h := randHash(rng)
			benchIdx.hashes[i] = h
			bl.Add(int64(i), h)
		}
		x, err := bl.Build()
		if err != nil {
			b.Fatal(err)
		}
		benchIdx.x = x
		benchIdx.qs = make([]pdq.Hash, 4096)
		for i := range benchIdx.qs {
			if i%2 == 0 {
				benchIdx.qs[i] = flip(rng, benchIdx.hashes[rng.IntN(n)], rng.IntN(25))
			} else {
				benchIdx.qs[i] = randHash(rng)
			}
		}
	})
	return benchIdx.x, benchIdx.qs
}

func BenchmarkSearchUniform31(b *testing.B) {
	x, qs := benchIndex(b)
	for i := 0; b.Loop(); i++ {
		x.Search(qs[i%len(qs)], 31)
	}
}

func BenchmarkSearchUniform16(b *testing.B) {
	x, qs := benchIndex(b)
	for i := 0; b.Loop(); i++ {
		x.Search(qs[i%len(qs)], 16)
	}
}

func BenchmarkSearchDihedral31(b *testing.B) {
	x, qs := benchIndex(b)
	for i := 0; b.Loop(); i++ {
		j := (i * 8) % (len(qs) - 8)
		x.SearchVariants(qs[j:j+8], 31)
	}
}

func BenchmarkSearchUniform64(b *testing.B) {
	x, qs := benchIndex(b)
	for i := 0; b.Loop(); i++ {
		x.Search(qs[i%len(qs)], 64)
	}
}
