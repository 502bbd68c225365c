// Package jpeg is a JPEG decoder that gives the pixels libjpeg-turbo gives
// with its default settings, so that a perceptual hash computed from them
// equals the reference's (Meta's PDQ CLI decodes through ImageMagick and
// libjpeg-turbo). Go's image/jpeg rounds differently in three places, each
// of which moves PDQ bits on some images; here each is done as libjpeg does:
//
//   - the inverse DCT is libjpeg's accurate integer one (jidctint.c's
//     "islow": 13-bit constants, two passes, the same descaling), whose
//     output the SIMD versions reproduce exactly;
//   - subsampled chroma is upsampled with libjpeg's "fancy" triangular
//     filter (h2v1, h1v2, h2v2; replication otherwise, and for chroma planes
//     two samples wide or narrower, as libjpeg does), not replicated;
//   - YCbCr is converted to RGB with libjpeg's integer tables (jdcolor.c),
//     YCCK to CMYK likewise.
//
// It decodes baseline, extended sequential (including multi-scan) and
// progressive Huffman-coded 8-bit JPEGs with 1, 3 or 4 components and any
// sampling factors libjpeg accepts. Arithmetic coding, 12-bit and lossless
// JPEGs are refused with ErrUnsupported.
//
// Decoding stops with an error where the libjpeg build of Vigil stops: at
// missing data (a marker or the end of the file where scan data should be)
// and at structural errors. Like libjpeg, it ignores what libjpeg only warns
// about (bad Huffman codes decode as zero, stray bytes before a marker are
// skipped). Input is hostile: every size is checked against the header and
// the caller's pixel limit before memory is allocated, nothing panics, and
// the number of scans is capped so that decoding time stays bounded.
//
// A Decoder holds its buffers between calls; reuse one (from a sync.Pool)
// so that steady-state decoding allocates nothing.
package jpeg

import (
	"errors"
	"fmt"
	"image"
)

// Errors, matched with errors.Is.
var (
	ErrMalformed   = errors.New("jpeg: malformed")
	ErrUnsupported = errors.New("jpeg: unsupported")
	ErrTooLarge    = errors.New("jpeg: image over the limit")
)

// maxScans bounds decoding time: each scan walks every block of its
// components, so a file of many tiny scans could otherwise cost time far out
// of proportion to its size. Real progressive files have about ten.
const maxScans = 256

// ColorSpace is the colour space of the JPEG's components, as libjpeg
// infers it from the markers and component identifiers.
type ColorSpace int

// Colour spaces.
const (
	Gray ColorSpace = iota + 1
	YCbCr
	RGB
	CMYK
	YCCK
)

// Config is what the header says.
type Config struct {
	Width, Height int
	ColorSpace    ColorSpace
	Progressive   bool
	// Adobe reports an Adobe APP14 marker; CMYK from Adobe files is stored
	// inverted.
	Adobe bool
}

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrMalformed}, args...)...)
}

func unsupported(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrUnsupported}, args...)...)
}

// DecodeConfig reads the header up to the frame header.
func DecodeConfig(data []byte) (Config, error) {
	var d Decoder
	if err := d.start(data, true); err != nil {
		return Config{}, err
	}
	return d.config(), nil
}

// Decode decodes data into an *image.Gray, *image.RGBA (opaque) or
// *image.CMYK, as the libjpeg build does. maxPixels (0: no limit) refuses
// larger headers before any pixel memory is allocated.
func Decode(data []byte, maxPixels int64) (image.Image, error) {
	var d Decoder
	if err := d.Decode(data, maxPixels); err != nil {
		return nil, err
	}
	return d.Image()
}

func (d *Decoder) config() Config {
	return Config{Width: d.width, Height: d.height, ColorSpace: d.cs, Progressive: d.progressive, Adobe: d.adobe}
}

// Extreme reports whether the last image decoded had a dequantised
// coefficient of magnitude over 2047 (only corrupt files do: the DCT of
// 8-bit samples stays within ±1448), when TrackExtremes was set. There the
// C and SIMD code of libjpeg-turbo disagree with each other (16-bit
// arithmetic wraps in the SIMD code), so no decoder can match "libjpeg";
// the oracle tests skip such files.
func (d *Decoder) Extreme() bool { return d.extreme }

// Config returns the header of the last image decoded.
func (d *Decoder) Config() Config { return d.config() }

// Decode decodes data into the decoder's planes; read them with Image or
// Sampled. data is not retained after Decode returns.
func (d *Decoder) Decode(data []byte, maxPixels int64) error {
	defer func() { d.data, d.br.data = nil, nil }()
	if err := d.start(data, false); err != nil {
		return err
	}
	if maxPixels > 0 && int64(d.width)*int64(d.height) > maxPixels {
		return fmt.Errorf("%w: %d×%d pixels, limit %d", ErrTooLarge, d.width, d.height, maxPixels)
	}
	if err := d.allocate(maxPixels); err != nil {
		return err
	}
	return d.decodeScans()
}
