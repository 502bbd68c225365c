package archive_test

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"runtime"
	"testing"

	"github.com/vigil-hotline/vigil/internal/archive"
	"github.com/vigil-hotline/vigil/internal/simnet"
	"github.com/vigil-hotline/vigil/internal/testrig"
)

// hostile7z builds a 7z archive by hand (7zFormat.txt): one folder of one
// coder with the given method and properties over a few packed bytes, and
// one entry. When encoded, the header itself is declared compressed with
// that coder (the reader decodes it while opening).
func hostile7z(method, props []byte, encoded bool) []byte {
	packed := bytes.Repeat([]byte{0}, 16)
	coder := append([]byte{1, 0x20 | byte(len(method))}, method...)
	coder = append(append(coder, byte(len(props))), props...)
	streams := append([]byte{0x06, 0, 1, 0x09, byte(len(packed)), 0x00, 0x07, 0x0b, 1, 0}, coder...)
	streams = append(streams, 0x0c, 100, 0x00, 0x00)
	var hdr []byte
	if encoded {
		hdr = append([]byte{0x17}, streams...)
	} else {
		name := []byte{'a', 0, '.', 0, 'p', 0, 'n', 0, 'g', 0, 0, 0}
		hdr = append([]byte{0x01, 0x04}, streams...)
		hdr = append(hdr, 0x05, 1, 0x11, byte(1+len(name)), 0)
		hdr = append(hdr, name...)
		hdr = append(hdr, 0x00, 0x00)
	}
	start := make([]byte, 20)
	binary.LittleEndian.PutUint64(start[0:], uint64(len(packed)))
	binary.LittleEndian.PutUint64(start[8:], uint64(len(hdr)))
	binary.LittleEndian.PutUint32(start[16:], crc32.ChecksumIEEE(hdr))
	out := []byte{'7', 'z', 0xbc, 0xaf, 0x27, 0x1c, 0, 4}
	out = binary.LittleEndian.AppendUint32(out, crc32.ChecksumIEEE(start))
	out = append(out, start...)
	out = append(out, packed...)
	return append(out, hdr...)
}

// TestDecoderMemory: a 7z whose header declares a 2 GiB LZMA dictionary
// (or LZMA2, or a 2 GiB PPMd model), in the entries' folders or in the
// compressed header itself, is refused from its header with the reason,
// nothing extracted and the heap untouched; ordinary dictionaries open.
func TestDecoderMemory(t *testing.T) {
	lzma := []byte{0x03, 0x01, 0x01}
	lzma2GiB := []byte{0x5d, 0, 0, 0, 0x80}
	for _, c := range []struct {
		name string
		data []byte
		want archive.Reason
	}{
		{"lzma folder", hostile7z(lzma, lzma2GiB, false), archive.ReasonDecoderMemory},
		{"lzma header", hostile7z(lzma, lzma2GiB, true), archive.ReasonDecoderMemory},
		{"lzma2 folder", hostile7z([]byte{0x21}, []byte{38}, false), archive.ReasonDecoderMemory},
		{"lzma2 header", hostile7z([]byte{0x21}, []byte{40}, true), archive.ReasonDecoderMemory},
		{"ppmd folder", hostile7z([]byte{0x03, 0x04, 0x01}, []byte{6, 0, 0, 0, 0x80}, false), archive.ReasonDecoderMemory},
		{"bad lzma props", hostile7z(lzma, []byte{0x5d}, true), archive.ReasonMalformed},
		{"zstd folder", hostile7z([]byte{0x04, 0xf7, 0x11, 0x01}, []byte{1, 5, 3}, false), archive.ReasonUnsupported},
	} {
		t.Run(c.name, func(t *testing.T) {
			// HeapPeak samples; TotalAlloc also counts an allocation
			// freed between samples (without the check, a 1 GiB LZMA2
			// dictionary here allocated 1024 MiB).
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			stop := testrig.HeapPeak()
			a, err := archive.Open(c.data, archive.Limits{})
			peak := stop()
			runtime.ReadMemStats(&after)
			t.Logf("%v (heap peak %d KiB)", err, peak>>10)
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 32<<20 {
				t.Errorf("allocated %d MiB", alloc>>20)
			}
			if r := archive.ReasonOf(err); r != c.want || a != nil {
				t.Fatalf("%v (%v), want %s", err, r, c.want)
			}
			if peak > 256<<20 {
				t.Errorf("heap peaked at %d MiB", peak>>20)
			}
		})
	}
	// Within the limit, the same hand-made archive is read past the check
	// (its packed bytes are not LZMA: what matters is that it opened).
	if _, err := archive.Open(hostile7z(lzma, []byte{0x5d, 0, 0, 0x10, 0}, false), archive.Limits{}); err != nil {
		t.Errorf("1 MiB dictionary: %v", err)
	}
	// The committed archives (7-Zip's defaults) pass the check.
	for _, data := range [][]byte{simnet.Pictures7z(), simnet.Encrypted7z} {
		if _, err := archive.Open(data, archive.Limits{}); err != nil {
			t.Errorf("committed 7z: %v", err)
		}
	}
	// The limit applies as set.
	if _, err := archive.Open(simnet.Pictures7z(), archive.Limits{MaxDecoderMemory: 1024}); archive.ReasonOf(err) != archive.ReasonDecoderMemory {
		t.Errorf("1 KiB limit: %v", err)
	}
}

// solidRAR is a RAR 5 archive (rarlab.com/technote.htm) of one entry
// whose compression information declares a solid LZ entry with the given
// dictionary size code (128 KiB << code): solid, so the reader cannot
// shrink the dictionary to the entry's size.
func solidRAR(dictCode uint64) []byte {
	var out bytes.Buffer
	out.WriteString("Rar!\x1a\x07\x01\x00")
	block := func(typ, flags uint64, fields []byte, dataSize int) {
		h := binary.AppendUvarint(nil, typ)
		h = binary.AppendUvarint(h, flags)
		if flags&0x2 != 0 {
			h = binary.AppendUvarint(h, uint64(dataSize))
		}
		h = append(h, fields...)
		sized := append(binary.AppendUvarint(nil, uint64(len(h))), h...)
		out.Write(binary.LittleEndian.AppendUint32(nil, crc32.ChecksumIEEE(sized)))
		out.Write(sized)
	}
	data := bytes.Repeat([]byte{0}, 64)
	block(1, 0, binary.AppendUvarint(nil, 0), 0)
	fl := binary.AppendUvarint(nil, 0)                    // no optional fields
	fl = binary.AppendUvarint(fl, 100)                    // unpacked size
	fl = binary.AppendUvarint(fl, 0o644)                  // attributes
	fl = binary.AppendUvarint(fl, 0x40|3<<7|dictCode<<10) // solid, method 3
	fl = binary.AppendUvarint(fl, 1)                      // host OS: Unix
	fl = append(binary.AppendUvarint(fl, 5), "a.png"...)
	block(2, 0x2, fl, len(data))
	out.Write(data)
	block(5, 0, binary.AppendUvarint(nil, 0), 0)
	return out.Bytes()
}

// TestRARDictionary: rardecode refuses a dictionary above the limit
// before allocating it, and the refusal carries the reason.
func TestRARDictionary(t *testing.T) {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	a, err := archive.Open(solidRAR(14), archive.Limits{}) // 2 GiB
	if err == nil {
		err = a.Walk(func(_ int, e archive.Entry, _ []byte) error {
			t.Errorf("extracted %q", e.Name)
			return nil
		})
	}
	runtime.ReadMemStats(&after)
	if archive.ReasonOf(err) != archive.ReasonDecoderMemory {
		t.Errorf("2 GiB dictionary: %v", err)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 32<<20 {
		t.Errorf("allocated %d MiB", alloc>>20)
	}
}
