package hashing

import (
	"path/filepath"
	"testing"

	"github.com/vigil-hotline/vigil/internal/pdq"
)

// TestJPEGHashesAsLibjpeg: the decoder fixtures hash, in either build, to
// what the libjpeg-turbo build gives (the values below were computed by the
// libjpeg build before the pure-Go decoder existed). tall-gradient.jpg is
// the 100×2000 shape whose hash moved 70 bits with Go's image/jpeg: its
// picture changes only down its height, so after the 512×512 reduction
// almost every DCT coefficient is rounding noise near the median, and
// image/jpeg's different IDCT rounding (±1 on some pixels; the fancy
// upsampling and colour tables add more) reorders that noise. Decoding as
// libjpeg does removes the cause rather than the symptom.
func TestJPEGHashesAsLibjpeg(t *testing.T) {
	for _, c := range []struct {
		file string
		pdq  string
		q    int
	}{
		// image/jpeg: 0abe5555abaf0348… (121 bits away).
		{"tall-gradient.jpg", "a2a25d5d5d5d5dffdd5d5d5da2a2a2a2a2a2a2a2a2a2a2a25d5d5d5da2a2a2a2", 100},
		{"tall-420.jpg", "800f6af3000faaa5fff0aa95ffd0554a2431aa95fff2550a847522d69ff288a5", 100},
		{"p2x2.jpg", "4ee897a8b1a41c23e12e75a2522a3dd6f29e5610647e1f35f08ea538ebe57549", 100},
		{"s1x2.jpg", "cae897a8b1a41c23e92e75a2562a3dd6f29e5610647e1f35f08ea138ebe57548", 100},
		{"grey-prog.jpg", "c6e152a0f10696637b2e70aad42ab854621e1e337c7e5d57528eb918ebe5ed48", 61},
	} {
		res, err := HashFile(filepath.Join("..", "jpeg", "testdata", c.file), Options{})
		if err != nil {
			t.Fatalf("%s: %v", c.file, err)
		}
		want, err := pdq.ParseHex(c.pdq)
		if err != nil {
			t.Fatal(err)
		}
		if d := pdq.Distance(res.PDQ, want); d != 0 || res.Quality != c.q {
			t.Errorf("%s: %v q %d, %d bits from libjpeg's %v q %d", c.file, res.PDQ, res.Quality, d, want, c.q)
		}
	}
}
