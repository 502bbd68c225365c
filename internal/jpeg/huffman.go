package jpeg

import "encoding/binary"

// huffSpec is a Huffman table as a DHT segment gives it.
type huffSpec struct {
	bits [16]uint8 // number of codes of each length 1…16
	vals [256]uint8
}

// lutBits is how many bits one lookup decodes; longer codes take the
// canonical slow path, as libjpeg's do past its 8-bit lookahead.
const lutBits = 9

// huffTable is a Huffman table ready for decoding (libjpeg's
// d_derived_tbl plus a lookup table).
type huffTable struct {
	// lut[next lutBits bits] = length<<8 | symbol; 0 when the code is
	// longer than lutBits (or invalid).
	lut [1 << lutBits]uint16
	// fast[next lutBits bits], for AC tables, decodes a whole coefficient
	// when the code and its extra bits fit: value<<16 | run<<8 | bits
	// used; 0 otherwise.
	fast      [1 << lutBits]int32
	maxcode   [18]int32 // largest code of each length, -1 if none
	valoffset [18]int32
	vals      [256]uint8
}

// build derives the decoding table as jpeg_make_d_derived_tbl does,
// refusing the same malformed tables.
func (t *huffTable) build(s *huffSpec, isDC bool) error {
	var huffsize [257]uint8
	var huffcode [257]int32
	p := 0
	for l := 1; l <= 16; l++ {
		n := int(s.bits[l-1])
		if p+n > 256 {
			return malformed("bad Huffman table")
		}
		for ; n > 0; n-- {
			huffsize[p] = uint8(l)
			p++
		}
	}
	numsymbols := p
	code := int32(0)
	si := uint8(huffsize[0])
	p = 0
	for huffsize[p] != 0 {
		for huffsize[p] == si {
			huffcode[p] = code
			p++
			code++
		}
		if code >= 1<<si {
			return malformed("bad Huffman table")
		}
		code <<= 1
		si++
	}
	p = 0
	for l := 1; l <= 16; l++ {
		if s.bits[l-1] != 0 {
			t.valoffset[l] = int32(p) - huffcode[p]
			p += int(s.bits[l-1])
			t.maxcode[l] = huffcode[p-1]
		} else {
			t.maxcode[l] = -1
		}
	}
	t.valoffset[17] = 0
	t.maxcode[17] = 0xfffff // ends the slow path's search
	t.vals = s.vals
	t.lut = [1 << lutBits]uint16{}
	p = 0
	for l := 1; l <= lutBits; l++ {
		for i := 0; i < int(s.bits[l-1]); i, p = i+1, p+1 {
			lookbits := int(huffcode[p]) << (lutBits - l)
			for ctr := 1 << (lutBits - l); ctr > 0; ctr-- {
				t.lut[lookbits] = uint16(l)<<8 | uint16(s.vals[p])
				lookbits++
			}
		}
	}
	t.fast = [1 << lutBits]int32{}
	if !isDC {
		for idx, v := range t.lut {
			if v == 0 {
				continue
			}
			l, sym := uint(v>>8), int(v&0xff)
			r, sz := sym>>4, uint(sym&15)
			if sz == 0 || l+sz > lutBits {
				continue
			}
			extra := int32(idx>>(lutBits-l-sz)) & (1<<sz - 1)
			t.fast[idx] = extend(extra, sz)<<16 | int32(r)<<8 | int32(l+sz)
		}
	}
	if isDC {
		// DC symbols are bit counts; libjpeg refuses any over 15.
		for i := 0; i < numsymbols; i++ {
			if s.vals[i] > 15 {
				return malformed("bad Huffman table")
			}
		}
	}
	return nil
}

// The tables of ITU T.81 annex K.3, which libjpeg-turbo substitutes for a
// table that a scan uses but no DHT defined (Motion-JPEG frames omit them).
var stdHuff = [2][2]huffSpec{
	{ // DC
		{bits: [16]uint8{0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0},
			vals: [256]uint8{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}},
		{bits: [16]uint8{0, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0},
			vals: [256]uint8{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}},
	},
	{ // AC
		{bits: [16]uint8{0, 2, 1, 3, 3, 2, 4, 3, 5, 5, 4, 4, 0, 0, 1, 0x7d},
			vals: [256]uint8{
				0x01, 0x02, 0x03, 0x00, 0x04, 0x11, 0x05, 0x12, 0x21, 0x31, 0x41, 0x06, 0x13, 0x51, 0x61, 0x07,
				0x22, 0x71, 0x14, 0x32, 0x81, 0x91, 0xa1, 0x08, 0x23, 0x42, 0xb1, 0xc1, 0x15, 0x52, 0xd1, 0xf0,
				0x24, 0x33, 0x62, 0x72, 0x82, 0x09, 0x0a, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x25, 0x26, 0x27, 0x28,
				0x29, 0x2a, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49,
				0x4a, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69,
				0x6a, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89,
				0x8a, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7,
				0xa8, 0xa9, 0xaa, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xc2, 0xc3, 0xc4, 0xc5,
				0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda, 0xe1, 0xe2,
				0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9, 0xea, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8,
				0xf9, 0xfa,
			}},
		{bits: [16]uint8{0, 2, 1, 2, 4, 4, 3, 4, 7, 5, 4, 4, 0, 1, 2, 0x77},
			vals: [256]uint8{
				0x00, 0x01, 0x02, 0x03, 0x11, 0x04, 0x05, 0x21, 0x31, 0x06, 0x12, 0x41, 0x51, 0x07, 0x61, 0x71,
				0x13, 0x22, 0x32, 0x81, 0x08, 0x14, 0x42, 0x91, 0xa1, 0xb1, 0xc1, 0x09, 0x23, 0x33, 0x52, 0xf0,
				0x15, 0x62, 0x72, 0xd1, 0x0a, 0x16, 0x24, 0x34, 0xe1, 0x25, 0xf1, 0x17, 0x18, 0x19, 0x1a, 0x26,
				0x27, 0x28, 0x29, 0x2a, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48,
				0x49, 0x4a, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68,
				0x69, 0x6a, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87,
				0x88, 0x89, 0x8a, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0xa2, 0xa3, 0xa4, 0xa5,
				0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xc2, 0xc3,
				0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda,
				0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9, 0xea, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8,
				0xf9, 0xfa,
			}},
	},
}

// tableFor builds the table of class (0 DC, 1 AC) number th for a scan.
func (d *Decoder) tableFor(class, th int) error {
	if th >= 4 {
		return malformed("Huffman table %d", th)
	}
	s := &d.huffSpec[class][th]
	if !d.huffSet[class][th] {
		std := &stdHuff[class][0]
		if th == 1 {
			std = &stdHuff[class][1]
		}
		*s = *std
		d.huffSet[class][th] = true
	}
	return d.huff[class][th].build(s, class == 0)
}

// bitReader reads entropy-coded data, MSB first, removing stuffed zero
// bytes. At a marker or the end of the data it supplies zero bits, as
// libjpeg does, and remembers how many: a decoder that consumes one of them
// has run out of data, which the caller turns into an error (libjpeg's
// "premature end of data segment" warning, an error in the libjpeg build).
type bitReader struct {
	data []byte
	pos  int
	acc  uint64 // n valid bits, left-aligned
	n    uint
	pad  uint // how many of the n bits are padding past the data
	end  bool // reached a marker or the end: only padding from now on
}

func (br *bitReader) init(data []byte, pos int) {
	*br = bitReader{data: data, pos: pos}
}

// fill tops the accumulator up to at least 57 bits.
func (br *bitReader) fill() {
	// Eight bytes at a time while there is no 0xFF among them.
	if !br.end && br.pos+8 <= len(br.data) {
		x := binary.BigEndian.Uint64(br.data[br.pos:])
		if v := ^x; (v-0x0101010101010101)&^v&0x8080808080808080 == 0 {
			k := (64 - br.n) >> 3
			sh := 64 - 8*k
			br.acc |= (x >> sh << sh) >> br.n
			br.n += 8 * k
			br.pos += int(k)
			return
		}
	}
	for br.n <= 56 {
		if br.end {
			br.n += 8
			br.pad += 8
			continue
		}
		if br.pos >= len(br.data) {
			br.end = true
			continue
		}
		b := br.data[br.pos]
		if b == 0xff {
			// 0xFF 0x00 is a data byte; 0xFF fill bytes before a marker
			// are skipped; anything else is a marker, which stays unread.
			q := br.pos + 1
			for q < len(br.data) && br.data[q] == 0xff {
				q++
			}
			if q >= len(br.data) || br.data[q] != 0 {
				br.end = true
				continue
			}
			br.pos = q + 1
		} else {
			br.pos++
		}
		br.acc |= uint64(b) << (56 - br.n)
		br.n += 8
	}
}

// overrun reports whether padding bits were consumed.
func (br *bitReader) overrun() bool { return br.pad > br.n }

func (br *bitReader) bits(k uint) int32 {
	if br.n < k {
		br.fill()
	}
	v := int32(br.acc >> (64 - k))
	br.acc <<= k
	br.n -= k
	return v
}

func (br *bitReader) bit() bool {
	if br.n < 1 {
		br.fill()
	}
	v := br.acc >> 63
	br.acc <<= 1
	br.n--
	return v != 0
}

// decode reads one Huffman symbol.
func (br *bitReader) decode(t *huffTable) int {
	if br.n < 17 {
		br.fill()
	}
	if v := t.lut[br.acc>>(64-lutBits)]; v != 0 {
		l := uint(v >> 8)
		br.acc <<= l
		br.n -= l
		return int(v & 0xff)
	}
	return br.decodeSlow(t)
}

// decodeSlow decodes a code longer than lutBits, or an invalid one, with
// at least 17 bits in the accumulator.
func (br *bitReader) decodeSlow(t *huffTable) int {
	l := uint(lutBits + 1)
	code := int32(br.acc >> (64 - l))
	for code > t.maxcode[l] {
		l++
		code = int32(br.acc >> (64 - l))
	}
	br.acc <<= l
	br.n -= l
	if l > 16 {
		return 0 // libjpeg: bad code, decoded as zero after 17 bits
	}
	return int(t.vals[(code+t.valoffset[l])&0xff])
}

// extend turns v, read as s bits, into the signed value it codes.
func extend(v int32, s uint) int32 {
	if v < 1<<(s-1) {
		return v + (-1 << s) + 1
	}
	return v
}

// receiveExtend reads s bits (s ≥ 1) and extends them.
func (br *bitReader) receiveExtend(s uint) int32 {
	return extend(br.bits(s), s)
}

// restart handles the marker expected after a restart interval as
// libjpeg's read_restart_marker and jpeg_resync_to_restart do: the expected
// RSTn is consumed; otherwise libjpeg's resynchronisation rules decide.
// It returns the position of the next segment's data.
func (d *Decoder) restart(next int) error {
	br := &d.br
	pos := br.pos
	// Find the marker the bit reader stopped at (or skip garbage to one).
	marker := func() (byte, bool) {
		for {
			for pos < len(d.data) && d.data[pos] != 0xff {
				pos++
			}
			for pos < len(d.data) && d.data[pos] == 0xff {
				pos++
			}
			if pos >= len(d.data) {
				return 0, false
			}
			c := d.data[pos]
			pos++
			if c != 0 {
				return c, true
			}
		}
	}
	desired := byte(mRST0 + next&7)
	m, ok := marker()
	for {
		if !ok {
			return malformed("premature end of file at a restart")
		}
		var action int
		switch {
		case m < mSOF0:
			action = 2
		case m < mRST0 || m > mRST7:
			action = 3
		case m == mRST0+(desired+1-mRST0)&7 || m == mRST0+(desired+2-mRST0)&7:
			action = 3
		case m == mRST0+(desired-1-mRST0)&7 || m == mRST0+(desired-2-mRST0)&7:
			action = 2
		default:
			action = 1 // the one expected, or too far off to tell
		}
		switch action {
		case 1:
			br.init(d.data, pos)
			return nil
		case 2:
			m, ok = marker()
		case 3:
			// Leave the marker: the next segment has no data, which the
			// libjpeg build treats as an error as soon as bits are needed.
			br.init(d.data, pos-2)
			br.end = true
			return nil
		}
	}
}
