//go:build libjpeg && cgo

package hashing

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/vigil-hotline/vigil/internal/conformance"
	"github.com/vigil-hotline/vigil/internal/jpeg"
)

// These tests hold the pure-Go decoder to libjpeg-turbo, its oracle: same
// errors, same pixels. They run in the libjpeg build only (CI runs it).

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

// pixelDiff returns how many bytes differ and where the first one is.
func pixelDiff(a, b image.Image) (int, string) {
	if a.Bounds() != b.Bounds() || fmt.Sprintf("%T", a) != fmt.Sprintf("%T", b) {
		return -1, fmt.Sprintf("%T %v vs %T %v", a, a.Bounds(), b, b.Bounds())
	}
	pa, pb := pixOf(a), pixOf(b)
	n, first := 0, ""
	for i := range pa {
		if pa[i] != pb[i] {
			if n == 0 {
				first = fmt.Sprintf("byte %d: %d vs %d", i, pa[i], pb[i])
			}
			n++
		}
	}
	return n, first
}

// oracleFiles lists the conformance corpus's JPEGs and the decoder's
// fixtures.
func oracleFiles(t *testing.T) []string {
	var files []string
	dir := conformance.PDQDir(t)
	err := filepath.WalkDir(filepath.Join(dir, "images"), func(p string, d os.DirEntry, err error) error {
		if err == nil && Sniff(readHead(p)) == JPEG {
			files = append(files, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	fx, err := filepath.Glob("../jpeg/testdata/*.jpg")
	if err != nil || len(fx) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	return append(files, fx...)
}

func readHead(p string) []byte {
	f, err := os.Open(p)
	if err != nil {
		return nil
	}
	defer f.Close()
	b := make([]byte, 3)
	n, _ := f.Read(b)
	return b[:n]
}

// TestJPEGMatchesLibjpeg: the pure-Go decoder gives libjpeg-turbo's pixels
// exactly on every JPEG of the corpus and the fixtures, and refuses only
// arithmetic coding, which it does not implement. With
// VIGIL_UPDATE_JPEG_GOLDEN=1 it rewrites ../jpeg/testdata/golden.tsv, the
// digests of libjpeg's pixels that the default build's tests compare with.
func TestJPEGMatchesLibjpeg(t *testing.T) {
	var golden []string
	for _, p := range oracleFiles(t) {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		want, werr := libjpegDecode(data)
		got, gerr := jpeg.Decode(data, 0)
		if gerr != nil && errors.Is(gerr, jpeg.ErrUnsupported) && werr == nil && strings.Contains(p, "arith") {
			continue
		}
		if (werr != nil) != (gerr != nil) {
			t.Errorf("%s: libjpeg error %v, ours %v", p, werr, gerr)
			continue
		}
		if werr != nil {
			continue
		}
		if n, first := pixelDiff(got, want); n != 0 {
			t.Errorf("%s: %d bytes differ, first %s", p, n, first)
		}
		if strings.HasPrefix(p, "../jpeg/testdata/") {
			sum := sha256.Sum256(pixOf(want))
			golden = append(golden, fmt.Sprintf("%s\t%T\t%s", filepath.Base(p), want, hex.EncodeToString(sum[:])))
		}
	}
	if os.Getenv("VIGIL_UPDATE_JPEG_GOLDEN") == "1" {
		sort.Strings(golden)
		body := "# file\ttype\tsha256 of libjpeg-turbo 2.1.5's pixels (written by TestJPEGMatchesLibjpeg)\n" + strings.Join(golden, "\n") + "\n"
		if err := os.WriteFile("../jpeg/testdata/golden.tsv", []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// FuzzJPEGAgainstLibjpeg: wherever both decoders accept an input, their
// pixels agree. (Where only one accepts it, the input is corrupt and the
// two stop at different points; that is allowed.) Run with
//
//	go test -tags libjpeg -run '^$' -fuzz FuzzJPEGAgainstLibjpeg ./internal/hashing/
func FuzzJPEGAgainstLibjpeg(f *testing.F) {
	fx, _ := filepath.Glob("../jpeg/testdata/*.jpg")
	for _, p := range fx {
		if data, err := os.ReadFile(p); err == nil && len(data) < 8000 {
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := jpeg.DecodeConfig(data)
		if err != nil || int64(cfg.Width)*int64(cfg.Height) > 1<<20 {
			return
		}
		var d jpeg.Decoder
		d.TrackExtremes = true
		gerr := d.Decode(data, 1<<20)
		want, werr := libjpegDecode(data)
		if gerr != nil || werr != nil || d.Extreme() {
			return
		}
		got, err := d.Image()
		if err != nil {
			t.Fatal(err)
		}
		if n, first := pixelDiff(got, want); n != 0 {
			t.Errorf("%d bytes differ from libjpeg's, first %s", n, first)
		}
	})
}
