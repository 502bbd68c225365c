package hashing

import (
	"os"
	"testing"
)

// BenchmarkHashBenchPhoto hashes the first photo of VIGIL_BENCH_PHOTO (a
// file made by `vigil bench hash --generate`); skipped without it.
func BenchmarkHashBenchPhoto(b *testing.B) {
	p := os.Getenv("VIGIL_BENCH_PHOTO")
	if p == "" {
		b.Skip("VIGIL_BENCH_PHOTO not set")
	}
	data, err := os.ReadFile(p)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := HashBytes(data, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
