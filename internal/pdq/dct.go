package pdq

import "math"

// dctMatrix holds rows 1…16 of the 64-point DCT-II, scaled by sqrt(2/64),
// as the reference builds it: the scale is rounded to float32 first, the
// cosine is taken in float64 and the product is rounded to float32. Row i,
// column j is at dctMatrix[i*64+j].
var dctMatrix = func() (d [16 * 64]float32) {
	scale := float32(math.Sqrt(2.0 / 64.0))
	for i := 0; i < 16; i++ {
		for j := 0; j < 64; j++ {
			// Evaluated left to right in float64, as the reference does.
			arg := (math.Pi / 2.0 / 64.0) * float64(i+1) * float64(2*j+1)
			d[i*64+j] = float32(float64(scale) * math.Cos(arg))
		}
	}
	return d
}()

// dct64To16 computes B = D·A·Dᵀ for the 64×64 block a, keeping output
// coefficients 1…16 in each direction. Both products are accumulated in
// float32 strictly in the order k = 0…63; the float32 conversions around each
// product keep the compiler from fusing multiply and add (which Go permits on
// some architectures), so every platform rounds as the reference does on
// x86-64.
func dct64To16(a *[64 * 64]float32, t *[16 * 64]float32, b *[256]float32) {
	for i := 0; i < 16; i++ {
		d := (*[64]float32)(dctMatrix[i*64 : i*64+64])
		row := (*[64]float32)(t[i*64 : i*64+64])
		// Four columns at once: independent sums, identical per-column order.
		for j := 0; j < 64; j += 4 {
			var s0, s1, s2, s3 float32
			for k := 0; k < 64; k++ {
				dk := d[k]
				p := a[k*64+j : k*64+j+4 : k*64+j+4]
				s0 += float32(dk * p[0])
				s1 += float32(dk * p[1])
				s2 += float32(dk * p[2])
				s3 += float32(dk * p[3])
			}
			row[j], row[j+1], row[j+2], row[j+3] = s0, s1, s2, s3
		}
	}
	for i := 0; i < 16; i++ {
		ti := (*[64]float32)(t[i*64 : i*64+64])
		for j := 0; j < 16; j++ {
			d := (*[64]float32)(dctMatrix[j*64 : j*64+64])
			var s float32
			for k := 0; k < 64; k++ {
				s += float32(ti[k] * d[k])
			}
			b[i*16+j] = s
		}
	}
}

// torben returns the lower median of v (for 256 values, the 128th smallest)
// by Torben Mogensen's method, which the reference uses. It never reorders
// or copies v. The result is always one of the values.
func torben(v []float32) float32 {
	n := len(v)
	half := (n + 1) / 2
	lo, hi := v[0], v[0]
	for _, x := range v[1:] {
		if x < lo {
			lo = x
		}
		if x > hi {
			hi = x
		}
	}
	var less, greater, equal int
	var guess, maxBelow, minAbove float32
	for {
		guess = (lo + hi) / 2
		less, greater, equal = 0, 0, 0
		maxBelow, minAbove = lo, hi
		for _, x := range v {
			switch {
			case x < guess:
				less++
				if x > maxBelow {
					maxBelow = x
				}
			case x > guess:
				greater++
				if x < minAbove {
					minAbove = x
				}
			default:
				equal++
			}
		}
		if less <= half && greater <= half {
			break
		}
		if less > greater {
			hi = maxBelow
		} else {
			lo = minAbove
		}
	}
	switch {
	case less >= half:
		return maxBelow
	case less+equal >= half:
		return guess
	default:
		return minAbove
	}
}

// bitsFromDCT sets bit 16*i+j when coefficient (i, j) is strictly above the
// median of all 256.
func bitsFromDCT(b *[256]float32) Hash {
	m := torben(b[:])
	var h Hash
	for k, x := range b {
		if x > m {
			h[k>>6] |= 1 << (uint(k) & 63)
		}
	}
	return h
}

// quality is the reference's image-domain quality metric over the 64×64
// downsample: the sum of |trunc((u−v)·100/255)| over all horizontal and
// vertical neighbours, divided by 90 and capped at 100.
func quality(a *[64 * 64]float32) int {
	sum := 0
	grad := func(u, v float32) int {
		// float32 arithmetic, truncated toward zero like a C int conversion.
		d := int32(float32(float32(u-v)*100) / 255)
		if d < 0 {
			d = -d
		}
		return int(d)
	}
	for i := 0; i < 63; i++ {
		for j := 0; j < 64; j++ {
			sum += grad(a[i*64+j], a[(i+1)*64+j])
		}
	}
	for i := 0; i < 64; i++ {
		for j := 0; j < 63; j++ {
			sum += grad(a[i*64+j], a[i*64+j+1])
		}
	}
	q := sum / 90
	if q > 100 {
		q = 100
	}
	return q
}

// dihedralFromDCT derives the DCT of each of the eight rotations and flips of
// the image from the original's, by transposing and negating odd-frequency
// terms (a mirror image negates every odd-index cosine), then thresholds
// each. Order: original, rot90, rot180, rot270, flipx, flipy, flip+1
// (transpose), flip−1 (anti-transpose), as the reference.
func dihedralFromDCT(b *[256]float32) [8]Hash {
	var out [8]Hash
	var t [256]float32
	out[0] = bitsFromDCT(b)
	for d := 1; d < 8; d++ {
		for i := 0; i < 16; i++ {
			for j := 0; j < 16; j++ {
				x := b[i*16+j]
				// Negate where the mirrored axis has an even index here:
				// index i holds frequency i+1, so even i is an odd frequency.
				var neg, transpose bool
				switch d {
				case Rotate90:
					neg, transpose = j&1 == 0, true
				case Rotate180:
					neg = (i+j)&1 == 1
				case Rotate270:
					neg, transpose = i&1 == 0, true
				case FlipX:
					neg = i&1 == 0
				case FlipY:
					neg = j&1 == 0
				case FlipPlus1:
					transpose = true
				case FlipMinus1:
					neg, transpose = (i+j)&1 == 1, true
				}
				if neg {
					x = -x
				}
				if transpose {
					t[j*16+i] = x
				} else {
					t[i*16+j] = x
				}
			}
		}
		out[d] = bitsFromDCT(&t)
	}
	return out
}
