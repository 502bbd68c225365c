// Package pdq computes PDQ perceptual hashes (Meta's 256-bit image hash) as
// the ThreatExchange reference does, from decoded pixels. It does no I/O.
package pdq

import (
	"encoding/hex"
	"errors"
	"fmt"
	"math/bits"
)

// Hash is a 256-bit PDQ hash. Word i holds bits 64*i … 64*i+63, so that the
// reference's hex form (one 256-bit big-endian integer, 64 hex digits) is
// words 3, 2, 1, 0 printed in that order. Bit k = 16*row + col is set when DCT
// coefficient (row, col) is above the median.
type Hash [4]uint64

// ErrBadHex is returned by ParseHex for anything but 64 hex digits.
var ErrBadHex = errors.New("pdq: a hash is 64 hexadecimal digits")

// ParseHex parses the reference's 64-hex-digit form, in either case.
func ParseHex(s string) (Hash, error) {
	var h Hash
	if len(s) != 64 {
		return h, ErrBadHex
	}
	var b [32]byte
	if _, err := hex.Decode(b[:], []byte(s)); err != nil {
		return h, ErrBadHex
	}
	for i := 0; i < 4; i++ {
		var w uint64
		for _, c := range b[(3-i)*8 : (3-i)*8+8] {
			w = w<<8 | uint64(c)
		}
		h[i] = w
	}
	return h, nil
}

// String returns the reference's 64-hex-digit lower-case form.
func (h Hash) String() string {
	return fmt.Sprintf("%016x%016x%016x%016x", h[3], h[2], h[1], h[0])
}

// Bit reports whether bit k (0 … 255) is set.
func (h Hash) Bit(k int) bool { return h[k>>6]>>(uint(k)&63)&1 == 1 }

// Distance is the Hamming distance between two hashes (0 … 256).
func Distance(a, b Hash) int {
	return bits.OnesCount64(a[0]^b[0]) + bits.OnesCount64(a[1]^b[1]) +
		bits.OnesCount64(a[2]^b[2]) + bits.OnesCount64(a[3]^b[3])
}

// IsZero reports whether every bit is clear: the reference's "no hash".
func (h Hash) IsZero() bool { return h == Hash{} }
