package index

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"slices"

	"github.com/vigil-hotline/vigil/internal/pdq"
)

// Builder collects entries for a bulk load, the fast way to fill an index at
// start-up: one segment, its tables built in parallel. Not safe for
// concurrent use.
type Builder struct {
	opts   Options
	ids    []int64
	hashes []pdq.Hash
}

// NewBuilder returns a builder; sizeHint (the expected number of entries)
// avoids regrowing the arrays.
func NewBuilder(sizeHint int, opts Options) *Builder {
	return &Builder{opts: opts, ids: make([]int64, 0, sizeHint), hashes: makeHuge[pdq.Hash](sizeHint)[:0]}
}

// Add queues one entry. Duplicate IDs are reported by Build.
func (b *Builder) Add(id int64, h pdq.Hash) {
	b.ids = append(b.ids, id)
	b.hashes = append(b.hashes, h)
}

// Len is the number of entries queued.
func (b *Builder) Len() int { return len(b.ids) }

// Build returns the index of the queued entries, sorted by ID (entries given
// in ID order, as a store's "ORDER BY id" gives them, are not copied). The
// builder is empty afterwards.
func (b *Builder) Build() (*PDQ, error) {
	ids, hs := b.ids, b.hashes
	b.ids, b.hashes = nil, nil
	sorted := true
	for i := 1; i < len(ids); i++ {
		if ids[i] <= ids[i-1] {
			sorted = false
			break
		}
	}
	if sorted {
		if cap(ids) > len(ids)+len(ids)/8 {
			// Trim append's slack: it would be a third more memory.
			ids, hs = slices.Clone(ids), cloneHuge(hs)
		}
	} else {
		var err error
		if ids, hs, err = sortEntries(ids, hs); err != nil {
			return nil, fmt.Errorf("index: build: %w", err)
		}
	}
	x := NewPDQ(b.opts)
	if len(ids) > 0 {
		seg := newSegment(ids, hs, x.opts.blocks, x.opts.Workers)
		x.cur.Store(&view{segs: []*segment{seg}})
		x.live.Store(int64(len(ids)))
	}
	return x, nil
}

// Snapshot format: magic, then records of ID (int64) and the hash's four
// words (uint64), all little-endian, then a record with ID -1 and the count in
// word 0, then the CRC-32C of everything before it. Tables are not stored:
// rebuilding them is faster than reading them.
const snapshotMagic = "VGLPDQ1\n"

// ErrBadSnapshot is returned by ReadPDQ for a truncated or corrupt snapshot.
var ErrBadSnapshot = errors.New("index: not a valid PDQ index snapshot")

// freeze returns the index as of one moment for writing it out: the
// segments with copies of their deletion bitmaps, and the tail so far.
// Writers wait only while the bitmaps are copied; what the tail gains
// later lies beyond the returned lengths.
func (x *PDQ) freeze() (v *view, segDead [][]uint64, tids []int64, ths []pdq.Hash, tdead []uint64) {
	x.mu.Lock()
	defer x.mu.Unlock()
	v = x.cur.Load()
	segDead = make([][]uint64, len(v.segs))
	for i, s := range v.segs {
		segDead[i] = snapshotBits(s.dead)
	}
	n := len(x.tail.ids)
	return v, segDead, x.tail.ids[:n], x.tail.hashes[:n], snapshotBits(x.tail.dead[:(n+63)/64])
}

// WriteTo writes the live entries as of the call, for ReadPDQ. Writers wait
// only while the deletion bitmaps are copied, not during the writing.
func (x *PDQ) WriteTo(w io.Writer) (int64, error) {
	v, segDead, tids, ths, tdead := x.freeze()

	crc := crc32.New(crc32.MakeTable(crc32.Castagnoli))
	cw := &countWriter{w: io.MultiWriter(w, crc)}
	bw := bufio.NewWriterSize(cw, 1<<16)
	var rec [40]byte
	put := func(id int64, h *pdq.Hash) {
		binary.LittleEndian.PutUint64(rec[0:], uint64(id))
		for k := range 4 {
			binary.LittleEndian.PutUint64(rec[8+8*k:], h[k])
		}
		bw.Write(rec[:]) // errors are sticky in bufio; checked at Flush
	}
	bw.WriteString(snapshotMagic)
	count := 0
	for i, s := range v.segs {
		for p := range s.ids {
			if !bitSet(segDead[i], p) {
				put(s.ids[p], &s.hashes[p])
				count++
			}
		}
	}
	for p := range tids {
		if !bitSet(tdead, p) {
			put(tids[p], &ths[p])
			count++
		}
	}
	put(-1, &pdq.Hash{uint64(count)})
	if err := bw.Flush(); err != nil {
		return cw.n, fmt.Errorf("index: write snapshot: %w", err)
	}
	var sum [4]byte
	binary.LittleEndian.PutUint32(sum[:], crc.Sum32())
	k, err := w.Write(sum[:])
	cw.n += int64(k)
	if err != nil {
		return cw.n, fmt.Errorf("index: write snapshot: %w", err)
	}
	return cw.n, nil
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	k, err := c.w.Write(p)
	c.n += int64(k)
	return k, err
}

// ReadPDQ builds an index from a snapshot written by WriteTo.
func ReadPDQ(r io.Reader, opts Options) (*PDQ, error) {
	crc := crc32.New(crc32.MakeTable(crc32.Castagnoli))
	br := bufio.NewReaderSize(r, 1<<16)
	tr := io.TeeReader(br, crc)
	var magic [len(snapshotMagic)]byte
	if _, err := io.ReadFull(tr, magic[:]); err != nil || string(magic[:]) != snapshotMagic {
		return nil, fmt.Errorf("index: read snapshot: bad header: %w", ErrBadSnapshot)
	}
	b := NewBuilder(0, opts)
	var rec [40]byte
	for {
		if _, err := io.ReadFull(tr, rec[:]); err != nil {
			return nil, fmt.Errorf("index: read snapshot: after %d entries: %w (%w)", b.Len(), ErrBadSnapshot, err)
		}
		id := int64(binary.LittleEndian.Uint64(rec[0:]))
		var h pdq.Hash
		for k := range 4 {
			h[k] = binary.LittleEndian.Uint64(rec[8+8*k:])
		}
		if id == -1 {
			if h[0] != uint64(b.Len()) {
				return nil, fmt.Errorf("index: read snapshot: count %d, found %d: %w", h[0], b.Len(), ErrBadSnapshot)
			}
			break
		}
		b.Add(id, h)
	}
	want := crc.Sum32()
	var sum [4]byte
	if _, err := io.ReadFull(br, sum[:]); err != nil || binary.LittleEndian.Uint32(sum[:]) != want {
		return nil, fmt.Errorf("index: read snapshot: checksum: %w", ErrBadSnapshot)
	}
	x, err := b.Build()
	if err != nil {
		return nil, fmt.Errorf("index: read snapshot: %w", err)
	}
	return x, nil
}
