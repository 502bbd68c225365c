package pdq

// The Jarosz tent filter: two rounds of a 1-D box filter along rows and then
// along columns, each the running-sum filter of the reference with its four
// phases (accumulate, write with a growing window, write with the full
// window, write with a shrinking window). Float32 results depend on the
// exact order of additions and subtractions, so each output keeps the
// reference's sequence; only the order in which independent rows or columns
// are visited differs, for speed.
//
// Two shortcuts keep the results bit-identical:
//
//   - Only 64 rows and 64 columns of the final output are sampled, so the
//     second round computes just those: its row filter still runs every
//     sum (each later sum depends on all earlier ones) but divides only at
//     the 64 sampled columns, and its column filter runs on those 64
//     columns alone and divides only at the 64 sampled rows.
//   - Where the window length n is a power of two (the common case: 4 for a
//     512-pixel side), s/n is computed as s·(1/n). 1/n is then exact, so
//     the product is the correctly rounded value of the same real number as
//     the quotient, and the two are equal, subnormals included.

// windowSize is the box width for reducing dim samples to 64: ceil(dim/128).
func windowSize(dim int) int { return (dim + 2*64 - 1) / (2 * 64) }

// boxPhases returns the repetition counts of the four phases.
func boxPhases(n, w int) (p1, p2, p3, p4 int) {
	half := (w + 2) / 2
	return half - 1, w - half + 1, n - w, half - 1
}

// boxRows filters each row of in (rows×cols) into out. Four rows run in
// lockstep so that their independent sums overlap in the pipeline.
func boxRows(in, out []float32, rows, cols, w int) {
	p1, p2, p3, p4 := boxPhases(cols, w)
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
		if inv, ok := exactInverse(cur); ok {
			for k := 0; k < p3; k++ {
				s0 += i0[ri]
				s1 += i1[ri]
				s2 += i2[ri]
				s3 += i3[ri]
				s0 -= i0[li]
				s1 -= i1[li]
				s2 -= i2[li]
				s3 -= i3[li]
				o0[oi], o1[oi], o2[oi], o3[oi] = s0*inv, s1*inv, s2*inv, s3*inv
				ri++
				li++
				oi++
			}
		} else {
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
		box1D(in[r*cols:(r+1)*cols], out[r*cols:(r+1)*cols], p1, p2, p3, p4)
	}
}

// box1D is the single-vector filter, for the rows left over by boxRows.
func box1D(in, out []float32, p1, p2, p3, p4 int) {
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
func boxCols(in, out, sums []float32, rows, cols, w int) {
	p1, p2, p3, p4 := boxPhases(rows, w)
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
	inv, pow2 := exactInverse(cur)
	for k := 0; k < p3; k++ {
		add := in[ri*cols : ri*cols+cols : ri*cols+cols]
		sub := in[li*cols : li*cols+cols : li*cols+cols]
		dst := out[oi*cols : oi*cols+cols : oi*cols+cols]
		if pow2 {
			for c := range s {
				v := s[c] + add[c]
				v -= sub[c]
				s[c] = v
				dst[c] = v * inv
			}
		} else {
			for c := range s {
				v := s[c] + add[c]
				v -= sub[c]
				s[c] = v
				dst[c] = v / n
			}
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

// exactInverse returns 1/n when it is exact in float32 (n a power of two),
// so that multiplying by it gives the same result as dividing by n.
func exactInverse(n int) (float32, bool) {
	if n <= 0 || n&(n-1) != 0 {
		return 0, false
	}
	return 1 / float32(n), true
}

// sampleIndices gives the 64 positions, along a side of dim samples, at
// which the filtered image is sampled: floor((i+0.5)·dim/64), computed in
// float64 as the reference does.
func sampleIndices(dim int, idx *[64]int) {
	for i := range idx {
		idx[i] = int(((float64(i) + 0.5) * float64(dim)) / 64)
	}
}

// boxRowsAt is boxRows computing only the outputs at the columns cx, into
// out (rows×64): every running sum is formed in the reference's order, but
// only the sampled ones are divided and stored. tmp has len ≥ 4·cols.
func boxRowsAt(in, out, tmp []float32, rows, cols, w int, cx *[64]int) {
	p1, p2, p3, p4 := boxPhases(cols, w)
	// div[j] is the window length of output cx[j].
	var div [64]float32
	for j, c := range cx {
		switch {
		case c < p2:
			div[j] = float32(p1 + 1 + c)
		case c < p2+p3:
			div[j] = float32(w)
		default:
			div[j] = float32(w - 1 - (c - p2 - p3))
		}
	}
	t0 := tmp[0*cols : 1*cols : 1*cols]
	t1 := tmp[1*cols : 2*cols : 2*cols]
	t2 := tmp[2*cols : 3*cols : 3*cols]
	t3 := tmp[3*cols : 4*cols : 4*cols]
	r := 0
	for ; r+4 <= rows; r += 4 {
		i0 := in[(r+0)*cols : (r+1)*cols : (r+1)*cols]
		i1 := in[(r+1)*cols : (r+2)*cols : (r+2)*cols]
		i2 := in[(r+2)*cols : (r+3)*cols : (r+3)*cols]
		i3 := in[(r+3)*cols : (r+4)*cols : (r+4)*cols]
		var s0, s1, s2, s3 float32
		ri, li, oi := 0, 0, 0
		for k := 0; k < p1; k++ {
			s0 += i0[ri]
			s1 += i1[ri]
			s2 += i2[ri]
			s3 += i3[ri]
			ri++
		}
		for k := 0; k < p2; k++ {
			s0 += i0[ri]
			s1 += i1[ri]
			s2 += i2[ri]
			s3 += i3[ri]
			t0[oi], t1[oi], t2[oi], t3[oi] = s0, s1, s2, s3
			ri++
			oi++
		}
		for k := 0; k < p3; k++ {
			s0 += i0[ri]
			s1 += i1[ri]
			s2 += i2[ri]
			s3 += i3[ri]
			s0 -= i0[li]
			s1 -= i1[li]
			s2 -= i2[li]
			s3 -= i3[li]
			t0[oi], t1[oi], t2[oi], t3[oi] = s0, s1, s2, s3
			ri++
			li++
			oi++
		}
		for k := 0; k < p4; k++ {
			s0 -= i0[li]
			s1 -= i1[li]
			s2 -= i2[li]
			s3 -= i3[li]
			t0[oi], t1[oi], t2[oi], t3[oi] = s0, s1, s2, s3
			li++
			oi++
		}
		o := out[r*64 : r*64+4*64 : r*64+4*64]
		for j, c := range cx {
			n := div[j]
			o[j], o[64+j], o[128+j], o[192+j] = t0[c]/n, t1[c]/n, t2[c]/n, t3[c]/n
		}
	}
	for ; r < rows; r++ {
		var s float32
		ri, li, oi := 0, 0, 0
		for k := 0; k < p1; k++ {
			s += in[r*cols+ri]
			ri++
		}
		for k := 0; k < p2; k++ {
			s += in[r*cols+ri]
			t0[oi] = s
			ri++
			oi++
		}
		for k := 0; k < p3; k++ {
			s += in[r*cols+ri]
			s -= in[r*cols+li]
			t0[oi] = s
			ri++
			li++
			oi++
		}
		for k := 0; k < p4; k++ {
			s -= in[r*cols+li]
			t0[oi] = s
			li++
			oi++
		}
		for j, c := range cx {
			out[r*64+j] = t0[c] / div[j]
		}
	}
}

// boxColsAt is boxCols over a rows×64 input, writing only the output rows
// ry (non-decreasing) into out.
func boxColsAt(in []float32, out *[64 * 64]float32, rows, w int, ry *[64]int) {
	p1, p2, p3, p4 := boxPhases(rows, w)
	var s [64]float32
	next := 0
	// emit writes output row oi wherever it is sampled.
	emit := func(oi, cur int) {
		for next < 64 && ry[next] == oi {
			n := float32(cur)
			dst := (*[64]float32)(out[next*64 : next*64+64])
			for c := range s {
				dst[c] = s[c] / n
			}
			next++
		}
	}
	ri, li, oi, cur := 0, 0, 0, 0
	for k := 0; k < p1; k++ {
		src := (*[64]float32)(in[ri*64 : ri*64+64])
		for c := range s {
			s[c] += src[c]
		}
		ri++
		cur++
	}
	for k := 0; k < p2; k++ {
		src := (*[64]float32)(in[ri*64 : ri*64+64])
		for c := range s {
			s[c] += src[c]
		}
		cur++
		emit(oi, cur)
		ri++
		oi++
	}
	for k := 0; k < p3; k++ {
		add := (*[64]float32)(in[ri*64 : ri*64+64])
		sub := (*[64]float32)(in[li*64 : li*64+64])
		for c := range s {
			v := s[c] + add[c]
			v -= sub[c]
			s[c] = v
		}
		emit(oi, cur)
		ri++
		li++
		oi++
	}
	for k := 0; k < p4; k++ {
		sub := (*[64]float32)(in[li*64 : li*64+64])
		for c := range s {
			s[c] -= sub[c]
		}
		cur--
		emit(oi, cur)
		li++
		oi++
	}
}
