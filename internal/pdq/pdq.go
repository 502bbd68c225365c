package pdq

import (
	"image"
	"sync"
)

// The eight dihedral transforms, as indices into the array that the
// Dihedral functions return. The order is the reference's.
const (
	Original   = iota // the image as it is
	Rotate90          // rotated 90° anticlockwise
	Rotate180         // rotated 180°
	Rotate270         // rotated 270° anticlockwise
	FlipX             // mirrored top to bottom
	FlipY             // mirrored left to right
	FlipPlus1         // transposed (mirrored about the main diagonal)
	FlipMinus1        // mirrored about the anti-diagonal
)

// DihedralNames names the transforms in index order, as the reference
// CLI's --pdqdih output does.
var DihedralNames = [8]string{"orig", "rot90", "rot180", "rot270", "flipx", "flipy", "flipp", "flipm"}

// MinDim is the smallest width and height that get a hash. Smaller images
// give the zero hash with quality 0, as in the reference.
const MinDim = 5

// ReduceTo is the size that images wider or taller than it are resampled
// to (nearest neighbour, both axes, aspect ratio not kept) before hashing,
// as the reference CLI does to bound the cost of the tent filter.
const ReduceTo = 512

// state holds the buffers of one hash computation. Pooled: a 512×512 image
// needs two 1 MiB float buffers, which are worth reusing.
type state struct {
	buf1, buf2 []float32
	sums       []float32
	a          [64 * 64]float32
	t          [16 * 64]float32
	b          [256]float32
}

var statePool = sync.Pool{New: func() any { return new(state) }}

func getState(n, cols int) *state {
	s := statePool.Get().(*state)
	s.buf1 = grow(s.buf1, n)
	s.ensure(n, cols)
	return s
}

// ensure sizes buf2 and sums for an n-sample plane with cols columns. buf2
// also holds the rows×64 output of the second row filter.
func (s *state) ensure(n, cols int) {
	s.buf2 = grow(s.buf2, max(n, n/cols*64))
	s.sums = grow(s.sums, 4*cols)
}

func grow(b []float32, n int) []float32 {
	if cap(b) < n {
		return make([]float32, n)
	}
	return b[:n]
}

func putState(s *state) {
	// Don't keep buffers for unusually large luma planes alive in the pool.
	if cap(s.buf1) > ReduceTo*ReduceTo {
		s.buf1, s.buf2 = nil, nil
	}
	statePool.Put(s)
}

// downsample blurs s.buf1 (rows×cols) with the tent filter and decimates it
// into s.a. copy64 makes an exactly 64×64 input skip the filter, which the
// reference's plain hash does and its dihedral hash does not.
func (s *state) downsample(rows, cols int, copy64 bool) {
	if copy64 && rows == 64 && cols == 64 {
		copy(s.a[:], s.buf1)
		return
	}
	wr, wc := windowSize(cols), windowSize(rows)
	// First round in full.
	boxRows(s.buf1, s.buf2, rows, cols, wr)
	boxCols(s.buf2, s.buf1, s.sums[:cols], rows, cols, wc)
	// Second round only where the decimation samples (see jarosz.go).
	var cx, ry [64]int
	sampleIndices(cols, &cx)
	sampleIndices(rows, &ry)
	boxRowsAt(s.buf1, s.buf2[:rows*64], s.sums, rows, cols, wr, &cx)
	boxColsAt(s.buf2[:rows*64], &s.a, rows, wc, &ry)
}

// FromLuma computes the PDQ hash and quality of a luma plane (width×height,
// row-major, values 0…255), exactly as the reference's
// pdqHash256FromFloatLuma does: no reduction to 512 is applied here (use
// FromImage for the whole reference pipeline). luma is not modified. Images
// under MinDim in either dimension give the zero hash and quality 0. It
// panics if len(luma) < width*height.
func FromLuma(luma []float32, width, height int) (Hash, int) {
	if width < MinDim || height < MinDim {
		return Hash{}, 0
	}
	n := width * height
	s := getState(n, width)
	defer putState(s)
	copy(s.buf1, luma[:n])
	s.downsample(height, width, true)
	q := quality(&s.a)
	dct64To16(&s.a, &s.t, &s.b)
	return bitsFromDCT(&s.b), q
}

// DihedralFromLuma computes the hashes of the eight rotations and flips of
// a luma plane from one DCT, in the order Original … FlipMinus1, and the
// quality. Like the reference, this path always applies the tent filter, so
// for an input of exactly 64×64 the Original hash can differ in rounding
// from FromLuma's.
func DihedralFromLuma(luma []float32, width, height int) ([8]Hash, int) {
	if width < MinDim || height < MinDim {
		return [8]Hash{}, 0
	}
	n := width * height
	s := getState(n, width)
	defer putState(s)
	copy(s.buf1, luma[:n])
	s.downsample(height, width, false)
	q := quality(&s.a)
	dct64To16(&s.a, &s.t, &s.b)
	return dihedralFromDCT(&s.b), q
}

// FromImage runs the reference CLI's pipeline on decoded pixels: reduce to
// 512×512 when larger, take luma (see Luma for how colours are read), and
// hash. It is safe for concurrent use.
func FromImage(img image.Image) (Hash, int) {
	s, w, h, ok := lumaState(img)
	if !ok {
		return Hash{}, 0
	}
	defer putState(s)
	s.downsample(h, w, true)
	q := quality(&s.a)
	dct64To16(&s.a, &s.t, &s.b)
	return bitsFromDCT(&s.b), q
}

// FromImageDihedral is FromImage for the eight dihedral hashes, in the order
// Original … FlipMinus1. Its Original equals FromImage's hash except, in
// rounding, for images of exactly 64×64 (see DihedralFromLuma).
func FromImageDihedral(img image.Image) ([8]Hash, int) {
	s, w, h, ok := lumaState(img)
	if !ok {
		return [8]Hash{}, 0
	}
	defer putState(s)
	s.downsample(h, w, false)
	q := quality(&s.a)
	dct64To16(&s.a, &s.t, &s.b)
	return dihedralFromDCT(&s.b), q
}

// lumaState fills pooled state with the image's luma; ok is false (and no
// state is held) for images under MinDim.
func lumaState(img image.Image) (s *state, w, h int, ok bool) {
	b := img.Bounds()
	if b.Dx() < MinDim || b.Dy() < MinDim {
		return nil, 0, 0, false
	}
	s = statePool.Get().(*state)
	s.buf1, w, h = Luma(img, s.buf1)
	s.ensure(w*h, w)
	return s, w, h, true
}
