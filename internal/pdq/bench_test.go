package pdq

import (
	"image"
	"testing"
)

// photoYCbCr is a 1024×768 4:2:0 image with photo-like variation.
func photoYCbCr() *image.YCbCr {
	m := image.NewYCbCr(image.Rect(0, 0, 1024, 768), image.YCbCrSubsampleRatio420)
	s := uint32(1)
	for i := range m.Y {
		s ^= s << 13
		s ^= s >> 17
		s ^= s << 5
		m.Y[i] = uint8(i%1024/5) + uint8(s%32)
	}
	for i := range m.Cb {
		m.Cb[i] = uint8(100 + i%50)
		m.Cr[i] = uint8(150 - i%40)
	}
	return m
}

// BenchmarkHashYCbCr1024x768 is the hash stage for a decoded JPEG photo.
func BenchmarkHashYCbCr1024x768(b *testing.B) {
	m := photoYCbCr()
	b.ReportAllocs()
	for b.Loop() {
		FromImage(m)
	}
}

// BenchmarkHashDihedralYCbCr1024x768 adds the eight dihedral hashes.
func BenchmarkHashDihedralYCbCr1024x768(b *testing.B) {
	m := photoYCbCr()
	for b.Loop() {
		FromImageDihedral(m)
	}
}

// BenchmarkLumaYCbCr1024x768 is the reduction to 512×512 luma alone.
func BenchmarkLumaYCbCr1024x768(b *testing.B) {
	m := photoYCbCr()
	buf := make([]float32, 512*512)
	for b.Loop() {
		Luma(m, buf)
	}
}

// BenchmarkFromLuma512 is the tent filter, DCT and threshold alone.
func BenchmarkFromLuma512(b *testing.B) {
	m := photoYCbCr()
	luma, w, h := Luma(m, nil)
	for b.Loop() {
		FromLuma(luma, w, h)
	}
}
