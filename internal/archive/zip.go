package archive

import (
	"archive/zip"
	"bytes"
	"errors"
	"io"
)

func (a *Archive) openZIP() error {
	zr, err := zip.NewReader(bytes.NewReader(a.data), int64(len(a.data)))
	// Names like ../x are refused by GODEBUG=zipinsecurepath=0 with a
	// usable reader: they are only labels here, never paths.
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
		return malformed(err, "zip")
	}
	// The central directory's count is known before any entry is read.
	if n := len(zr.File); n > a.limits.MaxEntries {
		return refuse(ReasonTooManyEntries, "%d entries, limit %d", n, a.limits.MaxEntries)
	}
	var files []*zip.File
	for _, f := range zr.File {
		if f.FileInfo().IsDir() {
			continue
		}
		e := Entry{Name: cleanName(f.Name), Size: int64(f.UncompressedSize64), Compressed: int64(f.CompressedSize64),
			Modified: f.Modified, Encrypted: f.Flags&0x1 != 0}
		if f.UncompressedSize64 > 1<<62 || f.CompressedSize64 > 1<<62 {
			return refuse(ReasonTooLarge, "entry %q declares an impossible size", e.Name)
		}
		if e.Encrypted {
			a.Encrypted++
		}
		a.Entries = append(a.Entries, e)
		files = append(files, f)
	}
	a.walk = func(fn func(int, io.Reader) error) error {
		for i, f := range files {
			if a.Entries[i].Encrypted {
				continue
			}
			rc, err := f.Open()
			if err != nil {
				return malformed(err, "open %q", a.Entries[i].Name)
			}
			err = fn(i, rc)
			// A checksum error surfaces on the read itself; Close of
			// an in-memory entry has nothing to add.
			_ = rc.Close()
			if err != nil {
				return err
			}
		}
		return nil
	}
	return nil
}
