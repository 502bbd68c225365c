package index

import (
	"math/rand/v2"

	"github.com/vigil-hotline/vigil/internal/pdq"
)

func randHash(rng *rand.Rand) pdq.Hash {
	return pdq.Hash{rng.Uint64(), rng.Uint64(), rng.Uint64(), rng.Uint64()}
}

// flip flips k distinct random bits.
func flip(rng *rand.Rand, h pdq.Hash, k int) pdq.Hash {
	for _, b := range rng.Perm(256)[:k] {
		h[b>>6] ^= 1 << (b & 63)
	}
	return h
}
