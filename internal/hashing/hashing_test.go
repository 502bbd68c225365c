package hashing

import (
	"bytes"
	"crypto/md5"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"math/rand/v2"
	"runtime"
	"strings"
	"sync"
	"testing"

	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"

	"github.com/vigil-hotline/vigil/internal/pdq"
)

func encodePNG(t testing.TB, m image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, m); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func encodeJPEG(t testing.TB, m image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, m, &jpeg.Options{Quality: 85}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// pngHeaderOnly is a valid PNG signature and IHDR declaring w×h RGB
// pixels, with no image data: a few dozen bytes that claim gigabytes.
func pngHeaderOnly(w, h uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 2 // 8-bit RGB
	chunk := append([]byte("IHDR"), ihdr...)
	binary.Write(&b, binary.BigEndian, uint32(len(ihdr)))
	b.Write(chunk)
	binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(chunk))
	return b.Bytes()
}

// TestHostileInputs covers the documented results for degenerate files.
func TestHostileInputs(t *testing.T) {
	photo := encodeJPEG(t, texture(320, 240, 7))
	rng := rand.New(rand.NewPCG(7, 8))
	random := make([]byte, 4096)
	for i := range random {
		random[i] = byte(rng.Uint32())
	}
	cases := []struct {
		name    string
		data    []byte
		wantErr error // nil: hashed
		zero    bool  // all-zero hash and quality 0 expected
	}{
		{"1x1 png", encodePNG(t, image.NewGray(image.Rect(0, 0, 1, 1))), nil, true},
		{"4x4 png", encodePNG(t, texture(4, 4, 1)), nil, true},
		{"30000x30000 png header", pngHeaderOnly(30000, 30000), ErrTooLarge, false},
		{"truncated jpeg", photo[:len(photo)/2], ErrMalformed, false},
		{"jpeg header only", photo[:200], ErrMalformed, false},
		{"zero bytes", nil, ErrEmpty, false},
		{"random bytes", random, ErrUnsupportedFormat, false},
		{"png signature then junk", append([]byte("\x89PNG\r\n\x1a\n"), random[:100]...), ErrMalformed, false},
		{"jpeg magic then junk", append([]byte{0xff, 0xd8, 0xff}, random[:100]...), ErrMalformed, false},
		{"zero-sized png", pngHeaderOnly(0, 10), ErrMalformed, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, err := HashBytes(c.data, Options{})
			if c.wantErr == nil {
				if err != nil {
					t.Fatalf("error %v", err)
				}
			} else if !errors.Is(err, c.wantErr) {
				t.Fatalf("error %v, want %v", err, c.wantErr)
			}
			if c.zero && (!res.PDQ.IsZero() || res.Quality != 0) {
				t.Errorf("got %v quality %d, want zero hash, quality 0", res.PDQ, res.Quality)
			}
			if err != nil && !res.PDQ.IsZero() {
				t.Errorf("failed input has a hash %v", res.PDQ)
			}
			// Digests are of the bytes and are always filled, except when
			// the input was refused for its length.
			if res.MD5 != md5.Sum(c.data) {
				t.Errorf("md5 not filled")
			}
		})
	}
}

// TestPixelLimitBoundsMemory decodes the 30000×30000 header and checks
// that nothing near its 2.7 GB was allocated.
func TestPixelLimitBoundsMemory(t *testing.T) {
	data := pngHeaderOnly(30000, 30000)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for i := 0; i < 10; i++ {
		if _, err := HashBytes(data, Options{}); !errors.Is(err, ErrTooLarge) {
			t.Fatal(err)
		}
	}
	runtime.ReadMemStats(&after)
	if d := after.TotalAlloc - before.TotalAlloc; d > 10<<20 {
		t.Errorf("allocated %d bytes refusing a header", d)
	}
}

func TestLimits(t *testing.T) {
	data := encodePNG(t, texture(100, 100, 3))
	if _, err := HashBytes(data, Options{MaxPixels: 9999}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("pixel limit: %v", err)
	}
	if _, err := HashBytes(data, Options{MaxPixels: 10000}); err != nil {
		t.Errorf("at the pixel limit: %v", err)
	}
	if _, err := HashBytes(data, Options{MaxBytes: int64(len(data) - 1)}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("byte limit: %v", err)
	}
	if _, err := Hash(bytes.NewReader(data), Options{MaxBytes: int64(len(data) - 1)}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("byte limit, reader: %v", err)
	}
	if _, err := Hash(bytes.NewReader(data), Options{MaxBytes: int64(len(data))}); err != nil {
		t.Errorf("at the byte limit: %v", err)
	}
}

// TestFormatsAgree encodes one image losslessly in several formats and
// pixel types; all must give the same PDQ hash.
func TestFormatsAgree(t *testing.T) {
	src := texture(300, 200, 5)
	want, err := HashBytes(encodePNG(t, src), Options{})
	if err != nil {
		t.Fatal(err)
	}
	nrgba := image.NewNRGBA(src.Bounds())
	rgba64 := image.NewRGBA64(src.Bounds())
	for i := 0; i < len(src.Pix); i += 4 {
		copy(nrgba.Pix[i:i+3], src.Pix[i:i+3])
		nrgba.Pix[i+3] = uint8(i) // varied alpha: must be ignored
		for c := 0; c < 4; c++ {
			rgba64.Pix[2*i+2*c] = src.Pix[i+c] // high byte
			rgba64.Pix[2*i+2*c+1] = 0x5a       // low byte: must be ignored
		}
	}
	var bm, tf bytes.Buffer
	if err := bmp.Encode(&bm, src); err != nil {
		t.Fatal(err)
	}
	if err := tiff.Encode(&tf, src, nil); err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{
		"bmp":             bm.Bytes(),
		"tiff":            tf.Bytes(),
		"png nrgba alpha": encodePNG(t, nrgba),
		"png 16-bit":      encodePNG(t, rgba64),
		"png via Hash":    func() []byte { return encodePNG(t, src) }(),
	} {
		got, err := Hash(bytes.NewReader(data), Options{})
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if got.PDQ != want.PDQ || got.Quality != want.Quality {
			t.Errorf("%s: %v q%d, want %v q%d", name, got.PDQ, got.Quality, want.PDQ, want.Quality)
		}
		if got.Width != 300 || got.Height != 200 {
			t.Errorf("%s: size %d×%d", name, got.Width, got.Height)
		}
	}
}

func TestGIFFirstFrame(t *testing.T) {
	pal := color.Palette{}
	for i := 0; i < 256; i++ {
		pal = append(pal, color.RGBA{uint8(i), uint8(255 - i), uint8(i / 2), 255})
	}
	frame := func(seed int) *image.Paletted {
		m := image.NewPaletted(image.Rect(0, 0, 64, 48), pal)
		for i := range m.Pix {
			m.Pix[i] = uint8(i*seed + i/64*7)
		}
		return m
	}
	var b bytes.Buffer
	if err := gif.EncodeAll(&b, &gif.GIF{Image: []*image.Paletted{frame(3), frame(11)}, Delay: []int{10, 10}}); err != nil {
		t.Fatal(err)
	}
	got, err := HashBytes(b.Bytes(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	want, _ := pdq.FromImage(frame(3))
	if got.Format != GIF || got.PDQ != want {
		t.Errorf("format %q hash %v, want the first frame's %v", got.Format, got.PDQ, want)
	}
}

func TestSniff(t *testing.T) {
	for data, want := range map[string]Format{
		"\xff\xd8\xff\xe0":             JPEG,
		"\x89PNG\r\n\x1a\n":            PNG,
		"GIF89a":                       GIF,
		"GIF87a":                       GIF,
		"BM":                           BMP,
		"II*\x00":                      TIFF,
		"MM\x00*":                      TIFF,
		"RIFF\x00\x00\x00\x00WEBPVP8 ": WebP,
		"<html>":                       "",
		"":                             "",
	} {
		if got := Sniff([]byte(data)); got != want {
			t.Errorf("Sniff(%q) = %q, want %q", data, got, want)
		}
	}
}

func TestDihedralOption(t *testing.T) {
	data := encodePNG(t, texture(64, 64, 9)) // 64×64: the two paths differ in the reference
	plain, err := HashBytes(data, Options{})
	if err != nil {
		t.Fatal(err)
	}
	dih, err := HashBytes(data, Options{Dihedral: true})
	if err != nil {
		t.Fatal(err)
	}
	if plain.Dihedral != nil || dih.Dihedral == nil {
		t.Fatal("Dihedral set when not asked, or missing when asked")
	}
	if dih.PDQ != plain.PDQ || dih.Quality != plain.Quality {
		t.Errorf("PDQ depends on the Dihedral option")
	}
}

func TestConcurrentHashing(t *testing.T) {
	data := encodeJPEG(t, texture(700, 600, 2))
	want, err := HashBytes(data, Options{Dihedral: true})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 3; i++ {
				got, err := Hash(bytes.NewReader(data), Options{Dihedral: true})
				if err != nil || got.PDQ != want.PDQ || *got.Dihedral != *want.Dihedral || got.SHA256 != want.SHA256 {
					t.Errorf("concurrent result differs: %v", err)
				}
			}
		}()
	}
	wg.Wait()
}

// FuzzHash feeds arbitrary bytes to HashBytes: it must never panic, every
// error must wrap one of the package's errors, and a success must be
// repeatable. The seed corpus (run by plain go test) covers each format.
func FuzzHash(f *testing.F) {
	small := texture(24, 20, 4)
	f.Add(encodePNG(f, small))
	f.Add(encodeJPEG(f, small))
	var b bytes.Buffer
	gif.Encode(&b, small, nil)
	f.Add(b.Bytes())
	b = bytes.Buffer{}
	bmp.Encode(&b, small)
	f.Add(b.Bytes())
	b = bytes.Buffer{}
	tiff.Encode(&b, small, nil)
	f.Add(b.Bytes())
	f.Add(pngHeaderOnly(30000, 30000))
	f.Add([]byte("RIFF\x10\x00\x00\x00WEBPVP8L\x04\x00\x00\x00\x2f\x00\x00\x00"))
	f.Add([]byte{})
	f.Add([]byte(strings.Repeat("\xff\xd8\xff", 10)))
	f.Fuzz(func(t *testing.T, data []byte) {
		opts := Options{MaxPixels: 1 << 20, Dihedral: len(data)%2 == 0}
		res, err := HashBytes(data, opts)
		if err != nil {
			if !errors.Is(err, ErrTooLarge) && !errors.Is(err, ErrUnsupportedFormat) &&
				!errors.Is(err, ErrMalformed) && !errors.Is(err, ErrEmpty) {
				t.Fatalf("unclassified error: %v", err)
			}
			return
		}
		again, _ := HashBytes(data, opts)
		if again.PDQ != res.PDQ || again.Quality != res.Quality {
			t.Fatal("not deterministic")
		}
		if res.Quality < 0 || res.Quality > 100 {
			t.Fatalf("quality %d", res.Quality)
		}
	})
}
