package pdq

import (
	"image"
	"image/color"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// The reference's constants are C++ floats initialised from double literals
// (decimal → double → float); Go rounds decimal → float32 directly. They
// must agree.
func TestConstantsRoundLikeTheReference(t *testing.T) {
	for _, c := range []struct {
		got  float32
		want float64
	}{{lumaR, 0.299}, {lumaG, 0.587}, {lumaB, 0.114}} {
		if c.got != float32(c.want) {
			t.Errorf("%v: float32 %v, via float64 %v", c.want, c.got, float32(c.want))
		}
	}
}

// TestDCTMatrixRobust checks that no DCT matrix entry lies so near a float32
// rounding boundary that a last-bit difference between Go's math.Cos and
// the C library's cos could round it differently.
func TestDCTMatrixRobust(t *testing.T) {
	scale := float64(float32(math.Sqrt(2.0 / 64.0)))
	for i := 0; i < 16; i++ {
		for j := 0; j < 64; j++ {
			v := scale * math.Cos((math.Pi/2.0/64.0)*float64(i+1)*float64(2*j+1))
			lo := float64(float32(v * (1 - 1e-14)))
			hi := float64(float32(v * (1 + 1e-14)))
			if lo != hi {
				t.Errorf("D[%d][%d] = %v is within 1e-14 of a float32 rounding boundary", i, j, v)
			}
		}
	}
}

func TestTorbenIsLowerMedian(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for n := 0; n < 200; n++ {
		v := make([]float32, 256)
		for i := range v {
			switch n % 3 {
			case 0:
				v[i] = float32(rng.NormFloat64())
			case 1:
				v[i] = float32(rng.IntN(7)) // many ties
			default:
				v[i] = float32(rng.Float64()*1e-6 - 5e-7)
			}
		}
		s := slices.Clone(v)
		slices.Sort(s)
		if got := torben(v); got != s[127] {
			t.Fatalf("case %d: torben %v, sorted[127] %v", n, got, s[127])
		}
	}
}

func TestYCbCrToRGBMatchesStdlib(t *testing.T) {
	for y := 0; y < 256; y++ {
		for cb := 0; cb < 256; cb++ {
			for cr := 0; cr < 256; cr += 3 {
				r, g, b := yCbCrToRGB(uint8(y), uint8(cb), uint8(cr))
				r2, g2, b2 := color.YCbCrToRGB(uint8(y), uint8(cb), uint8(cr))
				if r != r2 || g != g2 || b != b2 {
					t.Fatalf("%d,%d,%d: %d,%d,%d want %d,%d,%d", y, cb, cr, r, g, b, r2, g2, b2)
				}
			}
		}
	}
}

// TestLumaYCbCrMatchesAt checks the fast YCbCr path against the generic
// one, for every subsampling and an odd origin.
func TestLumaYCbCrMatchesAt(t *testing.T) {
	ratios := []image.YCbCrSubsampleRatio{
		image.YCbCrSubsampleRatio444, image.YCbCrSubsampleRatio422, image.YCbCrSubsampleRatio420,
		image.YCbCrSubsampleRatio440, image.YCbCrSubsampleRatio411, image.YCbCrSubsampleRatio410,
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for _, ratio := range ratios {
		for _, r := range []image.Rectangle{image.Rect(3, 5, 40, 29), image.Rect(-7, 1, 700, 530)} {
			m := image.NewYCbCr(r, ratio)
			for _, p := range [][]uint8{m.Y, m.Cb, m.Cr} {
				for i := range p {
					p[i] = uint8(rng.IntN(256))
				}
			}
			fast, w, h := Luma(m, nil)
			slow := make([]float32, w*h)
			lumaGeneric(genericImage{m}, scaleIdx(w, r.Dx()), scaleIdx(h, r.Dy()), slow)
			if !slices.Equal(fast, slow) {
				t.Errorf("%v %v: fast YCbCr luma differs from At()", ratio, r)
			}
		}
	}
}

// genericImage hides the concrete type so that Luma takes its generic path.
type genericImage struct{ image.Image }

func scaleIdx(n, src int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i * src / n
	}
	return s
}

func TestReduceTo512NearestNeighbour(t *testing.T) {
	// Each pixel's grey value encodes its column, so the output shows which
	// source column was taken.
	m := image.NewGray(image.Rect(0, 0, 1000, 600))
	for y := 0; y < 600; y++ {
		for x := 0; x < 1000; x++ {
			m.Pix[y*m.Stride+x] = uint8((x + 3*y) % 256)
		}
	}
	luma, w, h := Luma(m, nil)
	if w != 512 || h != 512 {
		t.Fatalf("size %d×%d", w, h)
	}
	for _, p := range [][2]int{{0, 0}, {1, 1}, {511, 511}, {300, 7}} {
		sx, sy := p[0]*1000/512, p[1]*600/512
		if got, want := luma[p[1]*512+p[0]], float32((sx+3*sy)%256); got != want {
			t.Errorf("(%d,%d): %v, want source (%d,%d) = %v", p[0], p[1], got, sx, sy, want)
		}
	}
}

func TestGreyColourImageIsReadAsGrey(t *testing.T) {
	// 15 is one of the values where the RGB formula gives 15.000001.
	m := image.NewNRGBA(image.Rect(0, 0, 8, 8))
	for i := 0; i < len(m.Pix); i += 4 {
		m.Pix[i], m.Pix[i+1], m.Pix[i+2], m.Pix[i+3] = 15, 15, 15, 255
	}
	luma, _, _ := Luma(m, nil)
	if luma[0] != 15 {
		t.Errorf("grey RGB pixel gave %v, want 15 exactly", luma[0])
	}
	m.Pix[4*9+2] = 16 // one coloured pixel: the RGB formula applies
	luma, _, _ = Luma(m, nil)
	if luma[0] == 15 {
		t.Errorf("colour image took the grey path")
	}
}

func TestTinyImages(t *testing.T) {
	for _, s := range []int{1, 4} {
		m := image.NewGray(image.Rect(0, 0, s, s))
		if h, q := FromImage(m); !h.IsZero() || q != 0 {
			t.Errorf("%d×%d: %v %d, want zero hash and quality 0", s, s, h, q)
		}
		if d, q := FromImageDihedral(m); d != [8]Hash{} || q != 0 {
			t.Errorf("%d×%d dihedral: not zero", s, s)
		}
	}
	// 5×4 is still too small; 5×5 is hashed.
	if h, _ := FromImage(image.NewGray(image.Rect(0, 0, 5, 4))); !h.IsZero() {
		t.Error("5×4 hashed")
	}
	m := image.NewGray(image.Rect(0, 0, 5, 5))
	for i := range m.Pix {
		m.Pix[i] = uint8(i * 37)
	}
	if h, _ := FromImage(m); h.IsZero() {
		t.Error("5×5 not hashed")
	}
}

// TestDihedralMatchesTransformedPixels hashes the eight transformed copies
// of an image and compares them with the dihedral hashes of the original.
func TestDihedralMatchesTransformedPixels(t *testing.T) {
	// 320 = 64·5: the decimation grid (odd multiple) and the box window
	// (3, odd) are both mirror-symmetric, so only rounding can differ.
	const n = 320
	src := make([]float32, n*n)
	for y := 0; y < n; y++ {
		for x := 0; x < n; x++ {
			// Smooth content: the decimation grid is not mirror-symmetric,
			// so pixel noise would differ between transformed copies.
			src[y*n+x] = float32(128 + 60*math.Sin(float64(x)/31) + 50*math.Cos(float64(y*x)/3000) + 20*math.Sin(float64(x+2*y)/47))
		}
	}
	// Source pixel for output (x, y) of each transform, in the reference's order.
	tf := []func(x, y int) (int, int){
		func(x, y int) (int, int) { return x, y },
		func(x, y int) (int, int) { return n - 1 - y, x },         // rot90
		func(x, y int) (int, int) { return n - 1 - x, n - 1 - y }, // rot180
		func(x, y int) (int, int) { return y, n - 1 - x },         // rot270
		func(x, y int) (int, int) { return x, n - 1 - y },         // flipx
		func(x, y int) (int, int) { return n - 1 - x, y },         // flipy
		func(x, y int) (int, int) { return y, x },                 // transpose
		func(x, y int) (int, int) { return n - 1 - y, n - 1 - x }, // anti-transpose
	}
	dih, _ := DihedralFromLuma(src, n, n)
	for i, f := range tf {
		dst := make([]float32, n*n)
		for y := 0; y < n; y++ {
			for x := 0; x < n; x++ {
				sx, sy := f(x, y)
				dst[y*n+x] = src[sy*n+sx]
			}
		}
		h, _ := FromLuma(dst, n, n)
		if d := Distance(h, dih[i]); d > 8 {
			t.Errorf("%s: distance %d between hash of transformed pixels and dihedral hash", DihedralNames[i], d)
		}
	}
	if h, _ := FromLuma(src, n, n); h != dih[Original] {
		t.Error("dihedral original differs from plain hash")
	}
}

func TestFromLumaDoesNotModifyInput(t *testing.T) {
	l := make([]float32, 100*80)
	for i := range l {
		l[i] = float32(i % 251)
	}
	c := slices.Clone(l)
	FromLuma(l, 100, 80)
	DihedralFromLuma(l, 100, 80)
	if !slices.Equal(l, c) {
		t.Error("input modified")
	}
}

func TestConcurrentUse(t *testing.T) {
	m := photoYCbCr()
	want, wq := FromImage(m)
	done := make(chan bool)
	for g := 0; g < 4; g++ {
		go func() {
			ok := true
			for i := 0; i < 5; i++ {
				h, q := FromImage(m)
				ok = ok && h == want && q == wq
			}
			done <- ok
		}()
	}
	for g := 0; g < 4; g++ {
		if !<-done {
			t.Error("concurrent hashes differ")
		}
	}
}
