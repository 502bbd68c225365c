package pdq

import (
	"image"
	"testing"
)

// TestPlane: hashing a luma plane written in place equals FromLuma and
// DihedralFromLuma on the same luma.
func TestPlane(t *testing.T) {
	for _, size := range [][2]int{{64, 64}, {100, 37}, {512, 512}} {
		w, h := size[0], size[1]
		img := image.NewGray(image.Rect(0, 0, w, h))
		for i := range img.Pix {
			img.Pix[i] = byte(i*i/7 + i/3)
		}
		luma, _, _ := Luma(img, nil)
		p := NewPlane(w, h)
		copy(p.Luma, luma)
		got, gq := p.Hash()
		want, wq := FromLuma(luma, w, h)
		if got != want || gq != wq {
			t.Errorf("%d×%d: plane %v q %d, FromLuma %v q %d", w, h, got, gq, want, wq)
		}
		p = NewPlane(w, h)
		copy(p.Luma, luma)
		gd, gq := p.Dihedral()
		wd, wq := DihedralFromLuma(luma, w, h)
		if gd != wd || gq != wq {
			t.Errorf("%d×%d: dihedral plane differs", w, h)
		}
	}
}
