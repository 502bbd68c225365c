package hashing

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"sync"

	"github.com/vigil-hotline/vigil/internal/jpeg"
	"github.com/vigil-hotline/vigil/internal/pdq"
)

type (
	imageConfig = image.Config
	imageImage  = image.Image
)

// jpegPool keeps decoders, whose planes and output buffers are reused, so
// that hashing photos of similar size allocates nothing in steady state.
var jpegPool = sync.Pool{New: func() any { return new(jpegState) }}

type jpegState struct {
	dec    jpeg.Decoder
	xs, ys []int
}

// hashJPEGWith hashes a JPEG with the pure-Go decoder. PDQ reduces images
// over 512 pixels to 512×512 by nearest neighbour, so only the pixels it
// samples are upsampled and colour-converted, into a 512×512 image whose
// hash is the full image's: the reduction of that image is itself.
//
// One rule needs the whole image: a colour image whose pixels are all grey
// is hashed as greyscale (see pdq.Luma). When every sampled pixel is grey,
// the whole image is converted and hashed as such, so the rule sees every
// pixel as it does in the reference.
func hashJPEGWith(data []byte, opts Options, res *Result) (err error) {
	st := jpegPool.Get().(*jpegState)
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%w: jpeg decoder panicked: %v", ErrMalformed, p)
			st = new(jpegState) // don't pool a decoder left in an unknown state
		}
		jpegPool.Put(st)
	}()
	d := &st.dec
	err = d.Decode(data, opts.maxPixels())
	cfg := d.Config()
	res.Width, res.Height = cfg.Width, cfg.Height
	if err != nil {
		return classifyJPEG(err)
	}
	w, h := cfg.Width, cfg.Height
	if w < pdq.MinDim || h < pdq.MinDim {
		return nil // the zero hash, as the reference gives
	}
	ow, oh := w, h
	if w > pdq.ReduceTo || h > pdq.ReduceTo {
		ow, oh = pdq.ReduceTo, pdq.ReduceTo
	}
	st.xs, st.ys = samplePoints(st.xs, w, ow), samplePoints(st.ys, h, oh)
	img, err := d.Sampled(st.xs, st.ys)
	if err != nil {
		return classifyJPEG(err)
	}
	if (ow != w || oh != h) && allSampledGrey(img) {
		full, err := d.Image()
		if err != nil {
			return classifyJPEG(err)
		}
		img = full
	}
	hashPixels(img, opts, res)
	return nil
}

// samplePoints gives the source index of each of n output positions along a
// dimension of size size, as pdq.Luma's nearest-neighbour reduction takes.
func samplePoints(dst []int, size, n int) []int {
	if cap(dst) < n {
		dst = make([]int, n)
	}
	dst = dst[:n]
	for i := range dst {
		dst[i] = i * size / n
	}
	return dst
}

// allSampledGrey reports whether every pixel of a decoded JPEG has R = G = B
// as pdq.Luma reads it (always false for greyscale, which needs no rule).
func allSampledGrey(img image.Image) bool {
	switch m := img.(type) {
	case *image.RGBA:
		p := m.Pix
		for i := 0; i+3 < len(p); i += 4 {
			if p[i] != p[i+1] || p[i+1] != p[i+2] {
				return false
			}
		}
		return true
	case *image.CMYK:
		p := m.Pix
		for i := 0; i+3 < len(p); i += 4 {
			r, g, b := color.CMYKToRGB(p[i], p[i+1], p[i+2], p[i+3])
			if r != g || g != b {
				return false
			}
		}
		return true
	}
	return false
}

func classifyJPEG(err error) error {
	switch {
	case errors.Is(err, jpeg.ErrTooLarge):
		return fmt.Errorf("%w: %w", ErrTooLarge, err)
	case errors.Is(err, jpeg.ErrUnsupported):
		return fmt.Errorf("%w: jpeg: %w", ErrUnsupportedFormat, err)
	}
	return fmt.Errorf("%w: jpeg: %w", ErrMalformed, err)
}
