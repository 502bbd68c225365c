package simnet

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"math"
	"math/rand/v2"
	"net/url"
	"path"
	"strconv"
	"strings"
	"sync"

	xdraw "golang.org/x/image/draw"
)

// Variant says how a generated picture is served: the same seed in another
// format, JPEG quality or width is the same picture to a perceptual hash, a
// different file to SHA-256.
type Variant struct {
	Format  string // "jpeg" (default), "png" or "gif"
	Quality int    // JPEG quality, 1..100; 0: 85
	Width   int    // resized to this width, keeping the aspect; 0: original
}

func (v Variant) normal() Variant {
	switch v.Format {
	case "", "jpg":
		v.Format = "jpeg"
	}
	if v.Format == "jpeg" && v.Quality <= 0 {
		v.Quality = 85
	}
	if v.Format != "jpeg" {
		v.Quality = 0
	}
	return v
}

// ImagePath returns the path serving seed as v on every simulated site:
// /img/SEED.EXT with q= and w= for quality and width.
func ImagePath(seed uint64, v Variant) string {
	v = v.normal()
	ext := map[string]string{"jpeg": "jpg", "png": "png", "gif": "gif"}[v.Format]
	p := fmt.Sprintf("/img/%d.%s", seed, ext)
	q := url.Values{}
	if v.Format == "jpeg" && v.Quality != 85 {
		q.Set("q", strconv.Itoa(v.Quality))
	}
	if v.Width > 0 {
		q.Set("w", strconv.Itoa(v.Width))
	}
	if len(q) > 0 {
		p += "?" + q.Encode()
	}
	return p
}

// ParseImagePath is the inverse of ImagePath.
func ParseImagePath(p string, q url.Values) (uint64, Variant, bool) {
	name, ok := strings.CutPrefix(p, "/img/")
	if !ok {
		return 0, Variant{}, false
	}
	ext := path.Ext(name)
	seed, err := strconv.ParseUint(strings.TrimSuffix(name, ext), 10, 64)
	if err != nil {
		return 0, Variant{}, false
	}
	var v Variant
	switch ext {
	case ".jpg", ".jpeg":
		v.Format = "jpeg"
	case ".png":
		v.Format = "png"
	case ".gif":
		v.Format = "gif"
	default:
		return 0, Variant{}, false
	}
	v.Quality, _ = strconv.Atoi(q.Get("q"))
	v.Width, _ = strconv.Atoi(q.Get("w"))
	if v.Quality < 0 || v.Quality > 100 || v.Width < 0 || v.Width > 4096 {
		return 0, Variant{}, false
	}
	return seed, v.normal(), true
}

// Images generates benign pictures (gradients and shapes, no text, nothing
// real) deterministically from a seed, and caches the encoded bytes.
type Images struct {
	W, H  int
	mu    sync.Mutex
	cache map[imageKey][]byte
}

type imageKey struct {
	seed uint64
	v    Variant
}

// NewImages returns a generator of w×h pictures.
func NewImages(w, h int) *Images {
	return &Images{W: w, H: h, cache: map[imageKey][]byte{}}
}

// Bytes returns seed encoded as v, from the cache when it is there.
func (im *Images) Bytes(seed uint64, v Variant) ([]byte, error) {
	v = v.normal()
	k := imageKey{seed, v}
	im.mu.Lock()
	b, ok := im.cache[k]
	im.mu.Unlock()
	if ok {
		return b, nil
	}
	b, err := Encode(im.Render(seed), v)
	if err != nil {
		return nil, err
	}
	im.mu.Lock()
	im.cache[k] = b
	im.mu.Unlock()
	return b, nil
}

// Warm fills the cache for seeds as v using workers goroutines, so that a
// benchmark measures the crawl and not the image generator.
func (im *Images) Warm(seeds []uint64, v Variant, workers int) error {
	ch := make(chan uint64)
	errs := make(chan error, max(workers, 1))
	var wg sync.WaitGroup
	for range max(workers, 1) {
		wg.Go(func() {
			var first error
			for s := range ch {
				if _, err := im.Bytes(s, v); err != nil && first == nil {
					first = err
				}
			}
			errs <- first
		})
	}
	for _, s := range seeds {
		ch <- s
	}
	close(ch)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// Render draws the picture for seed: a two-colour gradient at a random
// angle with a handful of random rectangles, discs and stripes.
func (im *Images) Render(seed uint64) *image.RGBA {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	w, h := im.W, im.H
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	c0, c1 := randColor(rng), randColor(rng)
	ang := rng.Float64() * 2 * math.Pi
	dx, dy := math.Cos(ang), math.Sin(ang)
	norm := math.Abs(dx)*float64(w) + math.Abs(dy)*float64(h)
	// The gradient position is separable in x and y; precomputing both
	// keeps generation cheap enough for benchmark-sized sites.
	tx := make([]float64, w)
	for x := range tx {
		tx[x] = dx * float64(x) / norm
	}
	for y := range h {
		ty := dy * float64(y) / norm
		row := img.Pix[y*img.Stride : y*img.Stride+4*w]
		for x := range w {
			t := tx[x] + ty
			k := int32((t - math.Floor(t)) * 256)
			row[4*x+0] = mix(c0.R, c1.R, k)
			row[4*x+1] = mix(c0.G, c1.G, k)
			row[4*x+2] = mix(c0.B, c1.B, k)
			row[4*x+3] = 255
		}
	}
	for range 4 + rng.IntN(5) {
		c := randColor(rng)
		cx, cy := rng.IntN(w), rng.IntN(h)
		r := 8 + rng.IntN(max(w, h)/3)
		switch rng.IntN(3) {
		case 0: // rectangle
			fill(img, image.Rect(cx-r, cy-r/2, cx+r, cy+r/2), c, func(y int) (int, int) { return cx - r, cx + r })
		case 1: // disc, one span per row
			fill(img, image.Rect(cx-r, cy-r, cx+r, cy+r), c, func(y int) (int, int) {
				hw := int(math.Sqrt(float64(r*r - (y-cy)*(y-cy))))
				return cx - hw, cx + hw + 1
			})
		default: // diagonal stripes in a box
			period := 6 + rng.IntN(12)
			box := image.Rect(cx-r, cy-r, cx+r, cy+r).Intersect(img.Bounds())
			for y := box.Min.Y; y < box.Max.Y; y++ {
				for x := box.Min.X; x < box.Max.X; x++ {
					if ((x+y)/period)%2 == 0 {
						setPix(img, x, y, c)
					}
				}
			}
		}
	}
	return img
}

func randColor(rng *rand.Rand) color.RGBA {
	return color.RGBA{uint8(rng.IntN(256)), uint8(rng.IntN(256)), uint8(rng.IntN(256)), 255}
}

// mix blends a towards b by k/256.
func mix(a, b uint8, k int32) uint8 { return uint8(int32(a) + (int32(b)-int32(a))*k/256) }

// fill paints, in each row of r, the span [x0, x1) that span returns.
func fill(img *image.RGBA, r image.Rectangle, c color.RGBA, span func(y int) (x0, x1 int)) {
	r = r.Intersect(img.Bounds())
	for y := r.Min.Y; y < r.Max.Y; y++ {
		x0, x1 := span(y)
		for x := max(x0, r.Min.X); x < min(x1, r.Max.X); x++ {
			setPix(img, x, y, c)
		}
	}
}

func setPix(img *image.RGBA, x, y int, c color.RGBA) {
	i := y*img.Stride + 4*x
	img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = c.R, c.G, c.B, 255
}

// Encode encodes img as v, resizing first when v.Width is set.
func Encode(img image.Image, v Variant) ([]byte, error) {
	v = v.normal()
	if b := img.Bounds(); v.Width > 0 && v.Width != b.Dx() {
		h := max(1, b.Dy()*v.Width/b.Dx())
		dst := image.NewRGBA(image.Rect(0, 0, v.Width, h))
		xdraw.ApproxBiLinear.Scale(dst, dst.Bounds(), img, b, xdraw.Src, nil)
		img = dst
	}
	var buf bytes.Buffer
	var err error
	switch v.Format {
	case "jpeg":
		err = jpeg.Encode(&buf, img, &jpeg.Options{Quality: v.Quality})
	case "png":
		err = png.Encode(&buf, img)
	case "gif":
		err = gif.Encode(&buf, toCube(img), nil)
	default:
		err = fmt.Errorf("unknown format %q", v.Format)
	}
	if err != nil {
		return nil, fmt.Errorf("simnet: encode %s: %w", v.Format, err)
	}
	return buf.Bytes(), nil
}

// cube is a 6×6×6 colour cube, blue varying fastest.
var cube = func() color.Palette {
	p := make(color.Palette, 0, 216)
	for r := range 6 {
		for g := range 6 {
			for b := range 6 {
				p = append(p, color.RGBA{uint8(51 * r), uint8(51 * g), uint8(51 * b), 255})
			}
		}
	}
	return p
}()

// toCube maps img onto the colour cube by arithmetic: the GIF encoder's own
// nearest-colour search with dithering is slow enough to stall a test.
func toCube(img image.Image) *image.Paletted {
	b := img.Bounds()
	out := image.NewPaletted(b, cube)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			q := func(v uint32) int { return (int(v>>8) + 25) / 51 }
			out.SetColorIndex(x, y, uint8(q(r)*36+q(g)*6+q(bl)))
		}
	}
	return out
}

// BigPNG returns a small, valid-looking PNG whose header claims w×h pixels:
// a decoder that trusts the header allocates w×h×3 bytes.
func BigPNG(w, h uint32) []byte {
	var buf bytes.Buffer
	buf.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(typ string, data []byte) {
		_ = binary.Write(&buf, binary.BigEndian, uint32(len(data)))
		crc := crc32.NewIEEE()
		crc.Write([]byte(typ))
		crc.Write(data)
		buf.WriteString(typ)
		buf.Write(data)
		_ = binary.Write(&buf, binary.BigEndian, crc.Sum32())
	}
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 2 // 8-bit RGB
	chunk("IHDR", ihdr)
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	_, _ = zw.Write(make([]byte, 4096)) // the first scanline's start, no more
	_ = zw.Close()
	chunk("IDAT", z.Bytes())
	chunk("IEND", nil)
	return buf.Bytes()
}

// FakeVideo returns a benign file that sniffs as MP4: an ftyp box and an
// mdat box of deterministic noise. It is not playable, and need not be.
func FakeVideo(seed uint64) []byte {
	var buf bytes.Buffer
	ftyp := []byte("\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isommp41")
	buf.Write(ftyp)
	data := make([]byte, 4096)
	rng := rand.New(rand.NewPCG(seed, 42))
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	_ = binary.Write(&buf, binary.BigEndian, uint32(len(data)+8))
	buf.WriteString("mdat")
	buf.Write(data)
	return buf.Bytes()
}
