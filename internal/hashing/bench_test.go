package hashing

import (
	"bytes"
	"image"
	"image/jpeg"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"golang.org/x/image/draw"

	"github.com/vigil-hotline/vigil/internal/pdq"
)

// benchPhotos returns 1024×768 JPEG photos (quality 90, 4:2:0) made by
// cropping and scaling the conformance corpus's benign photos, or
// synthetic textured images when the corpus is absent.
var benchPhotos = sync.OnceValue(func() [][]byte {
	var srcs []image.Image
	if dir, ok := corpusDir(); ok {
		for _, p := range []string{
			"images/bridge-mods/aaa-orig.jpg", "images/pytx/letterboxed_sample-b.jpg",
			"images/exif-rotn/exif-rotn-6.jpg", "images/misc/c.png",
		} {
			if r, err := HashFile(filepath.Join(dir, p), Options{}); err == nil && r.Width > 0 {
				f, _ := os.ReadFile(filepath.Join(dir, p))
				if img, _, err := decode(f, DefaultMaxPixels, &Result{}); err == nil {
					srcs = append(srcs, img)
				}
			}
		}
	}
	if len(srcs) == 0 {
		srcs = append(srcs, texture(1600, 1200, 1), texture(1600, 1200, 2))
	}
	var out [][]byte
	for i, src := range srcs {
		b := src.Bounds()
		// Two crops per source: the whole frame and its central part.
		for _, r := range []image.Rectangle{b, image.Rect(b.Min.X+b.Dx()/8, b.Min.Y+b.Dy()/8, b.Max.X-b.Dx()/8, b.Max.Y-b.Dy()/8)} {
			dst := image.NewRGBA(image.Rect(0, 0, 1024, 768))
			draw.CatmullRom.Scale(dst, dst.Bounds(), src, r, draw.Src, nil)
			var buf bytes.Buffer
			if err := jpeg.Encode(&buf, dst, &jpeg.Options{Quality: 90}); err != nil {
				panic(err)
			}
			out = append(out, buf.Bytes())
		}
		_ = i
	}
	return out
})

// corpusDir is conformanceDir without a testing.TB.
func corpusDir() (string, bool) {
	dir, err := os.Getwd()
	if err != nil {
		return "", false
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", false
		}
		dir = parent
	}
	c := filepath.Join(dir, "..", "shared", "conformance", "pdq")
	_, err = os.Stat(c)
	return c, err == nil
}

// texture is a deterministic photo-like test image: smooth gradients with
// a pseudo-random grain.
func texture(w, h int, seed uint32) *image.RGBA {
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	s := seed*2654435761 + 1
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			s ^= s << 13
			s ^= s >> 17
			s ^= s << 5
			n := uint8(s % 24)
			i := m.PixOffset(x, y)
			m.Pix[i+0] = uint8(x*200/w) + n
			m.Pix[i+1] = uint8(y*200/h) + n
			m.Pix[i+2] = uint8((x+y)*100/(w+h)+int(seed)*40) + n
			m.Pix[i+3] = 0xff
		}
	}
	return m
}

// BenchmarkHashJPEG1024x768 is the whole path for one photo: digests,
// header, decode and PDQ.
func BenchmarkHashJPEG1024x768(b *testing.B) {
	photos := benchPhotos()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := HashBytes(photos[i%len(photos)], Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeJPEG1024x768 is the decoder alone.
func BenchmarkDecodeJPEG1024x768(b *testing.B) {
	photos := benchPhotos()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := jpegCodec.decode(photos[i%len(photos)]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHashStage1024x768 is PDQ from decoded pixels.
func BenchmarkHashStage1024x768(b *testing.B) {
	photos := benchPhotos()
	imgs := make([]image.Image, len(photos))
	for i, p := range photos {
		img, err := jpegCodec.decode(p)
		if err != nil {
			b.Fatal(err)
		}
		imgs[i] = img
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		pdq.FromImage(imgs[i%len(imgs)])
	}
}

// BenchmarkDigests1024x768 is MD5, SHA-1 and SHA-256 of one photo file.
func BenchmarkDigests1024x768(b *testing.B) {
	photos := benchPhotos()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var r Result
		d := newDigester()
		d.Write(photos[i%len(photos)])
		d.sum(&r)
	}
}
