package pdq

// The Jarosz tent filter: two rounds of a 1-D box filter along rows and then
// along columns, each the running-sum filter of the reference with its four
// phases (accumulate, write with a growing window, write with the full
// window, write with a shrinking window). Float32 results depend on the
// exact order of additions and subtractions, so each output keeps the
// reference's sequence; only the order in which independent rows or columns
// are visited differs, for speed.

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
func decimate(in []float32, rows, cols int, out *[64 * 64]float32) {
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
