package pdq

// Plane is a luma plane in pooled memory, for a caller that computes the
// luma itself (a decoder writing straight into it) and so saves building an
// image and copying. Fill Luma (Width×Height, row-major, values 0…255) and
// call Hash or Dihedral once; either returns the memory to the pool.
type Plane struct {
	Width, Height int
	Luma          []float32
	s             *state
}

// NewPlane returns a plane of width×height, which must be at least
// MinDim in each dimension.
func NewPlane(width, height int) Plane {
	s := getState(width*height, width)
	return Plane{Width: width, Height: height, Luma: s.buf1[:width*height], s: s}
}

// LumaTables returns the reference's luma products: the luma of an RGB
// pixel is (t[0][r] + t[1][g]) + t[2][b], summed in that order. Callers
// must not modify the tables.
func LumaTables() *[3][256]float32 { return &lut }

// Hash computes the hash and quality as FromLuma would.
func (p *Plane) Hash() (Hash, int) {
	s := p.s
	defer p.Release()
	s.downsample(p.Height, p.Width, true)
	q := quality(&s.a)
	dct64To16(&s.a, &s.t, &s.b)
	return bitsFromDCT(&s.b), q
}

// Dihedral computes the eight hashes and quality as DihedralFromLuma would.
func (p *Plane) Dihedral() ([8]Hash, int) {
	s := p.s
	defer p.Release()
	s.downsample(p.Height, p.Width, false)
	q := quality(&s.a)
	dct64To16(&s.a, &s.t, &s.b)
	return dihedralFromDCT(&s.b), q
}

// Release returns the memory unused; Hash and Dihedral call it.
func (p *Plane) Release() {
	if p.s != nil {
		putState(p.s)
		p.s, p.Luma = nil, nil
	}
}
