package pdq

import (
	"math/rand/v2"
	"testing"
)

// The tent filter as first written (two full passes, then decimation),
// kept here as the reference that the faster version must match bit for bit.

// windowSize is the box width for reducing dim samples to 64: ceil(dim/128).
func oldwindowSize(dim int) int { return (dim + 2*64 - 1) / (2 * 64) }

// boxPhases returns the repetition counts of the four phases.
func oldboxPhases(n, w int) (p1, p2, p3, p4 int) {
	half := (w + 2) / 2
	return half - 1, w - half + 1, n - w, half - 1
}

// boxRows filters each row of in (rows×cols) into out. Four rows run in
// lockstep so that their independent sums overlap in the pipeline.
func oldboxRows(in, out []float32, rows, cols, w int) {
	p1, p2, p3, p4 := oldboxPhases(cols, w)
	r := 0
	for ; r+4 <= rows; r += 4 {
		i0 := in[(r+0)*cols : (r+1)*cols : (r+1)*cols]
		i1 := in[(r+1)*cols : (r+2)*cols : (r+2)*cols]
		i2 := in[(r+2)*cols : (r+3)*cols : (r+3)*cols]
		i3 := in[(r+3)*cols : (r+4)*cols : (r+4)*cols]
		o0 := out[(r+0)*cols : (r+1)*cols : (r+1)*cols]
		o1 := out[(r+1)*cols : (r+2)*cols : (r+2)*cols]
		o2 := out[(r+2)*cols : (r+3)*cols : (r+3)*cols]
		o3 := out[(r+3)*cols : (r+4)*cols : (r+4)*cols]
		var s0, s1, s2, s3 float32
		ri, li, oi, cur := 0, 0, 0, 0
		for k := 0; k < p1; k++ {
			s0 += i0[ri]
			s1 += i1[ri]
			s2 += i2[ri]
			s3 += i3[ri]
			ri++
			cur++
		}
		for k := 0; k < p2; k++ {
			s0 += i0[ri]
			s1 += i1[ri]
			s2 += i2[ri]
			s3 += i3[ri]
			cur++
			n := float32(cur)
			o0[oi], o1[oi], o2[oi], o3[oi] = s0/n, s1/n, s2/n, s3/n
			ri++
			oi++
		}
		n := float32(cur)
		for k := 0; k < p3; k++ {
			s0 += i0[ri]
			s1 += i1[ri]
			s2 += i2[ri]
			s3 += i3[ri]
			s0 -= i0[li]
			s1 -= i1[li]
			s2 -= i2[li]
			s3 -= i3[li]
			o0[oi], o1[oi], o2[oi], o3[oi] = s0/n, s1/n, s2/n, s3/n
			ri++
			li++
			oi++
		}
		for k := 0; k < p4; k++ {
			s0 -= i0[li]
			s1 -= i1[li]
			s2 -= i2[li]
			s3 -= i3[li]
			cur--
			n := float32(cur)
			o0[oi], o1[oi], o2[oi], o3[oi] = s0/n, s1/n, s2/n, s3/n
			li++
			oi++
		}
	}
	for ; r < rows; r++ {
		oldbox1D(in[r*cols:(r+1)*cols], out[r*cols:(r+1)*cols], p1, p2, p3, p4)
	}
}

// box1D is the single-vector filter, for the rows left over by boxRows.
func oldbox1D(in, out []float32, p1, p2, p3, p4 int) {
	var s float32
	ri, li, oi, cur := 0, 0, 0, 0
	for k := 0; k < p1; k++ {
		s += in[ri]
		ri++
		cur++
	}
	for k := 0; k < p2; k++ {
		s += in[ri]
		cur++
		out[oi] = s / float32(cur)
		ri++
		oi++
	}
	for k := 0; k < p3; k++ {
		s += in[ri]
		s -= in[li]
		out[oi] = s / float32(cur)
		ri++
		li++
		oi++
	}
	for k := 0; k < p4; k++ {
		s -= in[li]
		cur--
		out[oi] = s / float32(cur)
		li++
		oi++
	}
}

// boxCols filters each column of in (rows×cols) into out, walking all columns
// together row by row so that memory is read in order. sums has len ≥ cols.
func oldboxCols(in, out, sums []float32, rows, cols, w int) {
	p1, p2, p3, p4 := oldboxPhases(rows, w)
	s := sums[:cols:cols]
	clear(s)
	ri, li, oi, cur := 0, 0, 0, 0
	for k := 0; k < p1; k++ {
		src := in[ri*cols : ri*cols+cols : ri*cols+cols]
		for c := range s {
			s[c] += src[c]
		}
		ri++
		cur++
	}
	for k := 0; k < p2; k++ {
		src := in[ri*cols : ri*cols+cols : ri*cols+cols]
		dst := out[oi*cols : oi*cols+cols : oi*cols+cols]
		cur++
		n := float32(cur)
		for c := range s {
			v := s[c] + src[c]
			s[c] = v
			dst[c] = v / n
		}
		ri++
		oi++
	}
	n := float32(cur)
	for k := 0; k < p3; k++ {
		add := in[ri*cols : ri*cols+cols : ri*cols+cols]
		sub := in[li*cols : li*cols+cols : li*cols+cols]
		dst := out[oi*cols : oi*cols+cols : oi*cols+cols]
		for c := range s {
			v := s[c] + add[c]
			v -= sub[c]
			s[c] = v
			dst[c] = v / n
		}
		ri++
		li++
		oi++
	}
	for k := 0; k < p4; k++ {
		sub := in[li*cols : li*cols+cols : li*cols+cols]
		dst := out[oi*cols : oi*cols+cols : oi*cols+cols]
		cur--
		n := float32(cur)
		for c := range s {
			v := s[c] - sub[c]
			s[c] = v
			dst[c] = v / n
		}
		li++
		oi++
	}
}

// decimate samples the filtered image at the centres of a 64×64 grid:
// index floor((i+0.5)·dim/64), computed in float64 as the reference does.
func olddecimate(in []float32, rows, cols int, out *[64 * 64]float32) {
	var cx [64]int
	for j := range cx {
		cx[j] = int(((float64(j) + 0.5) * float64(cols)) / 64)
	}
	for i := 0; i < 64; i++ {
		ri := int(((float64(i) + 0.5) * float64(rows)) / 64)
		row := in[ri*cols : ri*cols+cols]
		for j, c := range cx {
			out[i*64+j] = row[c]
		}
	}
}

func oldDownsample(buf1 []float32, rows, cols int) (a [64 * 64]float32) {
	buf2 := make([]float32, len(buf1))
	sums := make([]float32, cols)
	wr, wc := oldwindowSize(cols), oldwindowSize(rows)
	for pass := 0; pass < 2; pass++ {
		oldboxRows(buf1, buf2, rows, cols, wr)
		oldboxCols(buf2, buf1, sums, rows, cols, wc)
	}
	olddecimate(buf1, rows, cols, &a)
	return a
}

func TestDownsampleMatchesFullFilter(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	sizes := [][2]int{{5, 5}, {5, 9}, {7, 63}, {63, 64}, {64, 64}, {65, 64}, {100, 37}, {127, 128},
		{128, 129}, {256, 256}, {300, 500}, {384, 512}, {512, 512}, {511, 509}, {640, 480}, {1024, 768}}
	for i := 0; i < 20; i++ {
		sizes = append(sizes, [2]int{5 + r.IntN(700), 5 + r.IntN(700)})
	}
	for _, sz := range sizes {
		w, h := sz[0], sz[1]
		luma := make([]float32, w*h)
		for kind := 0; kind < 3; kind++ {
			for i := range luma {
				switch kind {
				case 0: // bytes, as from images
					luma[i] = float32(r.IntN(256))
				case 1: // smooth with grain
					luma[i] = float32(i%w*255/w+i/w*7%50) + float32(r.IntN(9))
				case 2: // arbitrary floats
					luma[i] = float32(r.NormFloat64() * 1e3)
				}
			}
			want := oldDownsample(append([]float32(nil), luma...), h, w)
			s := getState(w*h, w)
			copy(s.buf1, luma)
			s.downsample(h, w, false)
			if s.a != want {
				t.Errorf("%d×%d kind %d: downsample differs from the full filter", w, h, kind)
			}
			putState(s)
		}
	}
}
