package jpeg

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	stdjpeg "image/jpeg"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func pixOf(m image.Image) []byte {
	switch m := m.(type) {
	case *image.RGBA:
		return m.Pix
	case *image.Gray:
		return m.Pix
	case *image.CMYK:
		return m.Pix
	}
	return nil
}

func fixtures(t testing.TB) map[string][]byte {
	t.Helper()
	paths, err := filepath.Glob("testdata/*.jpg")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	m := map[string][]byte{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		m[filepath.Base(p)] = b
	}
	return m
}

// TestGolden: every fixture decodes to exactly libjpeg-turbo's pixels, as
// recorded in testdata/golden.tsv by the libjpeg build's oracle test
// (internal/hashing, TestJPEGMatchesLibjpeg), so the default build checks
// its bit-exactness without libjpeg.
func TestGolden(t *testing.T) {
	f, err := os.Open("testdata/golden.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fx := fixtures(t)
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "#") {
			continue
		}
		cols := strings.Split(sc.Text(), "\t")
		name, typ, want := cols[0], cols[1], cols[2]
		img, err := Decode(fx[name], 0)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		sum := sha256.Sum256(pixOf(img))
		if got := hex.EncodeToString(sum[:]); got != want || fmt.Sprintf("%T", img) != typ {
			t.Errorf("%s: %T %s, libjpeg gives %s %s", name, img, got, typ, want)
		}
		n++
	}
	if n < 25 {
		t.Errorf("only %d golden rows", n)
	}
}

func TestArithmeticRefused(t *testing.T) {
	_, err := Decode(fixtures(t)["arith.jpg"], 0)
	if !errors.Is(err, ErrUnsupported) {
		t.Fatalf("arithmetic coding: %v, want ErrUnsupported", err)
	}
}

// TestCloseToImageJPEG uses Go's image/jpeg as an oracle where it is right:
// it rounds differently and replicates chroma, so pixels differ by a few
// levels, never more on average.
func TestCloseToImageJPEG(t *testing.T) {
	for name, data := range fixtures(t) {
		if name == "arith.jpg" {
			continue
		}
		ref, err := stdjpeg.Decode(bytes.NewReader(data))
		if err != nil {
			// image/jpeg lacks 4:4:0 with 1×4 factors and mishandles
			// restarts inside progressive EOB runs: it is no oracle there.
			t.Logf("%s: image/jpeg: %v", name, err)
			continue
		}
		got, err := Decode(data, 0)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if got.Bounds() != ref.Bounds() {
			t.Errorf("%s: bounds %v, image/jpeg %v", name, got.Bounds(), ref.Bounds())
			continue
		}
		var sum, n float64
		b := got.Bounds()
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				r1, g1, b1, _ := got.At(x, y).RGBA()
				r2, g2, b2, _ := ref.At(x, y).RGBA()
				sum += absDiff(r1, r2) + absDiff(g1, g2) + absDiff(b1, b2)
				n += 3
			}
		}
		if mean := sum / n / 257; mean > 2.5 {
			t.Errorf("%s: mean difference %.2f levels from image/jpeg", name, mean)
		}
	}
}

func absDiff(a, b uint32) float64 {
	if a > b {
		return float64(a - b)
	}
	return float64(b - a)
}

// TestSampled: the sampled image is exactly the full image's pixels at the
// sampled positions.
func TestSampled(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var d Decoder
	for name, data := range fixtures(t) {
		if name == "arith.jpg" {
			continue
		}
		if err := d.Decode(data, 0); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		full, err := d.Image()
		if err != nil {
			t.Fatal(err)
		}
		w, h := full.Bounds().Dx(), full.Bounds().Dy()
		xs, ys := make([]int, 7), make([]int, 5)
		for i := range xs {
			xs[i] = r.IntN(w)
		}
		for i := range ys {
			ys[i] = r.IntN(h)
		}
		s, err := d.Sampled(xs, ys)
		if err != nil {
			t.Fatal(err)
		}
		for j, y := range ys {
			for i, x := range xs {
				if a, b := s.At(i, j), full.At(x, y); a != b {
					t.Fatalf("%s: sampled (%d,%d) = %v, full (%d,%d) = %v", name, i, j, a, x, y, b)
				}
			}
		}
	}
}

// TestStandardTables: a file without DHT (Motion-JPEG style) decodes with
// the standard tables, as libjpeg-turbo does; Go's encoder writes them.
func TestStandardTables(t *testing.T) {
	m := image.NewRGBA(image.Rect(0, 0, 40, 24))
	for i := range m.Pix {
		m.Pix[i] = byte(i * 7)
	}
	var buf bytes.Buffer
	if err := stdjpeg.Encode(&buf, m, &stdjpeg.Options{Quality: 80}); err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()
	want, err := Decode(data, 0)
	if err != nil {
		t.Fatal(err)
	}
	// Remove every DHT segment.
	var out []byte
	for i := 0; i < len(data); {
		if data[i] == 0xff && i+3 < len(data) && data[i+1] == mDHT {
			n := int(data[i+2])<<8 | int(data[i+3])
			i += 2 + n
			continue
		}
		if data[i] == 0xff && i+1 < len(data) && data[i+1] == mSOS {
			out = append(out, data[i:]...)
			break
		}
		out = append(out, data[i])
		i++
	}
	got, err := Decode(out, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(pixOf(got), pixOf(want)) {
		t.Fatal("standard tables decode differently")
	}
}

// TestHostile: truncated and corrupted fixtures never panic, truncation is
// an error, and the pixel limit is enforced from the header.
func TestHostile(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	var d Decoder
	for name, data := range fixtures(t) {
		step := max(1, len(data)/60)
		for n := 0; n < len(data)-2; n += step {
			if err := d.Decode(data[:n], 0); err == nil {
				t.Errorf("%s cut at %d of %d bytes: no error", name, n, len(data))
			}
		}
		if len(data) > 8000 {
			continue // the large fixtures add time, not cases
		}
		for i := 0; i < 60; i++ {
			b := bytes.Clone(data)
			for k := 0; k < 1+r.IntN(4); k++ {
				b[r.IntN(len(b))] = byte(r.Uint32())
			}
			if d.Decode(b, 1<<22) == nil {
				if _, err := d.Sampled([]int{0}, []int{0}); err != nil {
					t.Errorf("%s: decoded but not sampled: %v", name, err)
				}
			}
		}
		if err := d.Decode(data, 10); !errors.Is(err, ErrTooLarge) && name != "arith.jpg" {
			t.Errorf("%s: limit of 10 pixels: %v", name, err)
		}
	}
}

// FuzzDecode: any input decodes or fails without panicking, in bounded
// memory, with the size its header declares; where Go's image/jpeg also
// decodes it, the sizes agree. Run with
//
//	go test -run '^$' -fuzz FuzzDecode ./internal/jpeg/
func FuzzDecode(f *testing.F) {
	for _, data := range fixtures(f) {
		if len(data) < 8000 {
			f.Add(data)
		}
	}
	var d Decoder
	f.Fuzz(func(t *testing.T, data []byte) {
		err := d.Decode(data, 1<<20)
		if err != nil {
			return
		}
		cfg := d.Config()
		img, err := d.Sampled([]int{0, cfg.Width - 1}, []int{0, cfg.Height - 1})
		if err != nil {
			return
		}
		if img.Bounds().Dx() != 2 {
			t.Fatalf("sampled %v", img.Bounds())
		}
		if ref, err := stdjpeg.DecodeConfig(bytes.NewReader(data)); err == nil {
			if ref.Width != cfg.Width || ref.Height != cfg.Height {
				t.Errorf("size %d×%d, image/jpeg %d×%d", cfg.Width, cfg.Height, ref.Width, ref.Height)
			}
		}
	})
}
