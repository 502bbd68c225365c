package index

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"math/bits"
	"unsafe"

	"github.com/vigil-hotline/vigil/internal/pdq"
)

// WriteTablesTo and ReadPDQTables keep an index whole: entries, deletion
// bitmaps and the segments' tables, as they lie in memory. Rebuilding the
// tables is a counting sort per table whose random writes miss the caches
// once the index outgrows them (about 20 s for 10 million entries on two
// cores, against 0.2 s for one million); reading them back is a copy at
// the disk's or page cache's speed. The bytes are the machine's own
// (little-endian, as everywhere Vigil runs; elsewhere ReadPDQTables refuses
// them and the caller rebuilds) and versioned by the magic: a snapshot of
// another layout is refused, never misread.
//
// Layout: magic; segment count; per segment its entry count, IDs, hashes,
// deletion bitmap, table count and per table start, width, directory,
// overflow and slots (each array preceded by its length); the tail's live
// entries (count, IDs, hashes); the CRC-32C of everything before it.
const tablesMagic = "VGLPDQT1\n"

// maxTableArray bounds any array's length read from a snapshot before it
// is allocated (a corrupt length is caught by the checksum only at the
// end): 2^33 elements, far beyond any index that fits in memory.
const maxTableArray = 1 << 33

func littleEndian() bool { return binary.NativeEndian.Uint16([]byte{1, 0}) == 1 }

// bytesOf views a slice's memory as bytes.
func bytesOf[T any](s []T) []byte {
	if len(s) == 0 {
		return nil
	}
	var zero T
	return unsafe.Slice((*byte)(unsafe.Pointer(&s[0])), uintptr(len(s))*unsafe.Sizeof(zero))
}

// WriteTablesTo writes the index, tables included, for ReadPDQTables.
// Writers wait only while the deletion bitmaps are copied.
func (x *PDQ) WriteTablesTo(w io.Writer) (int64, error) {
	if !littleEndian() {
		return 0, fmt.Errorf("index: write tables: a big-endian machine: use WriteTo")
	}
	v, segDead, tids, ths, tdead := x.freeze()

	crc := crc32.New(crc32.MakeTable(crc32.Castagnoli))
	cw := &countWriter{w: io.MultiWriter(w, crc)}
	bw := bufio.NewWriterSize(cw, 1<<20)
	var b [8]byte
	u64 := func(v uint64) {
		binary.LittleEndian.PutUint64(b[:], v)
		bw.Write(b[:]) // errors are sticky in bufio; checked at Flush
	}
	array := func(p []byte, n int) {
		u64(uint64(n))
		bw.Write(p)
	}
	bw.WriteString(tablesMagic)
	u64(uint64(len(v.segs)))
	for i, s := range v.segs {
		array(bytesOf(s.ids), len(s.ids))
		array(bytesOf(s.hashes), len(s.hashes))
		array(bytesOf(segDead[i]), len(segDead[i]))
		u64(uint64(len(s.blocks)))
		for _, bl := range s.blocks {
			u64(uint64(bl.start))
			u64(uint64(bl.width))
			array(bytesOf(bl.dir), len(bl.dir))
			array(bytesOf(bl.ovf), len(bl.ovf))
			array(bytesOf(bl.slots), len(bl.slots))
		}
	}
	var lids []int64
	var lhs []pdq.Hash
	for p := range tids {
		if !bitSet(tdead, p) {
			lids, lhs = append(lids, tids[p]), append(lhs, ths[p])
		}
	}
	array(bytesOf(lids), len(lids))
	array(bytesOf(lhs), len(lhs))
	if err := bw.Flush(); err != nil {
		return cw.n, fmt.Errorf("index: write tables: %w", err)
	}
	binary.LittleEndian.PutUint32(b[:4], crc.Sum32())
	k, err := w.Write(b[:4])
	cw.n += int64(k)
	if err != nil {
		return cw.n, fmt.Errorf("index: write tables: %w", err)
	}
	return cw.n, nil
}

// tableReader reads arrays straight into their memory, summing as it goes.
type tableReader struct {
	r   io.Reader
	crc uint32
	tab *crc32.Table
	err error
}

func (t *tableReader) fill(p []byte) {
	if t.err != nil || len(p) == 0 {
		return
	}
	if _, err := io.ReadFull(t.r, p); err != nil {
		t.err = err
		return
	}
	t.crc = crc32.Update(t.crc, t.tab, p)
}

func (t *tableReader) u64() uint64 {
	var b [8]byte
	t.fill(b[:])
	return binary.LittleEndian.Uint64(b[:])
}

// readArray reads an array written by WriteTablesTo's array; huge arrays
// get huge pages.
func readArray[T any](t *tableReader, huge bool) []T {
	n := t.u64()
	if t.err != nil {
		return nil
	}
	var zero T
	if n > maxTableArray {
		t.err = fmt.Errorf("an array of %d elements", n)
		return nil
	}
	// A corrupt length is caught by the checksum only at the end: where
	// the reader's length is known, an array that cannot fit is refused
	// before it is allocated.
	if lr, ok := t.r.(*io.LimitedReader); ok && n*uint64(unsafe.Sizeof(zero)) > uint64(max(lr.N, 0)) {
		t.err = fmt.Errorf("an array of %d elements in %d bytes", n, lr.N)
		return nil
	}
	var s []T
	if huge {
		s = makeHuge[T](int(n))
	} else {
		s = make([]T, n)
	}
	t.fill(bytesOf(s))
	return s
}

// ReadPDQTables reads an index written by WriteTablesTo.
func ReadPDQTables(r io.Reader, opts Options) (*PDQ, error) {
	if !littleEndian() {
		return nil, fmt.Errorf("index: read tables: a big-endian machine: %w", ErrBadSnapshot)
	}
	t := &tableReader{r: r, tab: crc32.MakeTable(crc32.Castagnoli)}
	magic := make([]byte, len(tablesMagic))
	t.fill(magic)
	if t.err != nil || string(magic) != tablesMagic {
		return nil, fmt.Errorf("index: read tables: bad header: %w", ErrBadSnapshot)
	}
	x := NewPDQ(opts)
	nsegs := t.u64()
	if nsegs > 1<<16 {
		return nil, fmt.Errorf("index: read tables: %d segments: %w", nsegs, ErrBadSnapshot)
	}
	var segs []*segment
	live := 0
	for i := uint64(0); i < nsegs && t.err == nil; i++ {
		s := &segment{}
		s.ids = readArray[int64](t, false)
		s.hashes = readArray[pdq.Hash](t, true)
		s.dead = readArray[uint64](t, false)
		nb := t.u64()
		if nb > 256 {
			t.err = fmt.Errorf("%d tables", nb)
		}
		for j := uint64(0); j < nb && t.err == nil; j++ {
			bl := block{start: uint(t.u64()), width: uint(t.u64())}
			bl.dir = readArray[group](t, true)
			bl.ovf = readArray[uint32](t, false)
			bl.slots = readArray[uint32](t, true)
			s.blocks = append(s.blocks, bl)
		}
		if t.err != nil {
			break
		}
		if err := checkSegment(s); err != nil {
			t.err = err
			break
		}
		for _, d := range s.dead {
			s.ndead += bits.OnesCount64(d)
		}
		if len(s.blocks) > 0 {
			l := makeLayout(len(s.blocks))
			s.plans = make([]plan, 257)
			for r := range s.plans {
				s.plans[r], _ = makePlan(s.len(), l, r)
			}
		}
		live += s.len() - s.ndead
		segs = append(segs, s)
	}
	tids := readArray[int64](t, false)
	ths := readArray[pdq.Hash](t, false)
	want := t.crc
	var sum [4]byte
	if t.err == nil {
		if _, err := io.ReadFull(r, sum[:]); err != nil || binary.LittleEndian.Uint32(sum[:]) != want {
			t.err = fmt.Errorf("checksum")
		}
	}
	if t.err == nil && len(tids) != len(ths) {
		t.err = fmt.Errorf("%d tail IDs for %d hashes", len(tids), len(ths))
	}
	if t.err != nil {
		return nil, fmt.Errorf("index: read tables: %w (%w)", ErrBadSnapshot, t.err)
	}
	x.cur.Store(&view{segs: segs})
	x.live.Store(int64(live))
	if len(tids) > 0 {
		if err := x.AddBatch(tids, ths); err != nil {
			return nil, fmt.Errorf("index: read tables: tail: %w", err)
		}
	}
	return x, nil
}

// checkSegment checks the shapes a lookup relies on (the checksum vouches
// for the bytes; this for a snapshot written by a different build that
// kept the magic, which should never be).
func checkSegment(s *segment) error {
	n := len(s.ids)
	if len(s.hashes) != n || len(s.dead) != (n+63)/64 {
		return fmt.Errorf("a segment of %d IDs, %d hashes and %d bitmap words", n, len(s.hashes), len(s.dead))
	}
	for i := 1; i < n; i++ {
		if s.ids[i] <= s.ids[i-1] {
			return fmt.Errorf("segment IDs out of order")
		}
	}
	if len(s.blocks) > 0 {
		l := makeLayout(len(s.blocks))
		for j, bl := range s.blocks {
			if bl.start != uint(l.starts[j]) || bl.width != uint(l.widths[j]) || len(bl.slots) != n ||
				len(bl.dir) != (1<<bl.width+groupKeys-1)/groupKeys || len(bl.ovf)%(groupKeys+1) != 0 {
				return fmt.Errorf("table %d of a segment does not fit its layout", j)
			}
			for _, g := range bl.dir {
				if g.base&ovfFlag != 0 {
					if int(g.base&^ovfFlag)*(groupKeys+1) >= len(bl.ovf) {
						return fmt.Errorf("table %d overflows", j)
					}
				} else if int(g.base)+int(g.rel[groupKeys]) > n {
					return fmt.Errorf("table %d's directory points past its segment", j)
				}
			}
			for _, o := range bl.ovf {
				if int(o) > n {
					return fmt.Errorf("table %d's overflow points past its segment", j)
				}
			}
		}
	}
	return nil
}
