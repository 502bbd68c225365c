package jpeg

import (
	"image"
	"image/color"
)

// How a component's plane is brought to full resolution, as libjpeg's
// jinit_upsampler chooses (with fancy upsampling on, its default).
const (
	upFull      = iota // same size
	upH2Fancy          // 2:1 horizontally, triangular (h2v1_fancy_upsample)
	upV2Fancy          // 2:1 vertically, triangular (h1v2_fancy_upsample)
	upHV2Fancy         // 2:1 both ways, triangular (h2v2_fancy_upsample)
	upReplicate        // integral factors: each sample repeated
)

// upMode picks the upsampling of c. libjpeg uses the triangular filters
// only for planes wider than two samples (h2v1, h2v2), replicating
// otherwise, and refuses factors that are not integral.
func (d *Decoder) upMode(c *component) (mode, hf, vf int, err error) {
	if d.hmax%c.h != 0 || d.vmax%c.v != 0 {
		return 0, 0, 0, unsupported("fractional sampling %d×%d of %d×%d", c.h, c.v, d.hmax, d.vmax)
	}
	hf, vf = d.hmax/c.h, d.vmax/c.v
	switch {
	case hf == 1 && vf == 1:
		return upFull, 1, 1, nil
	case hf == 2 && vf == 1 && c.dw > 2:
		return upH2Fancy, 2, 1, nil
	case hf == 1 && vf == 2:
		return upV2Fancy, 1, 2, nil
	case hf == 2 && vf == 2 && c.dw > 2:
		return upHV2Fancy, 2, 2, nil
	}
	return upReplicate, hf, vf, nil
}

// sampledBuffers are the decoder's reusable output buffers.
type sampledBuffers struct {
	colsum []int32
	cols   [4]colTable
	rows   [4][]byte
	rgba   image.RGBA
	gray   image.Gray
	cmyk   image.CMYK
	modes  [4][3]int
}

// colTable says, for each output column, which plane samples make it.
type colTable struct {
	a, b []int32 // the nearer and the farther sample (equal when unused)
	odd  []int32 // 1 for an odd output column (the rounding bias differs)
}

func (t *colTable) prepare(xs []int, mode, hf, dw int) {
	n := len(xs)
	t.a = growInt32(t.a, n)
	t.b = growInt32(t.b, n)
	t.odd = growInt32(t.odd, n)
	for k, x := range xs {
		switch mode {
		case upH2Fancy, upHV2Fancy:
			i := x >> 1
			t.a[k] = int32(i)
			t.odd[k] = int32(x & 1)
			if x&1 == 1 {
				t.b[k] = int32(min(i+1, dw-1))
			} else {
				t.b[k] = int32(max(i-1, 0))
			}
		default:
			t.a[k] = int32(x / hf)
			t.b[k] = t.a[k]
		}
	}
}

func growInt32(b []int32, n int) []int32 {
	if cap(b) < n {
		return make([]int32, n)
	}
	return b[:n]
}

// prepare readies the column tables and row buffers for output columns xs.
func (d *Decoder) prepare(xs []int) error {
	s := &d.sampledBuf
	for i := 0; i < d.ncomp; i++ {
		c := &d.comps[i]
		mode, hf, vf, err := d.upMode(c)
		if err != nil {
			return err
		}
		s.modes[i] = [3]int{mode, hf, vf}
		s.cols[i].prepare(xs, mode, hf, c.dw)
		s.rows[i] = growBytes(s.rows[i], len(xs))
	}
	return nil
}

// upsampleRow fills s.rows[i] with component i's full-resolution samples
// at output row y and the prepared columns, with libjpeg's arithmetic.
func (d *Decoder) upsampleRow(i, y int) {
	s := &d.sampledBuf
	c := &d.comps[i]
	mode, vf := s.modes[i][0], s.modes[i][2]
	stride := c.bw * 8
	t := &s.cols[i]
	out := s.rows[i]
	switch mode {
	case upFull, upReplicate:
		row := c.plane[(y/vf)*stride:]
		for k, a := range t.a {
			out[k] = row[a]
		}
	case upH2Fancy:
		row := c.plane[y*stride:]
		bs, odd := t.b[:len(t.a)], t.odd[:len(t.a)]
		for k, a := range t.a {
			out[k] = byte((3*int32(row[a]) + int32(row[bs[k]]) + 1 + odd[k]) >> 2)
		}
	case upV2Fancy, upHV2Fancy:
		// The nearer row and the other neighbour: above for even output
		// rows, below for odd, repeating the edge rows.
		j := y >> 1
		near, bias := max(j-1, 0), int32(1)
		if y&1 == 1 {
			near, bias = min(j+1, c.dh-1), 2
		}
		r0, r1 := c.plane[j*stride:], c.plane[near*stride:]
		if mode == upV2Fancy {
			for k, a := range t.a {
				out[k] = byte((3*int32(r0[a]) + int32(r1[a]) + bias) >> 2)
			}
			return
		}
		bs, odd := t.b[:len(t.a)], t.odd[:len(t.a)]
		if c.dw <= 4*len(t.a) {
			// The column sums once per input column, as libjpeg does,
			// rather than twice per output pixel.
			s.colsum = growInt32(s.colsum, c.dw)
			cs := s.colsum
			for i := range cs {
				cs[i] = 3*int32(r0[i]) + int32(r1[i])
			}
			for k, a := range t.a {
				out[k] = byte((3*cs[a] + cs[bs[k]] + 8 - odd[k]) >> 4)
			}
			return
		}
		for k, a := range t.a {
			b := bs[k]
			ca := 3*int32(r0[a]) + int32(r1[a])
			cb := 3*int32(r0[b]) + int32(r1[b])
			out[k] = byte((3*ca + cb + 8 - odd[k]) >> 4)
		}
	}
}

// libjpeg's YCbCr→RGB tables (jdcolor.c build_ycc_rgb_table): 16-bit
// fixed point, R and B rounded in the table, G rounded after the sum.
var crR, cbB, crG, cbG = func() (rr, bb, rg, bg [256]int32) {
	const half = 1 << 15
	for i := range 256 {
		x := int32(i) - 128
		rr[i] = (91881*x + half) >> 16  // FIX(1.40200)
		bb[i] = (116130*x + half) >> 16 // FIX(1.77200)
		rg[i] = -46802 * x              // FIX(0.71414)
		bg[i] = -22554*x + half         // FIX(0.34414)
	}
	return
}()

func clamp255(x int32) byte {
	if uint32(x) > 255 {
		if x < 0 {
			return 0
		}
		return 255
	}
	return byte(x)
}

// Image returns the whole image: *image.Gray for greyscale, opaque
// *image.RGBA for YCbCr and RGB, *image.CMYK for CMYK and YCCK (inverted
// back when an Adobe marker says it is stored inverted), as the libjpeg
// build returns them. The image is newly allocated.
func (d *Decoder) Image() (image.Image, error) {
	xs := make([]int, d.width)
	for i := range xs {
		xs[i] = i
	}
	ys := make([]int, d.height)
	for i := range ys {
		ys[i] = i
	}
	return d.render(xs, ys, nil)
}

// Sampled returns the image made of the pixels (xs[i], ys[j]), of size
// len(xs)×len(ys), of the same type as Image's. Only those pixels are
// upsampled and converted. The image is the decoder's own, valid until
// its next use.
func (d *Decoder) Sampled(xs, ys []int) (image.Image, error) {
	return d.render(xs, ys, &d.sampledBuf)
}

func (d *Decoder) render(xs, ys []int, reuse *sampledBuffers) (image.Image, error) {
	if err := d.prepare(xs); err != nil {
		return nil, err
	}
	w, h := len(xs), len(ys)
	r := image.Rect(0, 0, w, h)
	var pix []byte
	var img image.Image
	switch d.cs {
	case Gray:
		m := &image.Gray{}
		if reuse != nil {
			m = &reuse.gray
		}
		m.Pix, m.Stride, m.Rect = growBytes(m.Pix, w*h), w, r
		img, pix = m, m.Pix
	case CMYK, YCCK:
		m := &image.CMYK{}
		if reuse != nil {
			m = &reuse.cmyk
		}
		m.Pix, m.Stride, m.Rect = growBytes(m.Pix, 4*w*h), 4*w, r
		img, pix = m, m.Pix
	default:
		m := &image.RGBA{}
		if reuse != nil {
			m = &reuse.rgba
		}
		m.Pix, m.Stride, m.Rect = growBytes(m.Pix, 4*w*h), 4*w, r
		img, pix = m, m.Pix
	}
	for j, y := range ys {
		d.upsampleRows(y)
		d.rowRGBA(pix[j*len(pix)/h : (j+1)*len(pix)/h])
	}
	return img, nil
}

func (d *Decoder) upsampleRows(y int) {
	for i := 0; i < d.ncomp; i++ {
		d.upsampleRow(i, y)
	}
}

// rowRGBA converts the upsampled rows into out: grey, RGBA or CMYK bytes.
func (d *Decoder) rowRGBA(out []byte) {
	s := &d.sampledBuf
	switch d.cs {
	case Gray:
		copy(out, s.rows[0])
	case YCbCr:
		yr := s.rows[0]
		cbr, crr := s.rows[1][:len(yr)], s.rows[2][:len(yr)]
		out = out[:4*len(yr)]
		for k := range yr {
			yy, cb, cr := int32(yr[k]), cbr[k], crr[k]
			p := out[4*k : 4*k+4 : 4*k+4]
			p[0] = clamp255(yy + crR[cr])
			p[1] = clamp255(yy + (cbG[cb]+crG[cr])>>16)
			p[2] = clamp255(yy + cbB[cb])
			p[3] = 0xff
		}
	case RGB:
		for k := range s.rows[0] {
			out[4*k], out[4*k+1], out[4*k+2], out[4*k+3] = s.rows[0][k], s.rows[1][k], s.rows[2][k], 0xff
		}
	case CMYK, YCCK:
		for k := range s.rows[0] {
			c0, c1, c2, c3 := d.cmykAt(k)
			out[4*k], out[4*k+1], out[4*k+2], out[4*k+3] = c0, c1, c2, c3
		}
	}
}

// cmykAt gives the CMYK of column k of the upsampled rows, as the libjpeg
// build stores it (un-inverted for Adobe files).
func (d *Decoder) cmykAt(k int) (c0, c1, c2, c3 byte) {
	s := &d.sampledBuf
	c0, c1, c2, c3 = s.rows[0][k], s.rows[1][k], s.rows[2][k], s.rows[3][k]
	if d.cs == YCCK {
		yy := int32(c0)
		c0, c1, c2 = 255-clamp255(yy+crR[c2]), 255-clamp255(yy+(cbG[c1]+crG[c2])>>16), 255-clamp255(yy+cbB[c1])
	}
	if d.adobe {
		c0, c1, c2, c3 = 255-c0, 255-c1, 255-c2, 255-c3
	}
	return
}

// SampledLuma writes into dst (len(xs)×len(ys), row-major) the luma of the
// pixels (xs[i], ys[j]) as PDQ computes it: the grey value for greyscale,
// (tab[0][R] + tab[1][G]) + tab[2][B] for colour (CMYK through
// color.CMYKToRGB, as image.CMYK reads). It is Sampled followed by PDQ's
// luma without the image in between. grey reports that the image has
// colour components but every pixel written had R = G = B.
func (d *Decoder) SampledLuma(xs, ys []int, dst []float32, tab *[3][256]float32) (grey bool, err error) {
	if err := d.prepare(xs); err != nil {
		return false, err
	}
	w := len(xs)
	s := &d.sampledBuf
	var diff byte
	for j, y := range ys {
		d.upsampleRows(y)
		out := dst[j*w : (j+1)*w : (j+1)*w]
		switch d.cs {
		case Gray:
			for k, v := range s.rows[0][:w] {
				out[k] = float32(v)
			}
		case YCbCr:
			yr, cbr, crr := s.rows[0][:w], s.rows[1][:w], s.rows[2][:w]
			for k := range out {
				yy, cb, cr := int32(yr[k]), cbr[k], crr[k]
				r := clamp255(yy + crR[cr])
				g := clamp255(yy + (cbG[cb]+crG[cr])>>16)
				b := clamp255(yy + cbB[cb])
				diff |= (r ^ g) | (g ^ b)
				out[k] = (tab[0][r] + tab[1][g]) + tab[2][b]
			}
		case RGB:
			rr, gr, br := s.rows[0][:w], s.rows[1][:w], s.rows[2][:w]
			for k := range out {
				r, g, b := rr[k], gr[k], br[k]
				diff |= (r ^ g) | (g ^ b)
				out[k] = (tab[0][r] + tab[1][g]) + tab[2][b]
			}
		case CMYK, YCCK:
			for k := range out {
				r, g, b := color.CMYKToRGB(d.cmykAt(k))
				diff |= (r ^ g) | (g ^ b)
				out[k] = (tab[0][r] + tab[1][g]) + tab[2][b]
			}
		}
	}
	return d.cs != Gray && diff == 0, nil
}
