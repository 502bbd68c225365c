// Package archive opens the containers that collections travel in (ZIP,
// RAR, 7z, tar, gzip) and hands their entries out one at a time, within
// limits checked from the headers before anything is extracted: entry
// count, total and per-entry uncompressed size, compression ratio. What an
// archive holds is hostile input: entry names are only ever labels (never
// file paths), declared sizes are checked again while reading, and an
// entry's bytes are read into a buffer of at most Limits.MaxEntrySize.
// Nothing is written to disk.
package archive

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// Format names a container format.
type Format string

// Formats recognised by Detect.
const (
	ZIP      Format = "zip"
	RAR      Format = "rar"
	SevenZip Format = "7z"
	Tar      Format = "tar"
	Gzip     Format = "gzip"
)

// Detect returns the container format of data from its first bytes, or ""
// when it is none.
func Detect(b []byte) Format {
	has := func(off int, sig string) bool {
		return len(b) >= off+len(sig) && string(b[off:off+len(sig)]) == sig
	}
	switch {
	case has(0, "PK\x03\x04"), has(0, "PK\x05\x06"):
		return ZIP
	case has(0, "Rar!\x1a\x07"):
		return RAR
	case has(0, "7z\xbc\xaf\x27\x1c"):
		return SevenZip
	case has(0, "\x1f\x8b"):
		return Gzip
	case has(257, "ustar"):
		return Tar
	}
	return ""
}

// MIME is the media type recorded for a format.
func (f Format) MIME() string {
	switch f {
	case ZIP:
		return "application/zip"
	case RAR:
		return "application/vnd.rar"
	case SevenZip:
		return "application/x-7z-compressed"
	case Tar:
		return "application/x-tar"
	case Gzip:
		return "application/gzip"
	}
	return "application/octet-stream"
}

// Defaults for Limits' zero fields.
const (
	DefaultMaxEntries   = 5000
	DefaultMaxEntrySize = 64 << 20
	DefaultMaxTotalSize = 1 << 30
	DefaultMaxRatio     = 100
	DefaultMaxNesting   = 3
	// DefaultMaxDecoderMemory bounds what one decoder may allocate from
	// what a header declares (an LZMA/LZMA2 or RAR dictionary, a PPMd
	// model). It is fixed rather than derived from the size limits: the
	// memory is taken up front whatever the entries' sizes, by every
	// worker decoding at once, so it is a budget of the machine, not of
	// the content. 64 MiB is what 7-Zip's and WinRAR's strongest presets
	// write (-mx9: a 64 MiB dictionary; RAR5 defaults to 32 MiB), so
	// archives made with ordinary tools pass; larger ones are refused with
	// ReasonDecoderMemory and queued for an analyst.
	DefaultMaxDecoderMemory = 64 << 20
	// ratioFloor: below this many uncompressed bytes the ratio is not
	// judged (a small blank file compresses extremely well, harmlessly).
	ratioFloor = 1 << 20
	// maxName bounds an entry name as recorded.
	maxName = 1024
)

// Limits bound what an archive may make Vigil read. Zero fields take the
// defaults above.
type Limits struct {
	MaxEntries   int   // entries listed in the headers
	MaxEntrySize int64 // uncompressed bytes of one entry
	MaxTotalSize int64 // uncompressed bytes of every entry together
	MaxRatio     int64 // uncompressed ÷ compressed, per entry and overall
	MaxNesting   int   // archives inside archives, the outermost being 1
	// MaxDecoderMemory bounds the memory one decoder may be asked to
	// allocate by a header (dictionary, model), checked before decoding.
	MaxDecoderMemory int64
}

// WithDefaults returns l with its zero fields set.
func (l Limits) WithDefaults() Limits {
	if l.MaxEntries <= 0 {
		l.MaxEntries = DefaultMaxEntries
	}
	if l.MaxEntrySize <= 0 {
		l.MaxEntrySize = DefaultMaxEntrySize
	}
	if l.MaxTotalSize <= 0 {
		l.MaxTotalSize = DefaultMaxTotalSize
	}
	if l.MaxRatio <= 0 {
		l.MaxRatio = DefaultMaxRatio
	}
	if l.MaxNesting <= 0 {
		l.MaxNesting = DefaultMaxNesting
	}
	if l.MaxDecoderMemory <= 0 {
		l.MaxDecoderMemory = DefaultMaxDecoderMemory
	}
	return l
}

// Reason says why an archive or an entry was not (wholly) extracted.
type Reason string

// Reasons recorded in the evidence.
const (
	ReasonEncrypted      Reason = "encrypted"
	ReasonTooManyEntries Reason = "too_many_entries"
	ReasonTooLarge       Reason = "too_large"
	ReasonRatio          Reason = "compression_ratio"
	ReasonSizeMismatch   Reason = "size_mismatch"
	ReasonMalformed      Reason = "malformed"
	ReasonNesting        Reason = "nested_too_deep"
	ReasonUnsupported    Reason = "unsupported"
	// ReasonDecoderMemory: a header asks a decoder for more memory (a
	// dictionary, a model) than Limits.MaxDecoderMemory.
	ReasonDecoderMemory Reason = "decoder_memory"
)

// Error is a refusal or failure with its reason.
type Error struct {
	Reason Reason
	Msg    string
	Err    error
}

func (e *Error) Error() string { return e.Msg }
func (e *Error) Unwrap() error { return e.Err }

// ReasonOf returns err's reason, or "" when err is not an *Error.
func ReasonOf(err error) Reason {
	var e *Error
	if errors.As(err, &e) {
		return e.Reason
	}
	return ""
}

func refuse(r Reason, format string, args ...any) *Error {
	return &Error{Reason: r, Msg: string(r) + ": " + fmt.Sprintf(format, args...)}
}

// Entry is one file listed in an archive's headers.
type Entry struct {
	// Name is the entry's path inside the archive, made valid UTF-8 and
	// bounded; a label for the evidence, never a path on disk.
	Name string
	// Size is the declared uncompressed size; Compressed the declared
	// compressed size, 0 when the format does not say per entry.
	Size       int64
	Compressed int64
	Modified   time.Time
	Encrypted  bool
}

// Listing is what an archive's headers say.
type Listing struct {
	Format  Format
	Entries []Entry
	// Encrypted counts the entries whose contents are encrypted; when
	// HeadersEncrypted, the names themselves are hidden and Entries is
	// empty.
	Encrypted        int
	HeadersEncrypted bool
}

// Archive is an opened archive: its listing, and a way to read its entries
// in order.
type Archive struct {
	Listing
	data   []byte
	limits Limits
	walk   func(fn func(i int, r io.Reader) error) error
}

// Open reads an archive's headers from data and checks them against the
// limits. A listing that breaks a limit is refused whole, before anything
// is extracted, with an *Error saying which limit; an encrypted archive is
// not an error (see Listing.Encrypted).
func Open(data []byte, lim Limits) (a *Archive, err error) {
	defer recoverMalformed(&err)
	lim = lim.WithDefaults()
	a = &Archive{data: data, limits: lim}
	a.Format = Detect(data)
	switch a.Format {
	case ZIP:
		err = a.openZIP()
	case RAR:
		err = a.openRAR()
	case SevenZip:
		err = a.open7z()
	case Tar, Gzip:
		err = a.openTar()
	default:
		return nil, refuse(ReasonUnsupported, "not an archive")
	}
	if err != nil {
		return nil, err
	}
	if err := a.check(); err != nil {
		return nil, err
	}
	return a, nil
}

// check applies the limits to the listing.
func (a *Archive) check() error {
	lim := a.limits
	if n := len(a.Entries); n > lim.MaxEntries {
		return refuse(ReasonTooManyEntries, "%d entries, limit %d", n, lim.MaxEntries)
	}
	var total int64
	for _, e := range a.Entries {
		if e.Size < 0 {
			return refuse(ReasonMalformed, "entry %q declares a negative size", e.Name)
		}
		if e.Size > lim.MaxEntrySize && !e.Encrypted {
			return refuse(ReasonTooLarge, "entry %q declares %d bytes, limit %d", e.Name, e.Size, lim.MaxEntrySize)
		}
		if e.Compressed > 0 && e.Size >= ratioFloor && e.Size/e.Compressed > lim.MaxRatio {
			return refuse(ReasonRatio, "entry %q expands %d times, limit %d", e.Name, e.Size/e.Compressed, lim.MaxRatio)
		}
		total += e.Size
		if total > lim.MaxTotalSize {
			return refuse(ReasonTooLarge, "entries declare more than %d bytes in all", lim.MaxTotalSize)
		}
	}
	if n := int64(len(a.data)); n > 0 && total >= ratioFloor && total/n > lim.MaxRatio {
		return refuse(ReasonRatio, "archive expands %d times, limit %d", total/n, lim.MaxRatio)
	}
	return nil
}

// Walk calls fn for each entry that is not encrypted, in order, with its
// index in Entries and its contents, read within the declared size (an
// entry that holds more than its header says ends the walk with
// ReasonSizeMismatch). fn returning an error ends the walk with it.
func (a *Archive) Walk(fn func(i int, e Entry, data []byte) error) (err error) {
	defer recoverMalformed(&err)
	return a.walk(func(i int, r io.Reader) error {
		e := a.Entries[i]
		if e.Encrypted {
			return nil
		}
		// Each entry its own buffer (fn may keep it), grown as bytes
		// arrive: a declared size is not trusted for an allocation.
		buf := bytes.NewBuffer(make([]byte, 0, min(e.Size+1, 1<<20)))
		lr := &io.LimitedReader{R: r, N: e.Size + 1}
		if _, err := buf.ReadFrom(lr); err != nil {
			return malformed(err, "read %q", e.Name)
		}
		if int64(buf.Len()) > e.Size {
			return refuse(ReasonSizeMismatch, "entry %q holds more than the %d bytes it declares", e.Name, e.Size)
		}
		return fn(i, e, buf.Bytes())
	})
}

func malformed(err error, format string, args ...any) error {
	var ae *Error
	if errors.As(err, &ae) {
		return err
	}
	return &Error{Reason: ReasonMalformed, Msg: "malformed: " + fmt.Sprintf(format, args...) + ": " + err.Error(), Err: err}
}

// recoverMalformed turns a decoder's panic on hostile input into a refusal:
// the third-party readers (RAR, 7z) are not all proven against every
// malformed file, and one archive must not take a worker down.
func recoverMalformed(err *error) {
	if r := recover(); r != nil {
		*err = &Error{Reason: ReasonMalformed, Msg: fmt.Sprintf("malformed: the decoder failed: %v", r)}
	}
}

// cleanName makes an entry name fit to record: valid UTF-8, no NUL, no
// backslashes, bounded.
func cleanName(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.ReplaceAll(s, "\x00", "\uFFFD")
	s = strings.ReplaceAll(s, "\\", "/")
	if len(s) > maxName {
		s = s[:maxName]
		s = strings.ToValidUTF8(s, "")
	}
	return s
}
