package hashing

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/gif"
	"image/png"
	"io"

	"github.com/vigil-hotline/vigil/internal/jpeg"
	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"
	"golang.org/x/image/webp"
)

// codec is one format's pair of decoding functions.
type codec struct {
	config func([]byte) (image.Config, error)
	decode func([]byte) (image.Image, error)
}

func readerCodec(cfg func(io.Reader) (image.Config, error), dec func(io.Reader) (image.Image, error)) codec {
	return codec{
		config: func(b []byte) (image.Config, error) { return cfg(bytes.NewReader(b)) },
		decode: func(b []byte) (image.Image, error) { return dec(bytes.NewReader(b)) },
	}
}

// codecs are chosen by Sniff, never through the image package's global
// registry, so that other packages' registrations change nothing here.
var codecs = map[Format]codec{
	JPEG: jpegCodec,
	PNG:  readerCodec(png.DecodeConfig, png.Decode),
	GIF:  readerCodec(gif.DecodeConfig, gif.Decode), // first frame only
	BMP:  readerCodec(bmp.DecodeConfig, bmp.Decode),
	TIFF: readerCodec(tiff.DecodeConfig, tiff.Decode),
	WebP: readerCodec(webp.DecodeConfig, webp.Decode),
}

// Sniff detects the format from the leading bytes; "" when unknown.
func Sniff(b []byte) Format {
	switch {
	case len(b) >= 3 && b[0] == 0xff && b[1] == 0xd8 && b[2] == 0xff:
		return JPEG
	case bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")):
		return PNG
	case bytes.HasPrefix(b, []byte("GIF87a")), bytes.HasPrefix(b, []byte("GIF89a")):
		return GIF
	case bytes.HasPrefix(b, []byte("BM")):
		return BMP
	case bytes.HasPrefix(b, []byte("II*\x00")), bytes.HasPrefix(b, []byte("MM\x00*")):
		return TIFF
	case len(b) >= 12 && string(b[:4]) == "RIFF" && string(b[8:12]) == "WEBP":
		return WebP
	}
	return ""
}

// decode reads the header, enforces the pixel limit, then decodes. It sets
// res.Width and res.Height from the header.
func decode(data []byte, maxPixels int64, res *Result) (img image.Image, f Format, err error) {
	f = Sniff(data)
	c, ok := codecs[f]
	if !ok {
		return nil, f, ErrUnsupportedFormat
	}
	// Decoders are written to return errors, but a malformed file must never
	// take the process down: a panic is reported as a malformed image.
	defer func() {
		if p := recover(); p != nil {
			img, err = nil, fmt.Errorf("%w: %s decoder panicked: %v", ErrMalformed, f, p)
		}
	}()
	cfg, err := c.config(data)
	if err != nil {
		return nil, f, classify(f, "header", err)
	}
	res.Width, res.Height = cfg.Width, cfg.Height
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return nil, f, fmt.Errorf("%w: %s header gives %d×%d pixels", ErrMalformed, f, cfg.Width, cfg.Height)
	}
	if px := int64(cfg.Width) * int64(cfg.Height); px > maxPixels {
		return nil, f, fmt.Errorf("%w: %d×%d is %d pixels, limit %d", ErrTooLarge, cfg.Width, cfg.Height, px, maxPixels)
	}
	img, err = c.decode(data)
	if err != nil {
		return nil, f, classify(f, "decoding", err)
	}
	// A decoder that disagrees with its own header is not to be trusted.
	if b := img.Bounds(); int64(b.Dx())*int64(b.Dy()) > maxPixels {
		return nil, f, fmt.Errorf("%w: decoded %d×%d, limit %d pixels", ErrTooLarge, b.Dx(), b.Dy(), maxPixels)
	}
	res.Width, res.Height = img.Bounds().Dx(), img.Bounds().Dy()
	return img, f, nil
}

// classify wraps a decoder error as ErrUnsupportedFormat (a variant of the
// format that the decoder does not handle) or ErrMalformed (anything else,
// including truncation), keeping the original error in the chain.
func classify(f Format, stage string, err error) error {
	var (
		pu png.UnsupportedError
		tu tiff.UnsupportedError
	)
	if errors.Is(err, jpeg.ErrTooLarge) {
		return fmt.Errorf("%w: %s %s: %w", ErrTooLarge, f, stage, err)
	}
	if errors.As(err, &pu) || errors.As(err, &tu) ||
		errors.Is(err, bmp.ErrUnsupported) || errors.Is(err, errUnsupportedJPEG) || errors.Is(err, jpeg.ErrUnsupported) {
		return fmt.Errorf("%w: %s %s: %w", ErrUnsupportedFormat, f, stage, err)
	}
	return fmt.Errorf("%w: %s %s: %w", ErrMalformed, f, stage, err)
}

// errUnsupportedJPEG marks a JPEG variant that the cgo decoder refuses.
var errUnsupportedJPEG = errors.New("unsupported JPEG variant")
