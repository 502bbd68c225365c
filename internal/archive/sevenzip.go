package archive

import (
	"bytes"
	"errors"
	"io"
	"strings"

	"github.com/bodgit/sevenzip"
)

func (a *Archive) open7z() error {
	// The reader decodes a compressed header while opening: its coders
	// are checked first, and the entries' coders once they are parsed
	// (see sevenzip_coders.go).
	if err := a.check7zEncodedHeader(); err != nil {
		return err
	}
	zr, err := sevenzip.NewReader(bytes.NewReader(a.data), int64(len(a.data)))
	if err != nil {
		var re *sevenzip.ReadError
		if errors.As(err, &re) && re.Encrypted || strings.Contains(err.Error(), "password") {
			// Encrypted headers: not even the names can be read.
			a.HeadersEncrypted = true
			a.walk = func(func(int, io.Reader) error) error { return nil }
			return nil
		}
		return malformed(err, "7z")
	}
	coders, err := readerCoders(zr)
	if err != nil {
		return refuse(ReasonUnsupported, "%v", err)
	}
	if err := a.checkCoders(coders, "folders"); err != nil {
		return err
	}
	if n := len(zr.File); n > a.limits.MaxEntries {
		return refuse(ReasonTooManyEntries, "%d entries, limit %d", n, a.limits.MaxEntries)
	}
	var files []*sevenzip.File
	for _, f := range zr.File {
		if f.FileInfo().IsDir() {
			continue
		}
		if f.UncompressedSize > 1<<62 {
			return refuse(ReasonTooLarge, "entry %q declares an impossible size", cleanName(f.Name))
		}
		// 7z compresses entries together (solid blocks): the ratio is
		// judged for the archive as a whole.
		a.Entries = append(a.Entries, Entry{Name: cleanName(f.Name), Size: int64(f.UncompressedSize), Modified: f.Modified})
		files = append(files, f)
	}
	a.walk = func(fn func(int, io.Reader) error) error {
		for i, f := range files {
			rc, err := f.Open()
			if err != nil {
				var re *sevenzip.ReadError
				if errors.As(err, &re) && re.Encrypted {
					a.markEncrypted(i)
					continue
				}
				return malformed(err, "open %q", a.Entries[i].Name)
			}
			err = fn(i, rc)
			_ = rc.Close() // read-only, in memory
			if err != nil {
				var re *sevenzip.ReadError
				if errors.As(err, &re) && re.Encrypted {
					a.markEncrypted(i)
					continue
				}
				return err
			}
		}
		return nil
	}
	return nil
}

// markEncrypted records an entry found encrypted only when opened.
func (a *Archive) markEncrypted(i int) {
	if !a.Entries[i].Encrypted {
		a.Entries[i].Encrypted = true
		a.Encrypted++
	}
}
