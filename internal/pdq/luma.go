package pdq

import (
	"image"
	"image/color"
)

// Luma coefficients, rounded to float32 as the reference's constants are.
const (
	lumaR float32 = 0.299
	lumaG float32 = 0.587
	lumaB float32 = 0.114
)

// lut[c][v] is coefficient c times v in float32: the reference's products,
// looked up instead of multiplied.
var lut = func() (t [3][256]float32) {
	for v := 0; v < 256; v++ {
		f := float32(v)
		t[0][v] = lumaR * f
		t[1][v] = lumaG * f
		t[2][v] = lumaB * f
	}
	return t
}()

// rgbLuma is 0.299R + 0.587G + 0.114B in float32, summed left to right.
func rgbLuma(r, g, b uint8) float32 {
	return (lut[0][r] + lut[1][g]) + lut[2][b]
}

// Luma returns the luma plane that the reference would hash for img,
// reusing dst's storage when it is large enough, and its size.
//
//   - An image wider or taller than 512 is first resampled to exactly
//     512×512 by nearest neighbour: output (x, y) takes source pixel
//     (floor(x·W/512), floor(y·H/512)). Only those pixels are read.
//   - Colour pixels give 0.299R + 0.587G + 0.114B in float32, left to right.
//     Grey pixel types give the grey value itself. A colour image whose
//     pixels are all grey (R = G = B everywhere) is treated as grey, because
//     the reference's decoder (ImageMagick writing PNM) hands such images
//     over as greyscale; the two differ in the last bit for some values.
//   - Alpha is ignored: non-premultiplied colour is read as it is, and
//     premultiplied colour (image.RGBA, image.RGBA64) is un-premultiplied
//     where alpha is neither 0 nor opaque.
//   - 16-bit samples are reduced to their high byte (the reference CLI keeps
//     the low byte, which is a bug that this port does not copy).
//   - YCbCr is converted with color.YCbCrToRGB; chroma is taken from the
//     sample that covers the pixel, as image.YCbCr.At does.
func Luma(img image.Image, dst []float32) (luma []float32, width, height int) {
	b := img.Bounds()
	sw, sh := b.Dx(), b.Dy()
	width, height = sw, sh
	if sw > ReduceTo || sh > ReduceTo {
		width, height = ReduceTo, ReduceTo
	}
	luma = grow(dst, width*height)
	xs := make([]int, width)
	for x := range xs {
		xs[x] = x * sw / width
	}
	ys := make([]int, height)
	for y := range ys {
		ys[y] = y * sh / height
	}
	sampled := width != sw || height != sh

	switch m := img.(type) {
	case *image.Gray:
		for y, sy := range ys {
			row := m.Pix[sy*m.Stride:]
			out := luma[y*width : (y+1)*width]
			for x, sx := range xs {
				out[x] = float32(row[sx])
			}
		}
		return luma, width, height
	case *image.Gray16:
		for y, sy := range ys {
			row := m.Pix[sy*m.Stride:]
			out := luma[y*width : (y+1)*width]
			for x, sx := range xs {
				out[x] = float32(row[2*sx])
			}
		}
		return luma, width, height
	case *image.RGBA:
		if lumaRGBA(m, xs, ys, luma) {
			return luma, width, height
		}
	case *image.YCbCr:
		if lumaYCbCr(m, xs, ys, luma) {
			return luma, width, height
		}
	case *image.NYCbCrA:
		if lumaYCbCr(&m.YCbCr, xs, ys, luma) {
			return luma, width, height
		}
	default:
		if lumaGeneric(img, xs, ys, luma) {
			return luma, width, height
		}
	}
	// Every pixel read was grey. Unless pixels were skipped and one of those
	// has colour, the reference sees a greyscale image.
	if sampled && !allGrey(img) {
		return luma, width, height
	}
	px := pixelReader(img)
	for y, sy := range ys {
		out := luma[y*width : (y+1)*width]
		for x, sx := range xs {
			_, g, _ := px(sx, sy)
			out[x] = float32(g)
		}
	}
	return luma, width, height
}

// chromaDiv gives the horizontal and vertical chroma subsampling factors.
func chromaDiv(r image.YCbCrSubsampleRatio) (dx, dy int) {
	switch r {
	case image.YCbCrSubsampleRatio422:
		return 2, 1
	case image.YCbCrSubsampleRatio420:
		return 2, 2
	case image.YCbCrSubsampleRatio440:
		return 1, 2
	case image.YCbCrSubsampleRatio411:
		return 4, 1
	case image.YCbCrSubsampleRatio410:
		return 4, 2
	}
	return 1, 1
}

// lumaYCbCr fills luma from the pixels at xs × ys (relative to the bounds)
// and reports whether any of them had colour.
func lumaYCbCr(m *image.YCbCr, xs, ys []int, luma []float32) (colour bool) {
	dx, dy := chromaDiv(m.SubsampleRatio)
	minX, minY := m.Rect.Min.X, m.Rect.Min.Y
	// Offsets as image.YCbCr's YOffset and COffset compute them.
	cx := make([]int, len(xs))
	for i, sx := range xs {
		cx[i] = (sx+minX)/dx - minX/dx
	}
	width := len(xs)
	var diff uint8 // any bit set: some pixel had R ≠ G or G ≠ B
	for y, sy := range ys {
		yrow := m.Y[sy*m.YStride:]
		coff := ((sy+minY)/dy - minY/dy) * m.CStride
		cbrow, crrow := m.Cb[coff:], m.Cr[coff:]
		out := luma[y*width : (y+1)*width]
		for x, sx := range xs {
			// color.YCbCrToRGB, written out with its products tabulated.
			c := cx[x]
			cb, cr := cbrow[c], crrow[c]
			yy := yTab[yrow[sx]]
			r := yy + crR[cr]
			if uint32(r)&0xff000000 == 0 {
				r >>= 16
			} else {
				r = ^(r >> 31)
			}
			g := yy + cbG[cb] + crG[cr]
			if uint32(g)&0xff000000 == 0 {
				g >>= 16
			} else {
				g = ^(g >> 31)
			}
			b := yy + cbB[cb]
			if uint32(b)&0xff000000 == 0 {
				b >>= 16
			} else {
				b = ^(b >> 31)
			}
			r8, g8, b8 := uint8(r), uint8(g), uint8(b)
			diff |= (r8 ^ g8) | (g8 ^ b8)
			out[x] = (lut[0][r8] + lut[1][g8]) + lut[2][b8]
		}
	}
	return diff != 0
}

// The terms of color.YCbCrToRGB's fixed-point formula, by input byte.
var yTab, crR, cbG, crG, cbB = func() (y, rr, bg, rg, bb [256]int32) {
	for i := range 256 {
		v := int32(i) - 128
		y[i] = int32(i) * 0x10101
		rr[i] = 91881 * v
		bg[i] = -22554 * v
		rg[i] = -46802 * v
		bb[i] = 116130 * v
	}
	return
}()

// yCbCrToRGB is color.YCbCrToRGB written out so that it inlines in the hot
// loop; a test checks the two agree on every input.
func yCbCrToRGB(y, cb, cr uint8) (uint8, uint8, uint8) {
	yy1 := int32(y) * 0x10101
	cb1 := int32(cb) - 128
	cr1 := int32(cr) - 128
	r := yy1 + 91881*cr1
	if uint32(r)&0xff000000 == 0 {
		r >>= 16
	} else {
		r = ^(r >> 31)
	}
	g := yy1 - 22554*cb1 - 46802*cr1
	if uint32(g)&0xff000000 == 0 {
		g >>= 16
	} else {
		g = ^(g >> 31)
	}
	b := yy1 + 116130*cb1
	if uint32(b)&0xff000000 == 0 {
		b >>= 16
	} else {
		b = ^(b >> 31)
	}
	return uint8(r), uint8(g), uint8(b)
}

// lumaRGBA is the fast path for opaque RGBA (as the cgo JPEG decoder
// gives); it falls back to lumaGeneric when any pixel read is translucent.
func lumaRGBA(m *image.RGBA, xs, ys []int, luma []float32) (colour bool) {
	width := len(xs)
	var diff uint8
	for y, sy := range ys {
		row := m.Pix[sy*m.Stride:]
		out := luma[y*width : (y+1)*width]
		for x, sx := range xs {
			p := row[4*sx : 4*sx+4 : 4*sx+4]
			if p[3] != 0xff {
				return lumaGeneric(m, xs, ys, luma)
			}
			diff |= (p[0] ^ p[1]) | (p[1] ^ p[2])
			out[x] = (lut[0][p[0]] + lut[1][p[1]]) + lut[2][p[2]]
		}
	}
	return diff != 0
}

// lumaGeneric fills luma for any other image type through pixelReader and
// reports whether any pixel read had colour.
func lumaGeneric(img image.Image, xs, ys []int, luma []float32) (colour bool) {
	px := pixelReader(img)
	width := len(xs)
	var diff uint8
	for y, sy := range ys {
		out := luma[y*width : (y+1)*width]
		for x, sx := range xs {
			r, g, b := px(sx, sy)
			diff |= (r ^ g) | (g ^ b)
			out[x] = rgbLuma(r, g, b)
		}
	}
	return diff != 0
}

// allGrey reports whether every pixel of img has R = G = B.
func allGrey(img image.Image) bool {
	b := img.Bounds()
	px := pixelReader(img)
	for y := 0; y < b.Dy(); y++ {
		for x := 0; x < b.Dx(); x++ {
			r, g, bb := px(x, y)
			if r != g || g != bb {
				return false
			}
		}
	}
	return true
}

// pixelReader returns a function giving the 8-bit R, G, B of the pixel at
// (x, y) relative to the bounds' minimum, alpha ignored.
func pixelReader(img image.Image) func(x, y int) (r, g, b uint8) {
	switch m := img.(type) {
	case *image.Gray:
		return func(x, y int) (uint8, uint8, uint8) {
			v := m.Pix[y*m.Stride+x]
			return v, v, v
		}
	case *image.Gray16:
		return func(x, y int) (uint8, uint8, uint8) {
			v := m.Pix[y*m.Stride+2*x]
			return v, v, v
		}
	case *image.NRGBA:
		return func(x, y int) (uint8, uint8, uint8) {
			p := m.Pix[y*m.Stride+4*x:]
			return p[0], p[1], p[2]
		}
	case *image.NRGBA64:
		return func(x, y int) (uint8, uint8, uint8) {
			p := m.Pix[y*m.Stride+8*x:]
			return p[0], p[2], p[4]
		}
	case *image.RGBA:
		return func(x, y int) (uint8, uint8, uint8) {
			p := m.Pix[y*m.Stride+4*x:]
			if a := p[3]; a != 0xff && a != 0 {
				return unpremultiply(color.RGBA{p[0], p[1], p[2], a})
			}
			return p[0], p[1], p[2]
		}
	case *image.RGBA64:
		return func(x, y int) (uint8, uint8, uint8) {
			p := m.Pix[y*m.Stride+8*x:]
			if a := uint16(p[6])<<8 | uint16(p[7]); a != 0xffff && a != 0 {
				c := color.NRGBA64Model.Convert(m.RGBA64At(m.Rect.Min.X+x, m.Rect.Min.Y+y)).(color.NRGBA64)
				return uint8(c.R >> 8), uint8(c.G >> 8), uint8(c.B >> 8)
			}
			return p[0], p[2], p[4]
		}
	case *image.CMYK:
		return func(x, y int) (uint8, uint8, uint8) {
			p := m.Pix[y*m.Stride+4*x:]
			return color.CMYKToRGB(p[0], p[1], p[2], p[3])
		}
	case *image.YCbCr:
		return ycbcrReader(m)
	case *image.NYCbCrA:
		return ycbcrReader(&m.YCbCr)
	case *image.Paletted:
		var pal [256][3]uint8 // indices past the palette read as black
		for i, c := range m.Palette {
			if i == 256 {
				break
			}
			r, g, b := colorRGB(c)
			pal[i] = [3]uint8{r, g, b}
		}
		return func(x, y int) (uint8, uint8, uint8) {
			p := pal[m.Pix[y*m.Stride+x]]
			return p[0], p[1], p[2]
		}
	}
	min := img.Bounds().Min
	return func(x, y int) (uint8, uint8, uint8) {
		return colorRGB(img.At(min.X+x, min.Y+y))
	}
}

func ycbcrReader(m *image.YCbCr) func(x, y int) (uint8, uint8, uint8) {
	min := m.Rect.Min
	return func(x, y int) (uint8, uint8, uint8) {
		ax, ay := min.X+x, min.Y+y
		ci := m.COffset(ax, ay)
		return yCbCrToRGB(m.Y[m.YOffset(ax, ay)], m.Cb[ci], m.Cr[ci])
	}
}

// colorRGB gives a colour's 8-bit R, G, B with alpha ignored.
func colorRGB(c color.Color) (uint8, uint8, uint8) {
	switch c := c.(type) {
	case color.NRGBA:
		return c.R, c.G, c.B
	case color.RGBA:
		if c.A != 0xff && c.A != 0 {
			return unpremultiply(c)
		}
		return c.R, c.G, c.B
	case color.Gray:
		return c.Y, c.Y, c.Y
	case color.YCbCr:
		return yCbCrToRGB(c.Y, c.Cb, c.Cr)
	case nil:
		return 0, 0, 0
	}
	n := color.NRGBA64Model.Convert(c).(color.NRGBA64)
	return uint8(n.R >> 8), uint8(n.G >> 8), uint8(n.B >> 8)
}

func unpremultiply(c color.RGBA) (uint8, uint8, uint8) {
	n := color.NRGBAModel.Convert(c).(color.NRGBA)
	return n.R, n.G, n.B
}
