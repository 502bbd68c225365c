package index

import (
	"math"

	"github.com/vigil-hotline/vigil/internal/pdq"
)

// Cost model, in nanoseconds, used to pick the number of blocks of a segment
// and, per query radius, whether to probe the tables or scan. The figures were
// measured on the project's 2-core EPYC at 10M entries; only their ratios
// matter.
const (
	costProbe     = 25.0 // one directory lookup (a random cache miss, overlapped)
	costCandidate = 25.0 // one slot read and one hash read and compare
	costScan      = 2.8  // one hash compared in a sequential scan
	designRadius  = 31   // the field's standard PDQ threshold, what layouts are tuned for
	maxBlockBits  = 30
	// tableBudget caps slots plus directories at this many bytes per entry,
	// or tableFloor bytes in all, so that small segments get tables too.
	tableBudget = 90
	tableFloor  = 4 << 20
	maxBlocks   = 32
)

// layout splits the 256 bits into contiguous blocks; the first 256%m blocks
// get one bit more.
type layout struct {
	starts []uint16
	widths []uint8
}

func makeLayout(m int) layout {
	l := layout{starts: make([]uint16, m), widths: make([]uint8, m)}
	base, extra := 256/m, 256%m
	pos := 0
	for i := 0; i < m; i++ {
		w := base
		if i < extra {
			w++
		}
		l.starts[i] = uint16(pos)
		l.widths[i] = uint8(w)
		pos += w
	}
	return l
}

// plan says how a segment answers one radius: a scan, or a probe radius per
// block (-1: the block is not probed).
type plan struct {
	scan   bool
	probes float64 // directory lookups per query
	radius []int8
}

// binom[n][k] for n <= 32.
var binom = func() [33][33]float64 {
	var c [33][33]float64
	for n := 0; n <= 32; n++ {
		c[n][0] = 1
		for k := 1; k <= n; k++ {
			c[n][k] = c[n-1][k-1] + c[n-1][k]
		}
	}
	return c
}()

// probesAt is the number of keys within radius rho of a w-bit key.
func probesAt(w, rho int) float64 {
	if rho < 0 {
		return 0
	}
	if rho > w {
		rho = w
	}
	s := 0.0
	for k := 0; k <= rho; k++ {
		s += binom[w][k]
	}
	return s
}

// blockCost estimates probing one w-bit block at radius rho over n entries
// spread evenly over the keys (the uniform case; near-duplicates add true
// matches, which any method must pay for).
func blockCost(n, w, rho int) float64 {
	p := probesAt(w, rho)
	return p*costProbe + p*float64(n)/math.Exp2(float64(w))*costCandidate
}

// makePlan applies the refined pigeonhole principle: with r = m*s + a, a hash
// within r of the query agrees to within s bits with it on one of any a+1
// chosen blocks, or to within s-1 bits on one of the others. It picks the a+1
// blocks where radius s costs least over radius s-1, and compares the total
// with a scan.
func makePlan(n int, l layout, r int) (plan, float64) {
	m := len(l.widths)
	p := plan{radius: make([]int8, m)}
	if r < 0 {
		for i := range p.radius {
			p.radius[i] = -1
		}
		return p, 0
	}
	s, a := r/m, r%m
	type pick struct {
		i     int
		delta float64
	}
	total := 0.0
	picks := make([]pick, m)
	for i, w := range l.widths {
		lo := blockCost(n, int(w), s-1)
		total += lo
		picks[i] = pick{i, blockCost(n, int(w), s) - lo}
	}
	// Selection of the a+1 cheapest increments (m is small).
	for k := 0; k <= a; k++ {
		best := k
		for j := k + 1; j < m; j++ {
			if picks[j].delta < picks[best].delta {
				best = j
			}
		}
		picks[k], picks[best] = picks[best], picks[k]
		total += picks[k].delta
	}
	for k, pk := range picks {
		rho := s - 1
		if k <= a {
			rho = s
		}
		if rho > int(l.widths[pk.i]) {
			rho = int(l.widths[pk.i])
		}
		p.radius[pk.i] = int8(rho)
		p.probes += probesAt(int(l.widths[pk.i]), rho)
	}
	scan := float64(n) * costScan
	if s >= 8 || total >= scan {
		// Radius 8 per block means hundreds of thousands of probes: never
		// worth it, and it keeps the radius within int8 range.
		p.scan = true
		return p, scan
	}
	return p, total
}

// chooseBlocks picks the number of tables for a segment of n entries: the
// cheapest at the design radius among layouts within the memory budget.
// Zero means "no tables, always scan".
func chooseBlocks(n int) int {
	if n < 2048 {
		return 0
	}
	best, bestCost := 0, float64(n)*costScan
	for m := 256/maxBlockBits + 1; m <= maxBlocks; m++ {
		l := makeLayout(m)
		if mem := dirBytes(l) + float64(4*m*n); mem > max(float64(n)*tableBudget, tableFloor) {
			continue
		}
		if _, c := makePlan(n, l, designRadius); c < bestCost*0.98 {
			best, bestCost = m, c
		}
	}
	return best
}

func dirBytes(l layout) float64 {
	b := 0.0
	for _, w := range l.widths {
		b += math.Ceil(math.Exp2(float64(w))/groupKeys) * 16
	}
	return b
}

// blockKey extracts bits start … start+w-1 of h (w <= 32).
func blockKey(h *pdq.Hash, start, w uint) uint32 {
	wi, off := start>>6, start&63
	v := h[wi] >> off
	if off+w > 64 {
		v |= h[wi+1] << (64 - off)
	}
	return uint32(v & (1<<w - 1))
}
