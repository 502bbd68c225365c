package archive_test

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/vigil-hotline/vigil/internal/archive"
	"github.com/vigil-hotline/vigil/internal/simnet"
)

func pictures() []simnet.ArchiveFile {
	return []simnet.ArchiveFile{
		{Name: "a/known.png", Data: simnet.KnownPicture},
		{Name: "../../etc/passwd", Data: []byte("not a path on disk")},
		{Name: "b\\c.bin", Data: bytes.Repeat([]byte{7}, 5000)},
	}
}

func walk(t *testing.T, data []byte, lim archive.Limits) (*archive.Archive, map[string][]byte) {
	t.Helper()
	a, err := archive.Open(data, lim)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]byte{}
	if err := a.Walk(func(_ int, e archive.Entry, b []byte) error {
		got[e.Name] = b
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return a, got
}

// TestFormats: every format lists and extracts the same entries, names
// kept as labels.
func TestFormats(t *testing.T) {
	zipped, err := simnet.ZIP(pictures())
	if err != nil {
		t.Fatal(err)
	}
	tgz, err := simnet.TarGz(pictures())
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{"zip": zipped, "tgz": tgz, "rar": simnet.RAR(pictures())} {
		t.Run(name, func(t *testing.T) {
			a, got := walk(t, data, archive.Limits{})
			if len(a.Entries) != 3 || len(got) != 3 {
				t.Fatalf("entries %+v, got %d", a.Entries, len(got))
			}
			if !bytes.Equal(got["a/known.png"], simnet.KnownPicture) || string(got["../../etc/passwd"]) != "not a path on disk" ||
				len(got["b/c.bin"]) != 5000 {
				t.Errorf("contents wrong: %v", keys(got))
			}
			if m := a.Entries[0].Modified; !m.Equal(time.Date(2026, 1, 2, 3, 4, 6, 0, time.UTC)) {
				t.Errorf("modified %v", m)
			}
		})
	}
	t.Run("7z", func(t *testing.T) {
		a, got := walk(t, simnet.Pictures7z(), archive.Limits{})
		if a.Format != archive.SevenZip || len(got) != 3 || !bytes.Equal(got["collection/known.png"], simnet.KnownPicture) {
			t.Errorf("7z: %v %v", a.Format, keys(got))
		}
	})
	t.Run("gzip", func(t *testing.T) {
		var buf bytes.Buffer
		a, got := walk(t, gz(t, &buf, simnet.KnownPicture), archive.Limits{})
		if len(got) != 1 || !bytes.Equal(got[a.Entries[0].Name], simnet.KnownPicture) {
			t.Errorf("gzip: %+v", a.Entries)
		}
	})
}

func keys(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestEncrypted: encrypted entries are listed, not read; an archive with
// hidden names says so.
func TestEncrypted(t *testing.T) {
	z, err := simnet.ZIP([]simnet.ArchiveFile{{Name: "open.png", Data: simnet.KnownPicture},
		{Name: "secret/1.jpg", Data: []byte("xx"), Encrypted: true}})
	if err != nil {
		t.Fatal(err)
	}
	a, got := walk(t, z, archive.Limits{})
	if a.Encrypted != 1 || len(a.Entries) != 2 || !a.Entries[1].Encrypted || a.Entries[1].Name != "secret/1.jpg" || len(got) != 1 {
		t.Errorf("zip: %+v, read %v", a.Listing, keys(got))
	}
	a, got = walk(t, simnet.Encrypted7z, archive.Limits{})
	if !a.HeadersEncrypted || len(got) != 0 {
		t.Errorf("7z: %+v", a.Listing)
	}
}

// TestLimits: bombs are refused from their headers, before extraction.
func TestLimits(t *testing.T) {
	bomb, _ := simnet.ZIP([]simnet.ArchiveFile{{Name: "zeros", Data: make([]byte, 8<<20)}})
	many := make([]simnet.ArchiveFile, 300)
	for i := range many {
		many[i] = simnet.ArchiveFile{Name: fmt.Sprint(i), Data: []byte{1}}
	}
	manyZip, _ := simnet.ZIP(many)
	manyTgz, _ := simnet.TarGz(many)
	var buf bytes.Buffer
	gzBomb := gz(t, &buf, make([]byte, 8<<20))
	tarBomb, _ := simnet.TarGz([]simnet.ArchiveFile{{Name: "zeros", Data: make([]byte, 8<<20)}})
	big, _ := simnet.ZIP([]simnet.ArchiveFile{{Name: "big", Data: bytes.Repeat([]byte("0123456789abcdef"), 1<<16)}})
	for _, c := range []struct {
		name string
		data []byte
		lim  archive.Limits
		want archive.Reason
	}{
		{"zip ratio", bomb, archive.Limits{}, archive.ReasonRatio},
		{"gzip ratio", gzBomb, archive.Limits{}, archive.ReasonRatio},
		{"tar.gz ratio", tarBomb, archive.Limits{}, archive.ReasonRatio},
		{"zip entries", manyZip, archive.Limits{MaxEntries: 100}, archive.ReasonTooManyEntries},
		{"rar entries", simnet.RAR(many), archive.Limits{MaxEntries: 100}, archive.ReasonTooManyEntries},
		{"tar entries", manyTgz, archive.Limits{MaxEntries: 100}, archive.ReasonTooManyEntries},
		{"entry size", big, archive.Limits{MaxEntrySize: 1 << 19}, archive.ReasonTooLarge},
		{"total size", manyZip, archive.Limits{MaxTotalSize: 100}, archive.ReasonTooLarge},
		{"not an archive", []byte("hello"), archive.Limits{}, archive.ReasonUnsupported},
	} {
		_, err := archive.Open(c.data, c.lim)
		if r := archive.ReasonOf(err); r != c.want {
			t.Errorf("%s: %v, want %s", c.name, err, c.want)
		}
	}
}

// TestLyingHeader: an entry holding more than its header declares ends
// the walk instead of being read on.
func TestLyingHeader(t *testing.T) {
	files := []simnet.ArchiveFile{{Name: "x", Data: bytes.Repeat([]byte{1}, 1000)}}
	r := simnet.RAR(files)
	// Declare 100 bytes (1000 is e8 07) instead: the header's CRC no
	// longer holds, and the archive is refused, never read past 100.
	i := bytes.Index(r, []byte{0xe8, 0x07})
	if i < 0 {
		t.Fatal("size not found")
	}
	r[i], r[i+1] = 0x64, 0x80
	a, err := archive.Open(r, archive.Limits{})
	if err == nil {
		err = a.Walk(func(int, archive.Entry, []byte) error { return nil })
	}
	if err == nil {
		t.Fatal("a lying header was read without complaint")
	}
}

func gz(t *testing.T, buf *bytes.Buffer, data []byte) []byte {
	t.Helper()
	w := gzipWriter(buf)
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
