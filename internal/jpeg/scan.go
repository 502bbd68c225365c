package jpeg

import "fmt"

// zigzag[i] is the natural-order index of the i-th coefficient in zigzag
// order.
var zigzag = [64]int{
	0, 1, 8, 16, 9, 2, 3, 10,
	17, 24, 32, 25, 18, 11, 4, 5,
	12, 19, 26, 33, 40, 48, 41, 34,
	27, 20, 13, 6, 7, 14, 21, 28,
	35, 42, 49, 56, 57, 50, 43, 36,
	29, 22, 15, 23, 30, 37, 44, 51,
	58, 59, 52, 45, 38, 31, 39, 46,
	53, 60, 61, 54, 47, 55, 62, 63,
}

// natural is zigzag extended as libjpeg's jpeg_natural_order is: a run
// that overshoots position 63 in a corrupt file lands on 63.
var natural = func() (t [128]int) {
	copy(t[:], zigzag[:])
	for i := 64; i < len(t); i++ {
		t[i] = 63
	}
	return t
}()

// allocate sizes the component planes (and coefficient buffers when the
// image comes in several scans) from the frame header, after checking the
// total against the pixel limit, and prepares the first scan.
func (d *Decoder) allocate(maxPixels int64) error {
	d.mcusX = (d.width + 8*d.hmax - 1) / (8 * d.hmax)
	d.mcusY = (d.height + 8*d.vmax - 1) / (8 * d.vmax)
	d.coefMode = d.progressive || d.nscan < d.ncomp
	var total int64
	for i := 0; i < d.ncomp; i++ {
		c := &d.comps[i]
		c.bw, c.bh = d.mcusX*c.h, d.mcusY*c.v
		c.wib = (d.width*c.h + 8*d.hmax - 1) / (8 * d.hmax)
		c.hib = (d.height*c.v + 8*d.vmax - 1) / (8 * d.vmax)
		c.dw = (d.width*c.h + d.hmax - 1) / d.hmax
		c.dh = (d.height*c.v + d.vmax - 1) / d.vmax
		n := int64(c.bw) * int64(c.bh) * 64
		total += n
		if d.coefMode {
			total += 2 * n
		}
	}
	// Sampling factors and MCU padding can make the planes much larger
	// than the pixel count on absurd shapes (one pixel wide, 4×4 factors):
	// bound the memory, not just the pixels.
	if maxPixels > 0 && total > 16*maxPixels+(1<<20) {
		return fmt.Errorf("%w: %d×%d needs %d bytes of planes", ErrTooLarge, d.width, d.height, total)
	}
	for i := 0; i < d.ncomp; i++ {
		if _, _, _, err := d.upMode(&d.comps[i]); err != nil {
			return err
		}
	}
	for i := 0; i < d.ncomp; i++ {
		c := &d.comps[i]
		n := c.bw * c.bh * 64
		c.plane = growBytes(c.plane, n)
		if d.coefMode {
			if cap(c.coef) < n {
				c.coef = make([]int16, n)
			} else {
				c.coef = c.coef[:n]
				clear(c.coef)
			}
		}
	}
	return nil
}

func growBytes(b []byte, n int) []byte {
	if cap(b) < n {
		return make([]byte, n)
	}
	return b[:n]
}

// decodeScans decodes the scan whose header was just read, and every later
// one, up to EOI.
func (d *Decoder) decodeScans() error {
	for {
		if err := d.decodeScan(); err != nil {
			return err
		}
		d.pos = d.br.pos
	markers:
		for {
			m, err := d.nextMarker()
			if err != nil {
				return err
			}
			switch m {
			case mEOI:
				if d.coefMode {
					d.idctAll()
				}
				return nil
			case mSOS:
				if !d.coefMode {
					return malformed("a second scan in a single-scan image")
				}
				if err := d.readSOS(); err != nil {
					return err
				}
				break markers
			default:
				if err := d.marker(m); err != nil {
					return err
				}
			}
		}
	}
}

func (d *Decoder) decodeScan() error {
	sc := d.scanComps[:d.nscan]
	if d.progressive {
		bad := false
		if d.ss == 0 {
			bad = d.se != 0
		} else {
			bad = d.ss > d.se || d.se > 63 || d.nscan != 1
		}
		if d.ah != 0 && d.al != d.ah-1 {
			bad = true
		}
		if d.al > 13 {
			bad = true
		}
		if bad {
			return malformed("bad progression parameters Ss=%d Se=%d Ah=%d Al=%d", d.ss, d.se, d.ah, d.al)
		}
	}
	blocks := 0
	for _, c := range sc {
		if !c.latched {
			if c.tq >= 4 || !d.quantSet[c.tq] {
				return malformed("no quantisation table %d", c.tq)
			}
			for i, q := range d.quant[c.tq] {
				c.q[i] = int32(int16(q)) // libjpeg's multiplier table is 16-bit
			}
			c.latched = true
		}
		c.dcPred = 0
		switch {
		case !d.progressive:
			if err := d.tableFor(0, c.td); err != nil {
				return err
			}
			if err := d.tableFor(1, c.ta); err != nil {
				return err
			}
		case d.ss == 0 && d.ah == 0:
			if err := d.tableFor(0, c.td); err != nil {
				return err
			}
		case d.ss != 0:
			if err := d.tableFor(1, c.ta); err != nil {
				return err
			}
		}
		blocks += c.h * c.v
	}
	if d.nscan > 1 && blocks > 10 {
		return malformed("%d blocks in an MCU", blocks)
	}
	d.eobrun = 0
	d.br.init(d.data, d.pos)

	var mx, my int
	if d.nscan == 1 {
		mx, my = sc[0].wib, sc[0].hib
	} else {
		mx, my = d.mcusX, d.mcusY
	}
	togo, next := d.restartInterval, 0
	for y := 0; y < my; y++ {
		for x := 0; x < mx; x++ {
			if d.restartInterval > 0 {
				if togo == 0 {
					if err := d.restart(next); err != nil {
						return err
					}
					next = (next + 1) & 7
					togo = d.restartInterval
					for _, c := range sc {
						c.dcPred = 0
					}
					d.eobrun = 0
				}
				togo--
			}
			if d.nscan == 1 {
				d.decodeBlockAt(sc[0], x, y)
			} else {
				for _, c := range sc {
					for by := 0; by < c.v; by++ {
						for bx := 0; bx < c.h; bx++ {
							d.decodeBlockAt(c, x*c.h+bx, y*c.v+by)
						}
					}
				}
			}
			if d.br.overrun() {
				return malformed("premature end of scan data")
			}
		}
	}
	return nil
}

// decodeBlockAt decodes block (bx, by) of c in the current scan: straight
// through the inverse DCT into the plane for a single-scan image, into the
// coefficient buffer otherwise.
func (d *Decoder) decodeBlockAt(c *component, bx, by int) {
	if !d.coefMode {
		blk := &d.blk
		last := d.decodeSequential(c, blk)
		if bx < c.wib && by < c.hib {
			if d.TrackExtremes {
				d.noteExtreme(blk, &c.q)
			}
			stride := c.bw * 8
			dst := c.plane[by*8*stride+bx*8:]
			switch {
			case last == 0:
				idctDC(blk[0], c.q[0], dst, stride)
			case last <= 9: // zigzag 0…9 lie in the top-left 4×4
				idctIslow4(blk, &c.q, dst, stride)
			default:
				idctIslow(blk, &c.q, dst, stride)
			}
		}
		if last != 0 {
			*blk = [64]int16{}
		}
		return
	}
	off := (by*c.bw + bx) * 64
	blk := (*[64]int16)(c.coef[off : off+64])
	switch {
	case !d.progressive:
		*blk = [64]int16{}
		d.decodeSequential(c, blk)
	case d.ss == 0 && d.ah == 0:
		d.decodeDCFirst(c, blk)
	case d.ss == 0:
		if d.br.bit() {
			blk[0] |= 1 << d.al
		}
	case d.ah == 0:
		d.decodeACFirst(c, blk)
	default:
		d.decodeACRefine(c, blk)
	}
}

// decodeSequential decodes one block of a sequential scan into blk, which
// is zero on entry, and returns the zigzag index of the last coefficient
// coded (0: DC only). The bit reader's state is kept in locals: this is the
// decoder's hottest loop.
func (d *Decoder) decodeSequential(c *component, blk *[64]int16) (last int) {
	br := &d.br
	dct, act := &d.huff[0][c.td], &d.huff[1][c.ta]
	if br.n < 32 {
		br.fill()
	}
	if s := br.decode(dct); s != 0 {
		c.dcPred += br.receiveExtend(uint(s))
	}
	blk[0] = int16(c.dcPred)
	acc, n := br.acc, br.n
	for k := 1; k < 64; k++ {
		// A code (≤ 17 bits) and its extra bits (≤ 15) fit in 32.
		if n < 32 {
			br.acc, br.n = acc, n
			br.fill()
			acc, n = br.acc, br.n
		}
		idx := acc >> (64 - lutBits)
		if f := act.fast[idx]; f != 0 {
			l := uint(f & 0xff)
			acc <<= l
			n -= l
			k += int(f>>8) & 15
			blk[natural[k&127]&63] = int16(f >> 16)
			last = k
			continue
		}
		var rs int
		if v := act.lut[idx]; v != 0 {
			l := uint(v >> 8)
			acc <<= l
			n -= l
			rs = int(v & 0xff)
		} else {
			br.acc, br.n = acc, n
			rs = br.decodeSlow(act)
			acc, n = br.acc, br.n
		}
		r, s := rs>>4, uint(rs&15)
		if s != 0 {
			k += r
			v := int32(acc >> (64 - s))
			acc <<= s
			n -= s
			blk[natural[k&127]&63] = int16(extend(v, s))
			last = k
		} else {
			if r != 15 {
				break
			}
			k += 15
		}
	}
	br.acc, br.n = acc, n
	return last
}

func (d *Decoder) decodeDCFirst(c *component, blk *[64]int16) {
	br := &d.br
	if s := br.decode(&d.huff[0][c.td]); s != 0 {
		c.dcPred += br.receiveExtend(uint(s))
	}
	blk[0] = int16(c.dcPred << d.al)
}

func (d *Decoder) decodeACFirst(c *component, blk *[64]int16) {
	if d.eobrun > 0 {
		d.eobrun--
		return
	}
	br := &d.br
	ac := &d.huff[1][c.ta]
	for k := d.ss; k <= d.se; k++ {
		rs := br.decode(ac)
		r, s := rs>>4, uint(rs&15)
		if s != 0 {
			k += r
			blk[natural[k]] = int16(br.receiveExtend(s) << d.al)
		} else {
			if r != 15 {
				d.eobrun = 1 << r
				if r != 0 {
					d.eobrun += int(br.bits(uint(r)))
				}
				d.eobrun--
				break
			}
			k += 15
		}
	}
}

func (d *Decoder) decodeACRefine(c *component, blk *[64]int16) {
	br := &d.br
	ac := &d.huff[1][c.ta]
	p1 := int16(1) << d.al
	m1 := int16(-1) << d.al
	k := d.ss
	refine := func(coef *int16) {
		if br.bit() && *coef&p1 == 0 {
			if *coef >= 0 {
				*coef += p1
			} else {
				*coef += m1
			}
		}
	}
	if d.eobrun == 0 {
		for ; k <= d.se; k++ {
			rs := br.decode(ac)
			r, s := rs>>4, rs&15
			var v int16
			if s != 0 {
				// s should be 1; libjpeg only warns otherwise.
				if br.bit() {
					v = p1
				} else {
					v = m1
				}
			} else if r != 15 {
				d.eobrun = 1 << r
				if r != 0 {
					d.eobrun += int(br.bits(uint(r)))
				}
				break
			}
			for k <= d.se {
				coef := &blk[natural[k]]
				if *coef != 0 {
					refine(coef)
				} else {
					r--
					if r < 0 {
						break
					}
				}
				k++
			}
			if v != 0 {
				blk[natural[k]] = v
			}
		}
	}
	if d.eobrun > 0 {
		for ; k <= d.se; k++ {
			if coef := &blk[natural[k]]; *coef != 0 {
				refine(coef)
			}
		}
		d.eobrun--
	}
}

// idctAll runs the inverse DCT over every block that holds image data.
func (d *Decoder) idctAll() {
	for i := 0; i < d.ncomp; i++ {
		c := &d.comps[i]
		stride := c.bw * 8
		for by := 0; by < c.hib; by++ {
			for bx := 0; bx < c.wib; bx++ {
				off := (by*c.bw + bx) * 64
				if d.TrackExtremes {
					d.noteExtreme((*[64]int16)(c.coef[off:off+64]), &c.q)
				}
				idctIslow((*[64]int16)(c.coef[off:off+64]), &c.q, c.plane[by*8*stride+bx*8:], stride)
			}
		}
	}
}

func (d *Decoder) noteExtreme(blk *[64]int16, q *[64]int32) {
	for i, v := range blk {
		if p := int32(v) * q[i]; p > 2047 || p < -2047 {
			d.extreme = true
		}
	}
}
