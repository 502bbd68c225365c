//go:build !libjpeg || !cgo

package hashing

import (
	"github.com/vigil-hotline/vigil/internal/jpeg"
)

// JPEGDecoder names the JPEG decoder this build uses: Vigil's own pure-Go
// decoder, which gives libjpeg-turbo's pixels (see internal/jpeg).
const JPEGDecoder = "go-libjpeg-exact"

// JPEGDecoderInfo describes it for `vigil version`.
func JPEGDecoderInfo() string {
	return JPEGDecoder + " (pure Go, with libjpeg-turbo 2.1's pixels; -tags libjpeg builds use libjpeg-turbo through cgo)"
}

var jpegCodec = codec{
	config: func(b []byte) (cfg imageConfig, err error) {
		c, err := jpeg.DecodeConfig(b)
		return imageConfig{Width: c.Width, Height: c.Height}, err
	},
	decode: func(b []byte) (imageImage, error) { return jpeg.Decode(b, 0) },
}

// hashJPEG decodes and hashes a JPEG without building the full image: only
// the pixels that PDQ's reduction to 512×512 reads are upsampled and
// converted (see hashJPEGWith).
func hashJPEG(data []byte, opts Options, res *Result) error {
	return hashJPEGWith(data, opts, res)
}
