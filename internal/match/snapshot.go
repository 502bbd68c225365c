package match

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/index"
)

// The snapshot is the matcher's whole index in one file, so that a process
// with millions of entries is ready in seconds instead of reading every
// entry from the store: the PDQ hashes, the exact digests and the video
// frames, tagged with the bank change feed's Seq they cover. At start the
// matcher reads it, loads or unloads the banks enabled or disabled since,
// and applies the feed's changes after that Seq. It holds hashes of known
// material, not media, and is written by the processes that share the
// data folder in turn (the newest file wins, written aside and renamed in).
//
// Layout (integers little-endian):
//
//	header  magic, seq, the time of that change and written-at (Unix µs),
//	        loaded banks (count, IDs),
//	        video frame counts (count, entry ID and count pairs), CRC-32C
//	exact   per kind (MD5, SHA-1, SHA-256): count, the raw values back to
//	        back, their entry IDs; then CRC-32C
//	pdq     length, then index.PDQ.WriteTablesTo: the entries with their
//	        tables, which are far slower to rebuild than to read (it ends
//	        with its own CRC)
//	frames  length, then the video frame index, the same way
//
// The time of the change at Seq ties the snapshot to its database: a
// database restored from an older backup, or another database, does not
// hold that change at that time, and the snapshot is not used there.
//
// Every byte but the two lengths is under a checksum, and a wrong length
// fails the checksum of its section: a torn or corrupt file is never
// loaded, it is rebuilt from the store.
const snapshotMagic = "VGLMATCH2\n"

// exactKinds and exactSizes: the exact section's order, and value sizes.
var (
	exactKinds = []vigil.SignalType{vigil.SignalMD5, vigil.SignalSHA1, vigil.SignalSHA256}
	exactSizes = []int{16, 20, 32}
)

// errSnapshot marks a snapshot that cannot be used.
var errSnapshot = errors.New("match: snapshot not usable")

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// WriteSnapshot writes the index to path (written aside, synced and
// renamed in). Index changes wait while it writes; lookups do not.
func (m *Matcher) WriteSnapshot(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("match: snapshot: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("match: snapshot: %w", err)
	}
	defer func() {
		// Gone after the rename; otherwise a leftover that would only
		// waste space, so it goes, and if even that fails it is said.
		if rerr := os.Remove(tmp.Name()); rerr != nil && !errors.Is(rerr, os.ErrNotExist) {
			m.log.Warn("match index: a snapshot's temporary file stays", "err", rerr)
		}
	}()
	m.mu.Lock()
	seq := m.seq
	err = m.writeSnapshot(tmp)
	m.mu.Unlock()
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("match: snapshot: %w", err)
	}
	m.snapMu.Lock()
	m.snapSeq, m.snapNext = seq, m.nextSnapshot()
	m.snapMu.Unlock()
	return nil
}

// nextSnapshot is when the next snapshot is due: SnapshotEvery from now,
// give or take half of it, so that processes sharing a data folder take
// turns rather than all writing at once.
func (m *Matcher) nextSnapshot() time.Time {
	return time.Now().Add(m.snapEvery/2 + rand.N(m.snapEvery+1))
}

// writeSnapshot writes the sections to f; m.mu is held.
func (m *Matcher) writeSnapshot(f *os.File) error {
	bw := bufio.NewWriterSize(f, 1<<20)
	crc := crc32.New(castagnoli)
	w := io.MultiWriter(bw, crc)
	var b [8]byte
	u64 := func(v uint64) {
		binary.LittleEndian.PutUint64(b[:], v)
		_, _ = w.Write(b[:]) // bufio's errors are sticky: checked at Flush
	}
	sum := func() {
		binary.LittleEndian.PutUint32(b[:4], crc.Sum32())
		_, _ = bw.Write(b[:4])
		crc.Reset()
	}
	seqAt, err := m.changeTime(context.Background(), m.seq)
	if err != nil {
		return err
	}
	_, _ = io.WriteString(w, snapshotMagic)
	u64(uint64(m.seq))
	u64(uint64(seqAt))
	u64(uint64(time.Now().UnixMicro()))
	u64(uint64(len(m.loaded)))
	for id := range m.loaded {
		u64(uint64(id))
	}
	u64(uint64(len(m.frameCount)))
	for id, n := range m.frameCount {
		u64(uint64(id))
		u64(uint64(n))
	}
	sum()

	// Per kind: the values back to back, then their IDs, so that reading
	// is a few large reads and one bulk insert per kind.
	values, ids := map[vigil.SignalType][]byte{}, map[vigil.SignalType][]byte{}
	err = m.exact.Each(func(kind vigil.SignalType, value []byte, id int64) error {
		values[kind] = append(values[kind], value...)
		ids[kind] = binary.LittleEndian.AppendUint64(ids[kind], uint64(id))
		return nil
	})
	if err != nil {
		return err
	}
	for _, kind := range exactKinds {
		u64(uint64(len(ids[kind]) / 8))
		_, _ = w.Write(values[kind])
		_, _ = w.Write(ids[kind])
	}
	sum()
	for _, x := range []*index.PDQ{m.pdq, m.frames} {
		// The section's length is written once it is known.
		if err := bw.Flush(); err != nil {
			return err
		}
		at, err := f.Seek(0, io.SeekCurrent)
		if err != nil {
			return err
		}
		if _, err := f.Write(make([]byte, 8)); err != nil {
			return err
		}
		n, err := x.WriteTablesTo(f)
		if err != nil {
			return err
		}
		binary.LittleEndian.PutUint64(b[:], uint64(n))
		if _, err := f.WriteAt(b[:], at); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// snapshot is a snapshot as read, not yet in use.
type snapshot struct {
	seq, seqAt int64
	writtenAt  time.Time
	loaded     map[int64]bool
	frameCount map[int64]int
	exact      *index.Exact
	pdq        *index.PDQ
	frames     *index.PDQ
}

// readSnapshot reads and checks a snapshot.
func readSnapshot(path string, opts index.Options) (*snapshot, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	size := uint64(fi.Size())
	br := bufio.NewReaderSize(f, 1<<20)
	crc := crc32.New(castagnoli)
	r := io.TeeReader(br, crc)
	var b [8]byte
	var rerr error
	u64 := func() uint64 {
		if _, err := io.ReadFull(r, b[:]); err != nil && rerr == nil {
			rerr = err
		}
		return binary.LittleEndian.Uint64(b[:])
	}
	check := func(what string) error {
		want := crc.Sum32()
		if _, err := io.ReadFull(br, b[:4]); err != nil || rerr != nil || binary.LittleEndian.Uint32(b[:4]) != want {
			return fmt.Errorf("%w: the %s is torn or corrupt", errSnapshot, what)
		}
		crc.Reset()
		return nil
	}
	// Counts are bounded before anything is allocated for them: a corrupt
	// count is caught by the checksum, but only after it is read.
	const maxCount = 1 << 34
	magic := make([]byte, len(snapshotMagic))
	if _, err := io.ReadFull(r, magic); err != nil || string(magic) != snapshotMagic {
		return nil, fmt.Errorf("%w: not a match index snapshot", errSnapshot)
	}
	s := &snapshot{loaded: map[int64]bool{}, frameCount: map[int64]int{}, exact: index.NewExact()}
	s.seq = int64(u64())
	s.seqAt = int64(u64())
	s.writtenAt = time.UnixMicro(int64(u64()))
	n := u64()
	for i := uint64(0); i < n && i < maxCount && rerr == nil; i++ {
		s.loaded[int64(u64())] = true
	}
	n = u64()
	for i := uint64(0); i < n && i < maxCount && rerr == nil; i++ {
		id := int64(u64())
		s.frameCount[id] = int(u64())
	}
	if err := check("header"); err != nil {
		return nil, err
	}
	for i, kind := range exactKinds {
		n := u64()
		if rerr != nil || n > size/uint64(exactSizes[i]+8) { // a corrupt count, before it is allocated
			return nil, fmt.Errorf("%w: the exact digests are torn or corrupt", errSnapshot)
		}
		values := make([]byte, n*uint64(exactSizes[i]))
		raw := make([]byte, n*8)
		if _, err := io.ReadFull(r, values); err != nil {
			return nil, fmt.Errorf("%w: the exact digests are cut short", errSnapshot)
		}
		if _, err := io.ReadFull(r, raw); err != nil {
			return nil, fmt.Errorf("%w: the exact digests are cut short", errSnapshot)
		}
		ids := make([]int64, n)
		for j := range ids {
			ids[j] = int64(binary.LittleEndian.Uint64(raw[8*j:]))
		}
		if err := s.exact.AddMany(kind, values, ids); err != nil {
			return nil, fmt.Errorf("%w: %w", errSnapshot, err)
		}
	}
	if err := check("exact digests"); err != nil {
		return nil, err
	}
	for _, x := range []**index.PDQ{&s.pdq, &s.frames} {
		if _, err := io.ReadFull(br, b[:]); err != nil {
			return nil, fmt.Errorf("%w: cut short", errSnapshot)
		}
		if *x, err = index.ReadPDQTables(io.LimitReader(br, int64(binary.LittleEndian.Uint64(b[:]))), opts); err != nil {
			return nil, fmt.Errorf("%w: %w", errSnapshot, err)
		}
	}
	return s, nil
}

// loadSnapshot fills a new matcher from the snapshot at path, then brings
// it up to date: banks enabled or disabled since are loaded or unloaded,
// and the feed's changes after the snapshot's Seq applied. It refuses a
// snapshot older than half the feed's retention: changes after it may
// have been pruned.
func (m *Matcher) loadSnapshot(ctx context.Context, path string, opts index.Options) error {
	s, err := readSnapshot(path, opts)
	if err != nil {
		return err
	}
	if m.retention > 0 && time.Since(s.writtenAt) > m.retention/2 {
		return fmt.Errorf("%w: written %s ago, and the bank change feed keeps %s", errSnapshot,
			time.Since(s.writtenAt).Round(time.Second), m.retention)
	}
	if at, err := m.changeTime(ctx, s.seq); err != nil {
		return err
	} else if at != s.seqAt {
		return fmt.Errorf("%w: the database's change feed does not hold the change it was written at "+
			"(another database, one restored from an older backup, or the change pruned since)", errSnapshot)
	}
	m.mu.Lock()
	m.seq, m.loaded, m.frameCount = s.seq, s.loaded, s.frameCount
	m.exact, m.pdq, m.frames = s.exact, s.pdq, s.frames
	err = m.reloadBanks(ctx)
	m.mu.Unlock()
	if err != nil {
		return err
	}
	m.snapMu.Lock()
	m.snapSeq, m.snapNext = s.seq, m.nextSnapshot()
	m.snapMu.Unlock()
	return m.Sync(ctx)
}

// snapshotDue reports whether the follower should write a snapshot now:
// its time came, and the index moved since the last one.
func (m *Matcher) snapshotDue() bool {
	if m.snapPath == "" || m.snapEvery <= 0 {
		return false
	}
	m.mu.Lock()
	seq := m.seq
	m.mu.Unlock()
	m.snapMu.Lock()
	defer m.snapMu.Unlock()
	return seq != m.snapSeq && time.Now().After(m.snapNext)
}

// changeTime returns the time (Unix µs) of the feed's change at seq, 0 for
// seq 0 (an empty feed) and -1 when the feed does not hold it.
func (m *Matcher) changeTime(ctx context.Context, seq int64) (int64, error) {
	if seq == 0 {
		return 0, nil
	}
	cs, err := m.store.BankChanges(ctx, seq-1, 1)
	if err != nil {
		return 0, err
	}
	if len(cs) == 0 || cs[0].Seq != seq {
		return -1, nil
	}
	return cs[0].At.UnixMicro(), nil
}
