package archive_test

import (
	"testing"

	"github.com/vigil-hotline/vigil/internal/archive"
	"github.com/vigil-hotline/vigil/internal/simnet"
)

// FuzzOpen: whatever the bytes, opening and walking an archive ends with
// entries or an error, within the limits (go test -fuzz FuzzOpen).
func FuzzOpen(f *testing.F) {
	z, _ := simnet.ZIP(pictures())
	tgz, _ := simnet.TarGz(pictures())
	lzma := []byte{0x03, 0x01, 0x01}
	for _, seed := range [][]byte{z, tgz, simnet.RAR(pictures()), simnet.Pictures7z(), simnet.Encrypted7z,
		hostile7z(lzma, []byte{0x5d, 0, 0, 0x10, 0}, false), hostile7z(lzma, []byte{0x5d, 0, 0, 0x10, 0}, true), solidRAR(3)} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		// A small decoder limit: the fuzzer would otherwise spend its time
		// allocating the dictionaries mutated headers declare.
		lim := archive.Limits{MaxEntries: 50, MaxEntrySize: 1 << 20, MaxTotalSize: 4 << 20, MaxDecoderMemory: 4 << 20}
		a, err := archive.Open(data, lim)
		if err != nil {
			return
		}
		var total int
		_ = a.Walk(func(_ int, e archive.Entry, b []byte) error {
			if int64(len(b)) > lim.MaxEntrySize {
				t.Fatalf("entry %q: %d bytes past the limit", e.Name, len(b))
			}
			total += len(b)
			return nil
		})
		if int64(total) > lim.MaxTotalSize {
			t.Fatalf("%d bytes in all, past the limit", total)
		}
	})
}
