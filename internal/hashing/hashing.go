// Package hashing turns the bytes of an image file into the hashes that
// hotlines exchange: PDQ (with its quality and, on request, the eight
// dihedral hashes) and the exact digests MD5, SHA-1 and SHA-256. It is what
// the crawler and the scanning API call, and it is safe for concurrent use:
// every function is stateless apart from internal buffer pools.
//
// # What is hashed
//
// PDQ follows Meta's reference CLI (pdq-photo-hasher), whose values the hash
// lists in the field were made with. The choices, and where they differ:
//
//   - Formats: JPEG (baseline, progressive, greyscale, CMYK/YCCK), PNG (all
//     colour types and depths, interlaced), GIF (first frame only, its own
//     rectangle), BMP, TIFF and WebP (lossy and lossless). The format is
//     found from the leading bytes, never from a file name.
//   - Images larger than 512 pixels in either dimension are reduced to
//     exactly 512×512 by nearest neighbour first (aspect ratio not kept), as
//     the reference does.
//   - Alpha is dropped, not composited: the colour under a transparent pixel
//     is hashed. (Go's GIF decoder stores a transparent palette entry as
//     black, so there the hidden colour is black.)
//   - EXIF orientation is not applied; the dihedral hashes cover rotated and
//     mirrored copies.
//   - 16-bit samples are reduced to their high byte. The reference CLI keeps
//     the low byte (a bug in its image loader), so for 16-bit PNG and TIFF
//     files the hash here differs from the reference's; this one is the hash
//     of the image as it looks.
//   - Images under 5 pixels in either dimension get the all-zero hash and
//     quality 0, without an error, as in the reference. Callers should treat
//     quality below 50 as "no usable perceptual hash", as the field does.
//   - JPEG is decoded by internal/jpeg, a pure-Go decoder that gives
//     libjpeg-turbo's pixels (its integer IDCT, fancy upsampling and colour
//     tables), so that PDQ is bit-exact with the reference's on JPEGs;
//     building with -tags libjpeg decodes with libjpeg-turbo itself through
//     cgo, configured as ImageMagick configures it, with the same pixels.
//     Other formats use Go's decoders (image/png, image/gif and
//     golang.org/x/image).
//
// # Limits and errors
//
// Input over Options.MaxBytes (default 64 MiB) is refused with ErrTooLarge,
// and so is an image whose header declares more than Options.MaxPixels
// (default 100 megapixels): the header is read before any pixel memory is
// allocated. Unknown formats give ErrUnsupportedFormat, empty input ErrEmpty,
// and truncated or corrupt files ErrMalformed; the decoder's own error is
// wrapped too. A panic inside a decoder is recovered and reported as
// ErrMalformed. When the bytes were read but the image could not be hashed,
// the Result still carries the size and the exact digests, which are valid
// for any file.
package hashing

import (
	"bytes"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"image"
	"io"
	"os"
	"sync"

	"github.com/vigil-hotline/vigil/internal/pdq"
)

// Default limits.
const (
	DefaultMaxBytes  = 64 << 20
	DefaultMaxPixels = 100_000_000
)

// Errors, matched with errors.Is. Each returned error wraps one of them.
var (
	ErrTooLarge          = errors.New("hashing: input over the limit")
	ErrUnsupportedFormat = errors.New("hashing: unsupported image format")
	ErrMalformed         = errors.New("hashing: malformed image")
	ErrEmpty             = errors.New("hashing: empty input")
)

// Format is an image file format, as detected from its leading bytes.
type Format string

// Formats that Hash decodes.
const (
	JPEG Format = "jpeg"
	PNG  Format = "png"
	GIF  Format = "gif"
	BMP  Format = "bmp"
	TIFF Format = "tiff"
	WebP Format = "webp"
)

// Options tune one call. The zero value is ready to use.
type Options struct {
	// MaxBytes refuses longer input. 0 means DefaultMaxBytes.
	MaxBytes int64
	// MaxPixels refuses images whose header declares more pixels
	// (width × height). 0 means DefaultMaxPixels.
	MaxPixels int64
	// Dihedral also computes the hashes of the eight rotations and flips.
	Dihedral bool
}

func (o Options) maxBytes() int64 {
	if o.MaxBytes <= 0 {
		return DefaultMaxBytes
	}
	return o.MaxBytes
}

func (o Options) maxPixels() int64 {
	if o.MaxPixels <= 0 {
		return DefaultMaxPixels
	}
	return o.MaxPixels
}

// Result is what Hash computes for one input.
type Result struct {
	// PDQ is the perceptual hash; zero for images under 5 pixels.
	PDQ pdq.Hash
	// Quality is PDQ's 0…100 quality score; below 50 the hash should not be
	// used for matching.
	Quality int
	// Dihedral holds the hashes of the eight rotations and flips, in the
	// order pdq.Original … pdq.FlipMinus1, when Options.Dihedral is set;
	// otherwise nil. Dihedral[pdq.Original] equals PDQ except, in rounding,
	// for images of exactly 64×64, where the reference's two paths differ
	// (see pdq.DihedralFromLuma); PDQ never depends on Options.Dihedral.
	Dihedral *[8]pdq.Hash

	// Exact digests of the bytes as given.
	MD5    [md5.Size]byte
	SHA1   [sha1.Size]byte
	SHA256 [sha256.Size]byte
	// Size is the input's length in bytes.
	Size int64
	// Digested reports that the whole input was read and the digests are
	// set; false when it was refused for its length or could not be read.
	Digested bool

	// Width and Height are the image's size as decoded; Format its format.
	Width, Height int
	Format        Format
}

// Hash reads r to the end (at most Options.MaxBytes) and hashes it. The
// digests are computed while reading.
func Hash(r io.Reader, opts Options) (Result, error) {
	var res Result
	buf := bufPool.Get().(*bytes.Buffer)
	defer putBuf(buf)
	buf.Reset()
	limit := opts.maxBytes()
	d := newDigester()
	n, err := io.Copy(io.MultiWriter(buf, d), io.LimitReader(r, limit+1))
	res.Size = n
	if err != nil {
		return res, fmt.Errorf("hashing: reading: %w", err)
	}
	if n > limit {
		return res, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, limit)
	}
	d.sum(&res)
	err = hashImage(buf.Bytes(), opts, &res)
	return res, err
}

// HashBytes hashes data, which it does not retain or modify.
func HashBytes(data []byte, opts Options) (Result, error) {
	res := Result{Size: int64(len(data))}
	if limit := opts.maxBytes(); res.Size > limit {
		return res, fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, res.Size, limit)
	}
	d := digesters.Get().(*digester)
	_, _ = d.Write(data) // never fails
	d.sum(&res)
	d.reset()
	digesters.Put(d)
	err := hashImage(data, opts, &res)
	return res, err
}

// HashFile hashes the file at path. A file known from its size to be over
// the byte limit is refused without being read.
func HashFile(path string, opts Options) (Result, error) {
	f, err := os.Open(path)
	if err != nil {
		return Result{}, err
	}
	defer func() { _ = f.Close() }() // read only
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
		if limit := opts.maxBytes(); fi.Size() > limit {
			return Result{Size: fi.Size()}, fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, fi.Size(), limit)
		}
	}
	return Hash(f, opts)
}

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func putBuf(b *bytes.Buffer) {
	// Keep ordinary photo-sized buffers; let huge ones go.
	if b.Cap() <= 16<<20 {
		bufPool.Put(b)
	}
}

// digester computes the three digests in one pass over the bytes.
type digester struct {
	md5, sha1, sha256 hash.Hash
}

// digesters are pooled so that hashing allocates nothing per image.
var digesters = sync.Pool{New: func() any { return newDigester() }}

func (d *digester) reset() {
	d.md5.Reset()
	d.sha1.Reset()
	d.sha256.Reset()
}

func newDigester() *digester {
	return &digester{md5: md5.New(), sha1: sha1.New(), sha256: sha256.New()}
}

// Write never fails: a hash.Hash's Write never does.
func (d *digester) Write(p []byte) (int, error) {
	d.md5.Write(p)
	d.sha1.Write(p)
	d.sha256.Write(p)
	return len(p), nil
}

func (d *digester) sum(r *Result) {
	r.Digested = true
	d.md5.Sum(r.MD5[:0])
	d.sha1.Sum(r.SHA1[:0])
	d.sha256.Sum(r.SHA256[:0])
}

// hashImage decodes data and fills the image fields of res.
func hashImage(data []byte, opts Options, res *Result) error {
	if len(data) == 0 {
		return ErrEmpty
	}
	if Sniff(data) == JPEG {
		res.Format = JPEG
		return hashJPEG(data, opts, res)
	}
	img, format, err := decode(data, opts.maxPixels(), res)
	res.Format = format
	if err != nil {
		return err
	}
	hashPixels(img, opts, res)
	return nil
}

// hashPixels computes PDQ (and the dihedral hashes when asked) of img.
func hashPixels(img image.Image, opts Options, res *Result) {
	if opts.Dihedral {
		d, q := pdq.FromImageDihedral(img)
		res.PDQ, res.Quality, res.Dihedral = d[pdq.Original], q, &d
		if b := img.Bounds(); b.Dx() == 64 && b.Dy() == 64 {
			res.PDQ, res.Quality = pdq.FromImage(img)
		}
	} else {
		res.PDQ, res.Quality = pdq.FromImage(img)
	}
}

// DecodeImage decodes data as Hash does (format detection, both limits,
// recovered panics) and returns the pixels without hashing them, for
// callers that need the image itself, such as benchmarks and thumbnails.
func DecodeImage(data []byte, opts Options) (image.Image, Format, error) {
	if int64(len(data)) > opts.maxBytes() {
		return nil, "", fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, len(data), opts.maxBytes())
	}
	if len(data) == 0 {
		return nil, "", ErrEmpty
	}
	return decode(data, opts.maxPixels(), &Result{})
}
