package jpeg

// Marker codes (ITU T.81 table B.1).
const (
	mSOF0  = 0xc0
	mSOF1  = 0xc1
	mSOF2  = 0xc2
	mDHT   = 0xc4
	mRST0  = 0xd0
	mRST7  = 0xd7
	mSOI   = 0xd8
	mEOI   = 0xd9
	mSOS   = 0xda
	mDQT   = 0xdb
	mDNL   = 0xdc
	mDRI   = 0xdd
	mAPP0  = 0xe0
	mAPP14 = 0xee
	mCOM   = 0xfe
	mTEM   = 0x01
)

// maxDimension is libjpeg's JPEG_MAX_DIMENSION.
const maxDimension = 65500

// Decoder decodes JPEG images; its zero value is ready. Not safe for
// concurrent use; pool Decoders to reuse their buffers.
type Decoder struct {
	data []byte
	pos  int

	width, height int
	ncomp         int
	comps         [4]component
	hmax, vmax    int
	mcusX, mcusY  int
	progressive   bool
	sawSOF        bool
	cs            ColorSpace
	jfif, adobe   bool
	adobeXform    int

	quant    [4][64]uint16 // natural order
	quantSet [4]bool
	huffSpec [2][4]huffSpec // [0] DC, [1] AC
	huffSet  [2][4]bool
	huff     [2][4]huffTable

	restartInterval int
	coefMode        bool // coefficients kept for several scans
	scans           int

	// The current scan.
	scanComps  [4]*component
	nscan      int
	ss, se     int
	ah, al     int
	eobrun     int
	br         bitReader
	blk        [64]int16
	sampledBuf sampledBuffers

	// TrackExtremes makes Decode note coefficients out of the range of
	// valid files (see Extreme); for tests.
	TrackExtremes bool
	extreme       bool
}

type component struct {
	id, h, v, tq int
	q            [64]int32 // latched quantisation table, natural order
	latched      bool
	// Blocks of the MCU-padded grid, and those that hold image data.
	bw, bh   int
	wib, hib int
	// Downsampled size in samples: what libjpeg upsamples from.
	dw, dh int
	plane  []byte // bw*8 × bh*8 samples after the inverse DCT
	coef   []int16
	dcPred int32
	td, ta int
}

func (d *Decoder) reset() {
	d.pos = 0
	d.width, d.height, d.ncomp = 0, 0, 0
	d.hmax, d.vmax = 0, 0
	d.progressive, d.sawSOF = false, false
	d.cs = 0
	d.jfif, d.adobe, d.adobeXform = false, false, 0
	d.quantSet = [4]bool{}
	d.huffSet = [2][4]bool{}
	d.restartInterval = 0
	d.coefMode = false
	d.scans = 0
	d.extreme = false
	for i := range d.comps {
		c := &d.comps[i]
		plane, coef := c.plane, c.coef
		*c = component{plane: plane, coef: coef}
	}
}

func (d *Decoder) byte() (byte, error) {
	if d.pos >= len(d.data) {
		return 0, malformed("premature end of file")
	}
	b := d.data[d.pos]
	d.pos++
	return b, nil
}

func (d *Decoder) u16() (int, error) {
	if d.pos+2 > len(d.data) {
		return 0, malformed("premature end of file")
	}
	v := int(d.data[d.pos])<<8 | int(d.data[d.pos+1])
	d.pos += 2
	return v, nil
}

// nextMarker skips to the next marker as libjpeg's next_marker does:
// anything before an 0xFF is discarded, fill bytes (0xFF 0xFF) are skipped
// and 0xFF 0x00 is not a marker.
func (d *Decoder) nextMarker() (byte, error) {
	for {
		for d.pos < len(d.data) && d.data[d.pos] != 0xff {
			d.pos++
		}
		for d.pos < len(d.data) && d.data[d.pos] == 0xff {
			d.pos++
		}
		if d.pos >= len(d.data) {
			return 0, malformed("premature end of file")
		}
		c := d.data[d.pos]
		d.pos++
		if c != 0 {
			return c, nil
		}
	}
}

// segment returns the payload of a marker segment.
func (d *Decoder) segment() ([]byte, error) {
	n, err := d.u16()
	if err != nil {
		return nil, err
	}
	if n < 2 {
		return nil, nil // libjpeg skips nothing
	}
	if d.pos+n-2 > len(d.data) {
		return nil, malformed("premature end of file in a marker segment")
	}
	p := d.data[d.pos : d.pos+n-2]
	d.pos += n - 2
	return p, nil
}

// start parses from SOI up to the first SOS (inclusive unless headerOnly),
// as jpeg_read_header does.
func (d *Decoder) start(data []byte, headerOnly bool) error {
	d.reset()
	d.data = data
	if len(data) < 2 || data[0] != 0xff || data[1] != mSOI {
		return malformed("no SOI marker")
	}
	d.pos = 2
	for {
		m, err := d.nextMarker()
		if err != nil {
			return err
		}
		switch {
		case m == mSOS:
			if !d.sawSOF {
				return malformed("SOS before SOF")
			}
			if headerOnly {
				d.setColorSpace()
				return nil
			}
			d.setColorSpace()
			return d.readSOS()
		case m == mEOI:
			return malformed("no image before EOI")
		default:
			if err := d.marker(m); err != nil {
				return err
			}
		}
	}
}

// marker handles every marker other than SOS and EOI.
func (d *Decoder) marker(m byte) error {
	switch {
	case m == mSOI:
		return malformed("duplicate SOI")
	case m == mSOF0 || m == mSOF1 || m == mSOF2:
		return d.readSOF(m == mSOF2)
	case m >= 0xc3 && m <= 0xcf && m != mDHT && m != 0xc8 && m != 0xcc:
		return unsupported("SOF%d (arithmetic, lossless or hierarchical)", m-0xc0)
	case m == mDHT:
		return d.readDHT()
	case m == mDQT:
		return d.readDQT()
	case m == mDRI:
		p, err := d.segment()
		if err != nil {
			return err
		}
		if len(p) != 2 {
			return malformed("DRI length")
		}
		d.restartInterval = int(p[0])<<8 | int(p[1])
		return nil
	case m == mAPP0 || m == mAPP14:
		p, err := d.segment()
		if err != nil {
			return err
		}
		if m == mAPP0 && len(p) >= 14 && string(p[:5]) == "JFIF\x00" {
			d.jfif = true
		}
		if m == mAPP14 && len(p) >= 12 && string(p[:5]) == "Adobe" {
			d.adobe, d.adobeXform = true, int(p[11])
		}
		return nil
	case m >= mRST0 && m <= mRST7 || m == mTEM:
		return nil // no segment; libjpeg ignores them here
	case m >= 0xe0 || m == mCOM || m == mDNL || m == 0xc8 || m == 0xcc:
		// APPn, COM, DNL, JPG, DAC: skipped.
		_, err := d.segment()
		return err
	}
	return malformed("unknown marker 0x%02x", m)
}

func (d *Decoder) readSOF(progressive bool) error {
	if d.sawSOF {
		return malformed("duplicate SOF")
	}
	p, err := d.segment()
	if err != nil {
		return err
	}
	if len(p) < 6 {
		return malformed("SOF length")
	}
	prec := p[0]
	d.height = int(p[1])<<8 | int(p[2])
	d.width = int(p[3])<<8 | int(p[4])
	n := int(p[5])
	if d.height == 0 || d.width == 0 || n == 0 {
		return malformed("empty image")
	}
	if len(p) != 6+3*n {
		return malformed("SOF length")
	}
	if d.width > maxDimension || d.height > maxDimension {
		return malformed("%d×%d is over JPEG's %d", d.width, d.height, maxDimension)
	}
	if prec != 8 {
		return unsupported("%d-bit samples", prec)
	}
	if n != 1 && n != 3 && n != 4 {
		return unsupported("%d components", n)
	}
	d.ncomp = n
	d.progressive = progressive
	d.sawSOF = true
	for i := 0; i < n; i++ {
		c := &d.comps[i]
		c.id = int(p[6+3*i])
		c.h = int(p[7+3*i] >> 4)
		c.v = int(p[7+3*i] & 15)
		c.tq = int(p[8+3*i])
		if c.h < 1 || c.h > 4 || c.v < 1 || c.v > 4 {
			return malformed("sampling factors %d×%d", c.h, c.v)
		}
		d.hmax, d.vmax = max(d.hmax, c.h), max(d.vmax, c.v)
	}
	return nil
}

// setColorSpace infers the colour space as libjpeg's
// default_decompress_parms does.
func (d *Decoder) setColorSpace() {
	switch d.ncomp {
	case 1:
		d.cs = Gray
	case 3:
		switch {
		case d.jfif:
			d.cs = YCbCr
		case d.adobe:
			d.cs = YCbCr
			if d.adobeXform == 0 {
				d.cs = RGB
			}
		case d.comps[0].id == 'R' && d.comps[1].id == 'G' && d.comps[2].id == 'B':
			d.cs = RGB
		default:
			d.cs = YCbCr
		}
	case 4:
		d.cs = CMYK
		if d.adobe && d.adobeXform != 0 {
			d.cs = YCCK
		}
	}
}

func (d *Decoder) readDQT() error {
	p, err := d.segment()
	if err != nil {
		return err
	}
	for len(p) > 0 {
		prec, tq := p[0]>>4, int(p[0]&15)
		if tq >= 4 {
			return malformed("DQT index %d", tq)
		}
		p = p[1:]
		q := &d.quant[tq]
		if prec != 0 {
			if len(p) < 128 {
				return malformed("DQT length")
			}
			for i := 0; i < 64; i++ {
				q[zigzag[i]] = uint16(p[2*i])<<8 | uint16(p[2*i+1])
			}
			p = p[128:]
		} else {
			if len(p) < 64 {
				return malformed("DQT length")
			}
			for i := 0; i < 64; i++ {
				q[zigzag[i]] = uint16(p[i])
			}
			p = p[64:]
		}
		d.quantSet[tq] = true
	}
	return nil
}

func (d *Decoder) readDHT() error {
	p, err := d.segment()
	if err != nil {
		return err
	}
	for len(p) > 16 {
		class, th := int(p[0]>>4), int(p[0]&15)
		var s huffSpec
		count := 0
		for i := 0; i < 16; i++ {
			s.bits[i] = p[1+i]
			count += int(p[1+i])
		}
		if count > 256 || count > len(p)-17 {
			return malformed("bad Huffman table")
		}
		copy(s.vals[:], p[17:17+count])
		p = p[17+count:]
		if class > 1 || th >= 4 {
			return malformed("DHT index 0x%02x", class<<4|th)
		}
		d.huffSpec[class][th] = s
		d.huffSet[class][th] = true
	}
	if len(p) != 0 {
		return malformed("DHT length")
	}
	return nil
}

// readSOS reads a scan header and makes the scan's tables ready.
func (d *Decoder) readSOS() error {
	p, err := d.segment()
	if err != nil {
		return err
	}
	if len(p) < 1 {
		return malformed("SOS length")
	}
	n := int(p[0])
	if len(p) != 4+2*n || n < 1 || n > 4 {
		return malformed("SOS length")
	}
	d.scans++
	if d.scans > maxScans {
		return unsupported("more than %d scans", maxScans)
	}
	d.nscan = n
	for i := 0; i < n; i++ {
		id, t := int(p[1+2*i]), p[2+2*i]
		var c *component
		for j := 0; j < d.ncomp; j++ {
			if d.comps[j].id == id {
				c = &d.comps[j]
				break
			}
		}
		if c == nil {
			return malformed("SOS names unknown component %d", id)
		}
		for j := 0; j < i; j++ {
			if d.scanComps[j] == c {
				return malformed("SOS names component %d twice", id)
			}
		}
		c.td, c.ta = int(t>>4), int(t&15)
		d.scanComps[i] = c
	}
	d.ss, d.se = int(p[1+2*n]), int(p[2+2*n])
	d.ah, d.al = int(p[3+2*n]>>4), int(p[3+2*n]&15)
	return nil
}
