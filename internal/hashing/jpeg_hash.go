package hashing

import (
	"errors"
	"fmt"
	"image"
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
// hash is the full image's, straight into PDQ's luma plane.
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
	if opts.Dihedral && ow == 64 && oh == 64 {
		// Both paths of the reference are needed (see hashPixels).
		img, err := d.Sampled(st.xs, st.ys)
		if err != nil {
			return classifyJPEG(err)
		}
		hashPixels(img, opts, res)
		return nil
	}
	p := pdq.NewPlane(ow, oh)
	grey, err := d.SampledLuma(st.xs, st.ys, p.Luma, pdq.LumaTables())
	if err != nil {
		p.Release()
		return classifyJPEG(err)
	}
	if grey {
		if ow != w || oh != h {
			// Pixels not sampled decide whether the reference sees grey.
			p.Release()
			full, err := d.Image()
			if err != nil {
				return classifyJPEG(err)
			}
			hashPixels(full, opts, res)
			return nil
		}
		// A grey image: its luma is the grey value itself.
		if _, err := d.SampledLuma(st.xs, st.ys, p.Luma, &greyTables); err != nil {
			p.Release()
			return classifyJPEG(err)
		}
	}
	if opts.Dihedral {
		dh, q := p.Dihedral()
		res.PDQ, res.Quality, res.Dihedral = dh[pdq.Original], q, &dh
	} else {
		res.PDQ, res.Quality = p.Hash()
	}
	return nil
}

// greyTables make (t[0][r] + t[1][g]) + t[2][b] the green value exactly,
// which is pdq.Luma's value for a grey image.
var greyTables = func() (t [3][256]float32) {
	for v := range 256 {
		t[1][v] = float32(v)
	}
	return t
}()

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

func classifyJPEG(err error) error {
	switch {
	case errors.Is(err, jpeg.ErrTooLarge):
		return fmt.Errorf("%w: %w", ErrTooLarge, err)
	case errors.Is(err, jpeg.ErrUnsupported):
		return fmt.Errorf("%w: jpeg: %w", ErrUnsupportedFormat, err)
	}
	return fmt.Errorf("%w: jpeg: %w", ErrMalformed, err)
}
