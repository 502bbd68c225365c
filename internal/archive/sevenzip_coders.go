package archive

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"reflect"
)

// A 7z decoder allocates what its coder's properties declare before it
// reads a byte: LZMA and LZMA2 a dictionary (up to 4 GiB), PPMd a model
// (up to 4 GiB). bodgit/sevenzip sizes those from the header as written,
// so a few hundred hostile bytes could make a worker allocate gigabytes
// before any size limit applies. The coders are therefore read first and
// an archive whose decoders would need more than Limits.MaxDecoderMemory
// is refused. BCJ2, BCJ, Delta, Deflate, BZip2 and AES declare no memory
// (their state is fixed and small). Brotli (16 MiB window without the
// large-window option, which the reader does not take) and LZ4 (4 MiB
// blocks) are bounded by their formats. Zstandard (7-Zip-zstd's method)
// declares its window inside the packed stream, where klauspost/compress
// allocates up to 512 MiB for a 14-byte frame (measured): folders using it
// are refused as unsupported rather than decoded unchecked.

// 7z property IDs (7zFormat.txt, "Property IDs").
const (
	sz7End            = 0x00
	sz7Header         = 0x01
	sz7MainStreams    = 0x04
	sz7PackInfo       = 0x06
	sz7UnpackInfo     = 0x07
	sz7Size           = 0x09
	sz7CRC            = 0x0a
	sz7Folder         = 0x0b
	sz7EncodedHeader  = 0x17
	sz7SignatureBytes = 32
)

var (
	coderLZMA  = []byte{0x03, 0x01, 0x01}
	coderLZMA2 = []byte{0x21}
	coderPPMd  = []byte{0x03, 0x04, 0x01}
	coderZstd  = []byte{0x04, 0xf7, 0x11, 0x01}
)

// sevenZipCoder is one coder of a folder as the header declares it.
type sevenZipCoder struct {
	id, props []byte
}

// coderMemory returns the memory a coder declares it needs, 0 when it
// declares none.
func coderMemory(c sevenZipCoder) (int64, error) {
	switch {
	case bytes.Equal(c.id, coderLZMA):
		if len(c.props) != 5 {
			return 0, fmt.Errorf("LZMA properties of %d bytes", len(c.props))
		}
		return int64(binary.LittleEndian.Uint32(c.props[1:])), nil
	case bytes.Equal(c.id, coderLZMA2):
		if len(c.props) != 1 || c.props[0] > 40 {
			return 0, fmt.Errorf("LZMA2 properties %x", c.props)
		}
		p := int64(c.props[0])
		if p == 40 {
			return 1<<32 - 1, nil
		}
		return (2 | p&1) << (p/2 + 11), nil
	case bytes.Equal(c.id, coderPPMd):
		if len(c.props) != 5 {
			return 0, fmt.Errorf("PPMd properties of %d bytes", len(c.props))
		}
		return int64(binary.LittleEndian.Uint32(c.props[1:])), nil
	}
	return 0, nil
}

// checkCoders refuses coders that declare more memory than the limit.
func (a *Archive) checkCoders(coders []sevenZipCoder, where string) error {
	for _, c := range coders {
		if bytes.Equal(c.id, coderZstd) {
			return refuse(ReasonUnsupported, "7z %s: Zstandard, whose window the header does not declare, is not decoded", where)
		}
		mem, err := coderMemory(c)
		if err != nil {
			return refuse(ReasonMalformed, "7z %s: %v", where, err)
		}
		if mem > a.limits.MaxDecoderMemory {
			return refuse(ReasonDecoderMemory, "7z %s: a coder (method %x) declares %d bytes of decoder memory, limit %d",
				where, c.id, mem, a.limits.MaxDecoderMemory)
		}
	}
	return nil
}

// check7zEncodedHeader checks the coders of an encoded (compressed) 7z
// header, which the reader decodes while opening the archive, so before
// the folders of the entries can be seen. It reads the header the way the
// reader finds it (the first signature whose start header's CRC holds)
// from the bytes already in memory, allocating nothing in proportion to
// what the header declares.
func (a *Archive) check7zEncodedHeader() error {
	hdr := sevenZipNextHeader(a.data)
	if len(hdr) == 0 || hdr[0] != sz7EncodedHeader {
		return nil // a plain header is not decoded; a broken one fails to open
	}
	p := &sz7Parser{b: hdr[1:]}
	coders, err := p.streamsInfoCoders()
	if err != nil {
		return refuse(ReasonMalformed, "7z header: %v", err)
	}
	return a.checkCoders(coders, "header")
}

// sevenZipNextHeader returns the next header that the first valid start
// header points at, or nil.
func sevenZipNextHeader(data []byte) []byte {
	sig := []byte{'7', 'z', 0xbc, 0xaf, 0x27, 0x1c}
	for off := 0; ; {
		i := bytes.Index(data[off:], sig)
		if i < 0 {
			return nil
		}
		off += i
		if len(data)-off < sz7SignatureBytes {
			return nil
		}
		s := data[off : off+sz7SignatureBytes]
		if crc32.ChecksumIEEE(s[12:32]) == binary.LittleEndian.Uint32(s[8:12]) {
			next := binary.LittleEndian.Uint64(s[12:20])
			size := binary.LittleEndian.Uint64(s[20:28])
			start := uint64(off) + sz7SignatureBytes
			if next > uint64(len(data)) || size > uint64(len(data)) || start+next+size > uint64(len(data)) {
				return nil
			}
			return data[start+next : start+next+size]
		}
		off++
	}
}

// sz7Parser reads 7z header structures from a byte slice; every count it
// reads is bounded by the bytes left, so a hostile count costs nothing.
type sz7Parser struct {
	b []byte
}

var errShort = errors.New("header ends early")

func (p *sz7Parser) byte() (byte, error) {
	if len(p.b) == 0 {
		return 0, errShort
	}
	c := p.b[0]
	p.b = p.b[1:]
	return c, nil
}

func (p *sz7Parser) skip(n uint64) error {
	if n > uint64(len(p.b)) {
		return errShort
	}
	p.b = p.b[n:]
	return nil
}

// number reads 7z's variable-length UINT64: the leading one bits of the
// first byte count the bytes that follow.
func (p *sz7Parser) number() (uint64, error) {
	first, err := p.byte()
	if err != nil {
		return 0, err
	}
	var v uint64
	mask := byte(0x80)
	for i := 0; i < 8; i++ {
		if first&mask == 0 {
			return v | uint64(first&(mask-1))<<(8*i), nil
		}
		c, err := p.byte()
		if err != nil {
			return 0, err
		}
		v |= uint64(c) << (8 * i)
		mask >>= 1
	}
	return v, nil
}

// count reads a number of items that each take at least one byte.
func (p *sz7Parser) count() (uint64, error) {
	n, err := p.number()
	if err != nil {
		return 0, err
	}
	if n > uint64(len(p.b)) {
		return 0, fmt.Errorf("%d items declared in %d bytes", n, len(p.b))
	}
	return n, nil
}

// streamsInfoCoders reads a StreamsInfo up to and including its folders
// and returns their coders.
func (p *sz7Parser) streamsInfoCoders() ([]sevenZipCoder, error) {
	id, err := p.byte()
	if err != nil {
		return nil, err
	}
	if id == sz7PackInfo {
		if err := p.packInfo(); err != nil {
			return nil, err
		}
		if id, err = p.byte(); err != nil {
			return nil, err
		}
	}
	if id != sz7UnpackInfo {
		return nil, nil // no folders
	}
	if id, err = p.byte(); err != nil {
		return nil, err
	}
	if id != sz7Folder {
		return nil, fmt.Errorf("unexpected property %#x", id)
	}
	folders, err := p.count()
	if err != nil {
		return nil, err
	}
	if external, err := p.byte(); err != nil || external != 0 {
		return nil, fmt.Errorf("external folders are not read")
	}
	var coders []sevenZipCoder
	for range folders {
		if coders, err = p.folder(coders); err != nil {
			return nil, err
		}
	}
	return coders, nil
}

func (p *sz7Parser) packInfo() error {
	if _, err := p.number(); err != nil { // pack position
		return err
	}
	streams, err := p.count()
	if err != nil {
		return err
	}
	for {
		id, err := p.byte()
		if err != nil {
			return err
		}
		switch id {
		case sz7End:
			return nil
		case sz7Size:
			for range streams {
				if _, err := p.number(); err != nil {
					return err
				}
			}
		case sz7CRC:
			all, err := p.byte()
			if err != nil {
				return err
			}
			defined := streams
			if all == 0 {
				bits := p.b
				if err := p.skip((streams + 7) / 8); err != nil {
					return err
				}
				defined = 0
				for i := range streams {
					if bits[i/8]&(0x80>>(i%8)) != 0 {
						defined++
					}
				}
			}
			if err := p.skip(4 * defined); err != nil {
				return err
			}
		default:
			return fmt.Errorf("unexpected property %#x in pack info", id)
		}
	}
}

func (p *sz7Parser) folder(coders []sevenZipCoder) ([]sevenZipCoder, error) {
	n, err := p.count()
	if err != nil {
		return nil, err
	}
	var in, out uint64
	for range n {
		flags, err := p.byte()
		if err != nil {
			return nil, err
		}
		c := sevenZipCoder{}
		idSize := uint64(flags & 0x0f)
		c.id = p.b[:min(idSize, uint64(len(p.b)))]
		if err := p.skip(idSize); err != nil {
			return nil, err
		}
		ci, co := uint64(1), uint64(1)
		if flags&0x10 != 0 {
			if ci, err = p.count(); err != nil {
				return nil, err
			}
			if co, err = p.count(); err != nil {
				return nil, err
			}
		}
		in, out = in+ci, out+co
		if flags&0x20 != 0 {
			size, err := p.count()
			if err != nil {
				return nil, err
			}
			c.props = p.b[:size]
			p.b = p.b[size:]
		}
		coders = append(coders, c)
	}
	// Bind pairs and packed stream indices follow; they are read only to
	// reach the next folder.
	if out == 0 {
		return nil, errors.New("a folder without output")
	}
	for range 2 * (out - 1) {
		if _, err := p.number(); err != nil {
			return nil, err
		}
	}
	if packed := in - (out - 1); in >= out-1 && packed > 1 {
		for range packed {
			if _, err := p.number(); err != nil {
				return nil, err
			}
		}
	}
	return coders, nil
}

// readerCoders returns the coders of the folders bodgit/sevenzip parsed.
// It does not export them, so they are read by reflection from the
// pinned version's fields (Reader.si.unpackInfo.folder[].coder[] with id
// and properties); should those fields move in another version, the
// archive is refused rather than opened unchecked, and TestFormats (a
// plain 7z must open) fails.
func readerCoders(r any) ([]sevenZipCoder, error) {
	errMoved := errors.New("the 7z reader's folders cannot be read (library version changed?)")
	v := reflect.ValueOf(r)
	if v.Kind() != reflect.Pointer || v.IsNil() {
		return nil, errMoved
	}
	si := v.Elem().FieldByName("si")
	if !si.IsValid() || si.Kind() != reflect.Pointer {
		return nil, errMoved
	}
	if si.IsNil() {
		return nil, nil // no streams: only empty files
	}
	ui := si.Elem().FieldByName("unpackInfo")
	if !ui.IsValid() || ui.Kind() != reflect.Pointer {
		return nil, errMoved
	}
	if ui.IsNil() {
		return nil, nil
	}
	folders := ui.Elem().FieldByName("folder")
	if !folders.IsValid() || folders.Kind() != reflect.Slice {
		return nil, errMoved
	}
	var coders []sevenZipCoder
	for i := range folders.Len() {
		f := folders.Index(i)
		if f.Kind() != reflect.Pointer || f.IsNil() {
			return nil, errMoved
		}
		cs := f.Elem().FieldByName("coder")
		if !cs.IsValid() || cs.Kind() != reflect.Slice {
			return nil, errMoved
		}
		for j := range cs.Len() {
			c := cs.Index(j)
			if c.Kind() != reflect.Pointer || c.IsNil() {
				return nil, errMoved
			}
			id, props := c.Elem().FieldByName("id"), c.Elem().FieldByName("properties")
			if !id.IsValid() || id.Kind() != reflect.Slice || !props.IsValid() || props.Kind() != reflect.Slice {
				return nil, errMoved
			}
			coders = append(coders, sevenZipCoder{id: id.Bytes(), props: props.Bytes()})
		}
	}
	return coders, nil
}
