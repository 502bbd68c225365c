package archive

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/nwaples/rardecode/v2"
)

// rarOptions bound the decoder's own allocation: its dictionary would
// otherwise follow what the header asks for (up to 4 GiB by default).
// rardecode checks the window against this before allocating it, when an
// entry is opened, and answers ErrDictionaryTooLarge.
func (a *Archive) rarOptions() []rardecode.Option {
	return []rardecode.Option{rardecode.MaxDictionarySize(a.limits.MaxDecoderMemory)}
}

func (a *Archive) openRAR() error {
	// RAR is read as a stream: a first pass over the headers (skipping
	// the packed data, decompressing nothing) makes the listing.
	rr, err := rardecode.NewReader(bytes.NewReader(a.data), a.rarOptions()...)
	if err != nil {
		return a.rarErr(err)
	}
	for {
		h, err := rr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return a.rarErr(err)
		}
		if h.IsDir {
			continue
		}
		if len(a.Entries) >= a.limits.MaxEntries {
			return refuse(ReasonTooManyEntries, "more than %d entries", a.limits.MaxEntries)
		}
		e := Entry{Name: cleanName(h.Name), Size: h.UnPackedSize, Compressed: h.PackedSize,
			Modified: h.ModificationTime, Encrypted: h.Encrypted}
		if h.UnKnownSize {
			e.Size = a.limits.MaxEntrySize
		}
		if e.Encrypted {
			a.Encrypted++
		}
		a.Entries = append(a.Entries, e)
	}
	a.walk = func(fn func(int, io.Reader) error) error {
		rr, err := rardecode.NewReader(bytes.NewReader(a.data), a.rarOptions()...)
		if err != nil {
			return a.rarErr(err)
		}
		for i := 0; ; {
			h, err := rr.Next()
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return a.rarErr(err)
			}
			if h.IsDir {
				continue
			}
			if i >= len(a.Entries) {
				return refuse(ReasonMalformed, "rar: more entries on the second reading")
			}
			if !h.Encrypted {
				if err := fn(i, rr); err != nil {
					return err
				}
			}
			i++
		}
	}
	return nil
}

func (a *Archive) rarErr(err error) error {
	if errors.Is(err, rardecode.ErrArchiveEncrypted) {
		a.HeadersEncrypted = true
		a.Entries = nil
		a.walk = func(func(int, io.Reader) error) error { return nil }
		return nil
	}
	if errors.Is(err, rardecode.ErrArchivedFileEncrypted) || errors.Is(err, rardecode.ErrBadPassword) {
		return &Error{Reason: ReasonEncrypted, Msg: "encrypted: " + err.Error(), Err: err}
	}
	if errors.Is(err, rardecode.ErrDictionaryTooLarge) {
		return &Error{Reason: ReasonDecoderMemory, Err: err,
			Msg: fmt.Sprintf("%s: rar: an entry's dictionary is larger than %d bytes", ReasonDecoderMemory, a.limits.MaxDecoderMemory)}
	}
	return malformed(err, "rar")
}
