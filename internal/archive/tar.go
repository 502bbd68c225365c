package archive

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"time"
)

// openTar lists a tar, gzipped or not, or a lone gzipped file. Inside gzip
// the headers can only be reached by decompressing, so the first pass
// decompresses the stream without keeping it, capped at MaxTotalSize and
// at MaxRatio times the compressed size: a gzip bomb ends there, having
// used no memory.
func (a *Archive) openTar() error {
	total := min(a.limits.MaxTotalSize, max(int64(len(a.data))*a.limits.MaxRatio, ratioFloor))
	open := func() (io.Reader, *capped, error) {
		var r io.Reader = bytes.NewReader(a.data)
		if a.Format == Gzip {
			gz, err := gzip.NewReader(r)
			if err != nil {
				return nil, nil, malformed(err, "gzip")
			}
			gz.Multistream(false)
			r = gz
		}
		c := &capped{r: r, n: total, limit: total}
		return c, c, nil
	}
	r, c, err := open()
	if err != nil {
		return err
	}
	// A gzip that holds no tar is one file: its own entry.
	var head [512]byte
	n, _ := io.ReadFull(r, head[:])
	if a.Format == Gzip && (n < 512 || string(head[257:262]) != "ustar") {
		size, err := io.Copy(io.Discard, r)
		if err != nil {
			return c.err(err, a)
		}
		e := Entry{Name: "(gzip content)", Size: int64(n) + size}
		if gz, err := gzip.NewReader(bytes.NewReader(a.data)); err == nil {
			if gz.Name != "" {
				e.Name = cleanName(gz.Name)
			}
			e.Modified = gz.ModTime
		}
		a.Entries = []Entry{e}
		a.walk = func(fn func(int, io.Reader) error) error {
			r, _, err := open()
			if err != nil {
				return err
			}
			return fn(0, r)
		}
		return nil
	}
	tr := tar.NewReader(io.MultiReader(bytes.NewReader(head[:n]), r))
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return c.err(err, a)
		}
		if h.Typeflag != tar.TypeReg && h.Typeflag != tar.TypeRegA {
			continue // links, devices, directories: nothing to read
		}
		if len(a.Entries) >= a.limits.MaxEntries {
			return refuse(ReasonTooManyEntries, "more than %d entries", a.limits.MaxEntries)
		}
		a.Entries = append(a.Entries, Entry{Name: cleanName(h.Name), Size: h.Size, Modified: h.ModTime.UTC().Truncate(time.Second)})
	}
	a.walk = func(fn func(int, io.Reader) error) error {
		r, c, err := open()
		if err != nil {
			return err
		}
		tr := tar.NewReader(r)
		for i := 0; ; {
			h, err := tr.Next()
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return c.err(err, a)
			}
			if h.Typeflag != tar.TypeReg && h.Typeflag != tar.TypeRegA {
				continue
			}
			if i >= len(a.Entries) {
				return refuse(ReasonMalformed, "tar: more entries on the second reading")
			}
			if err := fn(i, tr); err != nil {
				if errors.Is(err, errCapped) {
					return c.err(err, a)
				}
				return err
			}
			i++
		}
	}
	return nil
}

// capped ends a decompressed stream past n bytes.
type capped struct {
	r     io.Reader
	n     int64
	limit int64
	over  bool
}

func (c *capped) Read(p []byte) (int, error) {
	if c.n <= 0 {
		c.over = true
		return 0, errCapped
	}
	if int64(len(p)) > c.n {
		p = p[:c.n]
	}
	k, err := c.r.Read(p)
	c.n -= int64(k)
	return k, err
}

var errCapped = errors.New("decompressed stream over its limit")

func (c *capped) err(err error, a *Archive) error {
	if c.over || errors.Is(err, errCapped) {
		return refuse(ReasonRatio, "%s stream expands past %d bytes (%d times its %d compressed bytes at most, %d in all)",
			a.Format, c.limit, a.limits.MaxRatio, len(a.data), a.limits.MaxTotalSize)
	}
	return malformed(err, "%s", a.Format)
}
