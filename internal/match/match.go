// Package match is Vigil's Matcher: every enabled bank's entries in memory
// (PDQ in internal/index's multi-index, exact digests in hash maps), kept in
// step with the store through its change feed, so that entries imported or
// removed by another process are matchable within a second.
//
// One Matcher serves a whole process: the crawler's workers, `vigil match`
// and the scanning API share it. It is safe for concurrent use.
//
// The index holds only entry IDs and hashes; a candidate's bank,
// classification and value are read from the store when it is found, which
// keeps memory at the index's bytes per entry, and makes a disabled bank
// or a removed entry stop matching at once even before the index has
// caught up.
package match

import (
	"cmp"
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/index"
	"github.com/vigil-hotline/vigil/internal/pdq"
)

// Store is the part of vigil.BankService the matcher reads.
type Store interface {
	ListBanks(ctx context.Context) ([]*vigil.Bank, error)
	BankEntries(ctx context.Context, bankID, afterID int64, limit int) ([]*vigil.BankEntry, error)
	FindBankEntries(ctx context.Context, ids []int64) ([]*vigil.BankEntry, error)
	BankChanges(ctx context.Context, afterSeq int64, limit int) ([]vigil.BankChange, error)
	LastBankChange(ctx context.Context) (int64, error)
	PruneBankChanges(ctx context.Context, before time.Time) (int64, error)
}

// Config configures a Matcher.
type Config struct {
	Store  Store
	Logger *slog.Logger
	// MinQuality: PDQ hashes of lower quality never match. 0 means
	// vigil.DefaultMinPDQQuality; a negative value turns the gate off.
	MinQuality int
	// PollInterval is how often the change feed is read. 0 means 250 ms;
	// a negative value starts no background sync (call Sync yourself, as
	// a one-shot command does).
	PollInterval time.Duration
	// Index tunes the PDQ index.
	Index index.Options
	// FeedRetention is how long the bank change feed keeps its entries:
	// the matcher prunes older ones about hourly, and marks itself stale
	// if it has not read the feed for that long (it may have missed
	// pruned changes; restart the process). 0 means 24 hours; negative
	// never prunes.
	FeedRetention time.Duration
	// Snapshot, if set, is the path of the index snapshot (see
	// snapshot.go): read at start instead of loading every entry from the
	// store when it is there, whole and recent, and written again about
	// every SnapshotEvery while the index changes (0: an hour; negative:
	// read only).
	Snapshot      string
	SnapshotEvery time.Duration
}

// Matcher implements vigil.Matcher.
type Matcher struct {
	store      Store
	log        *slog.Logger
	minQuality int
	pdq        *index.PDQ
	exact      *index.Exact
	// frames indexes every distinct frame hash of every known video once
	// (see video.go); frameCount, guarded by mu, is how many each video
	// entry has there.
	frames     *index.PDQ
	frameCount map[int64]int
	banks      atomic.Pointer[bankTable]

	// mu serialises Sync: loading, unloading and applying changes.
	mu     sync.Mutex
	seq    int64
	loaded map[int64]bool // banks whose entries are in the index

	stop chan struct{}
	done chan struct{}
	// loadTime is how long New took to load the banks.
	loadTime time.Duration
	// retention, lastSync, lastPrune and stale: see Config.FeedRetention.
	retention           time.Duration
	lastSync, lastPrune time.Time
	stale               atomic.Bool

	// snapPath, snapEvery: see Config.Snapshot. snapMu guards snapSeq,
	// the Seq the last snapshot covers, and snapNext, when the next is due.
	snapPath  string
	snapEvery time.Duration
	snapMu    sync.Mutex
	snapSeq   int64
	snapNext  time.Time
	// FromSnapshot: the index was read from the snapshot at start.
	fromSnapshot bool
}

var _ vigil.Matcher = (*Matcher)(nil)

// bankTable is an immutable snapshot of the banks, swapped whole.
type bankTable struct {
	byID map[int64]*vigil.Bank
	// maxDist is the largest threshold among enabled banks, allow banks
	// included: the PDQ search radius.
	maxDist int
}

func newBankTable(banks []*vigil.Bank) *bankTable {
	t := &bankTable{byID: make(map[int64]*vigil.Bank, len(banks)), maxDist: -1}
	for _, b := range banks {
		t.byID[b.ID] = b
		if b.Enabled {
			t.maxDist = max(t.maxDist, b.PDQThreshold)
		}
	}
	return t
}

// pageSize is how many entries are read from the store at a time.
const pageSize = 10000

// New loads every enabled bank from the store and, unless
// cfg.PollInterval is negative, starts following the change feed. Close
// stops it.
func New(ctx context.Context, cfg Config) (*Matcher, error) {
	if cfg.Store == nil {
		return nil, errors.New("match: no store")
	}
	m := &Matcher{store: cfg.Store, log: cfg.Logger, minQuality: cfg.MinQuality,
		exact: index.NewExact(), loaded: map[int64]bool{}, frames: index.NewPDQ(cfg.Index), frameCount: map[int64]int{}}
	if m.log == nil {
		m.log = slog.New(slog.DiscardHandler)
	}
	if m.minQuality == 0 {
		m.minQuality = vigil.DefaultMinPDQQuality
	}
	m.retention = cfg.FeedRetention
	if m.retention == 0 {
		m.retention = 24 * time.Hour
	}
	m.snapPath, m.snapEvery = cfg.Snapshot, cfg.SnapshotEvery
	if m.snapEvery == 0 {
		m.snapEvery = time.Hour
	}
	start := time.Now()
	if m.snapPath != "" {
		err := m.loadSnapshot(ctx, m.snapPath, cfg.Index)
		switch {
		case err == nil:
			m.fromSnapshot = true
			return m.started(start, cfg), nil
		case errors.Is(err, os.ErrNotExist):
			m.log.Info("match index: no snapshot yet; loading from the store", "path", m.snapPath)
		default:
			m.log.Warn("match index: snapshot not used; loading from the store", "path", m.snapPath, "err", err)
		}
		// Whatever the failed load left is dropped.
		m.seq, m.loaded, m.frameCount = 0, map[int64]bool{}, map[int64]int{}
		m.exact, m.frames = index.NewExact(), index.NewPDQ(cfg.Index)
		m.snapNext = time.Now() // the first follow tick writes one
	}
	// The feed position first: a change committed while loading is then
	// applied again by the first Sync, which is harmless (adds and removes
	// are idempotent); reading it last could miss one.
	seq, err := m.store.LastBankChange(ctx)
	if err != nil {
		return nil, fmt.Errorf("match: %w", err)
	}
	m.seq = seq
	banks, err := m.store.ListBanks(ctx)
	if err != nil {
		return nil, fmt.Errorf("match: %w", err)
	}
	m.banks.Store(newBankTable(banks))
	b := index.NewBuilder(0, cfg.Index)
	for _, bank := range banks {
		if !bank.Enabled {
			continue
		}
		err := m.eachEntry(ctx, bank.ID, 0, -1, func(e *vigil.BankEntry, raw []byte) error {
			if e.Signal == vigil.SignalPDQ {
				b.Add(e.ID, hashFromBytes(raw))
				return nil
			}
			if e.Signal == vigil.SignalVPDQ {
				return m.addVideo(e)
			}
			return ignore(m.exact.Add(e.Signal, raw, e.ID), index.ErrExists)
		})
		if err != nil {
			return nil, fmt.Errorf("match: loading bank %s: %w", bank.Name, err)
		}
		m.loaded[bank.ID] = true
	}
	if m.pdq, err = b.Build(); err != nil {
		return nil, fmt.Errorf("match: %w", err)
	}
	return m.started(start, cfg), nil
}

// started logs the load and starts following the feed.
func (m *Matcher) started(start time.Time, cfg Config) *Matcher {
	m.loadTime = time.Since(start)
	m.lastSync, m.lastPrune = start, start
	m.log.Info("match index loaded", "banks", len(m.loaded), "pdq", m.pdq.Len(), "exact", m.exact.Len(),
		"from_snapshot", m.fromSnapshot, "seconds", m.loadTime.Seconds())
	if cfg.PollInterval >= 0 {
		if cfg.PollInterval == 0 {
			cfg.PollInterval = 250 * time.Millisecond
		}
		m.stop, m.done = make(chan struct{}), make(chan struct{})
		go m.follow(cfg.PollInterval)
	}
	return m
}

// Close stops following the change feed.
func (m *Matcher) Close() error {
	if m.stop != nil {
		close(m.stop)
		<-m.done
		m.stop = nil
	}
	return nil
}

func (m *Matcher) follow(every time.Duration) {
	defer close(m.done)
	t := time.NewTicker(every)
	defer t.Stop()
	failing := false
	for {
		select {
		case <-m.stop:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		err := m.Sync(ctx)
		m.prune(ctx)
		cancel()
		if err == nil && m.snapshotDue() {
			start := time.Now()
			if err := m.WriteSnapshot(m.snapPath); err != nil {
				m.log.Warn("match index: writing the snapshot", "err", err)
				m.snapMu.Lock()
				m.snapNext = m.nextSnapshot()
				m.snapMu.Unlock()
			} else {
				m.log.Debug("match index: snapshot written", "path", m.snapPath, "seconds", time.Since(start).Seconds())
			}
		}
		// Log a failure once, and the recovery, not every tick.
		if err != nil && !failing {
			m.log.Warn("match index: following bank changes failed; retrying", "err", err)
		} else if err == nil && failing {
			m.log.Info("match index: following bank changes again")
		}
		failing = err != nil
	}
}

// prune drops the feed's old entries about hourly, and marks the matcher
// stale when it has not read the feed for the whole retention.
func (m *Matcher) prune(ctx context.Context) {
	if m.retention < 0 {
		return
	}
	m.mu.Lock()
	last, due := m.lastSync, time.Since(m.lastPrune) > time.Hour
	m.mu.Unlock()
	if time.Since(last) > m.retention && !m.stale.Swap(true) {
		m.log.Error("match index: the bank change feed was not read for longer than it is kept; changes may be missed: restart this process")
	}
	if !due || m.stale.Load() {
		return
	}
	n, err := m.store.PruneBankChanges(ctx, time.Now().Add(-m.retention))
	if err != nil {
		m.log.Warn("match index: pruning the bank change feed", "err", err)
		return
	}
	m.mu.Lock()
	m.lastPrune = time.Now()
	m.mu.Unlock()
	if n > 0 {
		m.log.Debug("match index: bank change feed pruned", "entries", n)
	}
}

// Sync applies every change in the feed since the last one applied.
func (m *Matcher) Sync(ctx context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for {
		changes, err := m.store.BankChanges(ctx, m.seq, 1000)
		if err != nil {
			return fmt.Errorf("match: sync: %w", err)
		}
		for _, c := range changes {
			if err := m.apply(ctx, c); err != nil {
				return fmt.Errorf("match: sync: change %d: %w", c.Seq, err)
			}
			m.seq = c.Seq
		}
		if len(changes) < 1000 {
			m.lastSync = time.Now()
			return nil
		}
	}
}

func (m *Matcher) apply(ctx context.Context, c vigil.BankChange) error {
	switch c.Op {
	case vigil.ChangeBank:
		return m.reloadBanks(ctx)
	case vigil.ChangeAdd:
		if !m.loaded[c.BankID] {
			return nil // a disabled bank: loaded whole if it is enabled
		}
		return m.addEntries(ctx, c.BankID, c.FirstEntryID-1, c.LastEntryID)
	case vigil.ChangeRemove:
		// Applied whatever the bank's state: removal is idempotent, and an
		// unloaded bank may still hold the entry if it was removed while
		// the bank was being unloaded.
		if c.Signal == vigil.SignalPDQ {
			return ignore(m.pdq.Remove(c.FirstEntryID), index.ErrNotFound)
		}
		if c.Signal == vigil.SignalVPDQ {
			return m.removeVideo(c.FirstEntryID)
		}
		raw, err := hex.DecodeString(c.Value)
		if err != nil {
			return err
		}
		return ignore(m.exact.Remove(c.Signal, raw, c.FirstEntryID), index.ErrNotFound)
	}
	m.log.Warn("match index: unknown bank change", "op", c.Op, "seq", c.Seq)
	return nil
}

// reloadBanks reads the bank table and loads or unloads banks whose
// enabled state changed.
func (m *Matcher) reloadBanks(ctx context.Context) error {
	banks, err := m.store.ListBanks(ctx)
	if err != nil {
		return err
	}
	t := newBankTable(banks)
	m.banks.Store(t) // a disabled bank stops matching now, before unloading
	for _, b := range banks {
		if b.Enabled && !m.loaded[b.ID] {
			if err := m.addEntries(ctx, b.ID, 0, -1); err != nil {
				return err
			}
			m.loaded[b.ID] = true
			m.log.Info("match index: bank loaded", "bank", b.Name)
		}
	}
	for id := range m.loaded {
		if b := t.byID[id]; b == nil || !b.Enabled {
			if err := m.unloadBank(ctx, id); err != nil {
				return err
			}
			delete(m.loaded, id)
		}
	}
	return nil
}

// addEntries adds a bank's entries with IDs in (after, last] (last < 0: no
// bound) to the index; entries already there are skipped.
func (m *Matcher) addEntries(ctx context.Context, bankID, after, last int64) error {
	var ids []int64
	var hashes []pdq.Hash
	flush := func() error {
		if len(ids) == 0 {
			return nil
		}
		defer func() { ids, hashes = ids[:0], hashes[:0] }()
		err := m.pdq.AddBatch(ids, hashes)
		if !errors.Is(err, index.ErrExists) {
			return err
		}
		// A batch fails whole on an ID already indexed (a change applied
		// twice): add one by one, skipping those and only those.
		for i, id := range ids {
			if err := ignore(m.pdq.Add(id, hashes[i]), index.ErrExists); err != nil {
				return err
			}
		}
		return nil
	}
	err := m.eachEntry(ctx, bankID, after, last, func(e *vigil.BankEntry, raw []byte) error {
		if e.Signal == vigil.SignalPDQ {
			ids, hashes = append(ids, e.ID), append(hashes, hashFromBytes(raw))
			if len(ids) == pageSize {
				return flush()
			}
			return nil
		}
		if e.Signal == vigil.SignalVPDQ {
			return m.addVideo(e)
		}
		return ignore(m.exact.Add(e.Signal, raw, e.ID), index.ErrExists)
	})
	if err != nil {
		return err
	}
	return flush()
}

func (m *Matcher) unloadBank(ctx context.Context, bankID int64) error {
	return m.eachEntry(ctx, bankID, 0, -1, func(e *vigil.BankEntry, raw []byte) error {
		if e.Signal == vigil.SignalPDQ {
			return ignore(m.pdq.Remove(e.ID), index.ErrNotFound)
		}
		if e.Signal == vigil.SignalVPDQ {
			return m.removeVideo(e.ID)
		}
		return ignore(m.exact.Remove(e.Signal, raw, e.ID), index.ErrNotFound)
	})
}

// eachEntry pages through a bank's entries with IDs in (after, last],
// passing over suppressed ones (quarantined or disputed: out of the index
// until released, which adds them back through the change feed).
func (m *Matcher) eachEntry(ctx context.Context, bankID, after, last int64, fn func(*vigil.BankEntry, []byte) error) error {
	raw := make([]byte, 32)
	for {
		page, err := m.store.BankEntries(ctx, bankID, after, pageSize)
		if err != nil {
			return err
		}
		for _, e := range page {
			if last >= 0 && e.ID > last {
				return nil
			}
			after = e.ID
			if e.Suppressed != "" {
				continue
			}
			n, err := hex.Decode(raw, []byte(e.Value))
			if err != nil {
				return fmt.Errorf("entry %d: %w", e.ID, err)
			}
			if err := fn(e, raw[:n]); err != nil {
				return fmt.Errorf("entry %d: %w", e.ID, err)
			}
		}
		if len(page) < pageSize {
			return nil
		}
	}
}

// hashFromBytes reads a PDQ hash stored as its 32 bytes in hex order (the
// layout of pdq.ParseHex).
func hashFromBytes(b []byte) pdq.Hash {
	var h pdq.Hash
	for i := 0; i < 4; i++ {
		h[i] = binary.BigEndian.Uint64(b[(3-i)*8:])
	}
	return h
}

func ignore(err, harmless error) error {
	if errors.Is(err, harmless) {
		return nil
	}
	return err
}

// Stats describe what the matcher holds.
type Stats struct {
	Banks        int   // enabled banks loaded
	PDQEntries   int   // PDQ hashes indexed
	ExactEntries int   // exact digests indexed
	Seq          int64 // last change applied
	LoadTime     time.Duration
	// Stale: the change feed went unread for longer than it is kept.
	Stale bool
	// FromSnapshot: the index was read from its snapshot at start.
	FromSnapshot bool
}

// Stats returns what the matcher holds now.
func (m *Matcher) Stats() Stats {
	m.mu.Lock()
	defer m.mu.Unlock()
	return Stats{Banks: len(m.loaded), PDQEntries: m.pdq.Len(), ExactEntries: m.exact.Len(), Seq: m.seq, LoadTime: m.loadTime, Stale: m.stale.Load(), FromSnapshot: m.fromSnapshot}
}

// candidate is an index hit before its bank is known.
type candidate struct {
	signal   vigil.SignalType
	distance int
	variant  string
}

// Match implements vigil.Matcher.
func (m *Matcher) Match(ctx context.Context, q vigil.MatchQuery) ([]vigil.Match, error) {
	tbl := m.banks.Load()
	cands := map[int64]candidate{}
	for _, x := range []struct {
		t vigil.SignalType
		v string
	}{{vigil.SignalMD5, q.MD5}, {vigil.SignalSHA1, q.SHA1}, {vigil.SignalSHA256, q.SHA256}} {
		if x.v == "" {
			continue
		}
		v, err := vigil.NormalizeSignalValue(x.t, x.v)
		if err != nil {
			return nil, err
		}
		raw, _ := hex.DecodeString(v)
		ids, err := m.exact.Lookup(x.t, raw)
		if err != nil {
			return nil, err
		}
		for _, id := range ids {
			cands[id] = candidate{signal: x.t, variant: "orig"}
		}
	}
	if err := m.searchPDQ(q, tbl.maxDist, cands); err != nil {
		return nil, err
	}
	videos, allowed, err := m.matchVideo(ctx, q, tbl)
	if err != nil || allowed {
		return nil, err
	}
	if len(cands) == 0 {
		return videos, nil
	}
	ids := make([]int64, 0, len(cands))
	for id := range cands {
		ids = append(ids, id)
	}
	entries, err := m.store.FindBankEntries(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("match: %w", err)
	}
	var out []vigil.Match
	for _, e := range entries {
		c := cands[e.ID]
		b := tbl.byID[e.BankID]
		if b == nil || !b.Enabled || e.Signal != c.signal || (c.signal == vigil.SignalPDQ && c.distance > b.PDQThreshold) ||
			e.Suppressed != "" {
			continue
		}
		if b.Kind == vigil.BankAllow {
			return nil, nil // analysts said: this never matches
		}
		out = append(out, vigil.Match{BankID: b.ID, BankName: b.Name, BankSource: b.Source, EntryID: e.ID, Signal: e.Signal, Value: e.Value,
			Distance: c.distance, Classification: e.Classification, Variant: c.variant}.WithProvenance(e))
	}
	out = append(out, videos...)
	slices.SortFunc(out, func(a, b vigil.Match) int {
		return cmp.Or(
			cmp.Compare(boolInt(a.Signal != vigil.SignalMD5 && a.Signal != vigil.SignalSHA1 && a.Signal != vigil.SignalSHA256),
				boolInt(b.Signal != vigil.SignalMD5 && b.Signal != vigil.SignalSHA1 && b.Signal != vigil.SignalSHA256)),
			cmp.Compare(a.Distance, b.Distance),
			cmp.Compare(a.BankID, b.BankID),
			cmp.Compare(a.EntryID, b.EntryID))
	})
	return out, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// searchPDQ adds the PDQ candidates within maxDist of the query's hash or
// its dihedral variants, unless its quality is under the gate.
func (m *Matcher) searchPDQ(q vigil.MatchQuery, maxDist int, cands map[int64]candidate) error {
	if (q.PDQ == "" && len(q.Dihedral) == 0) || maxDist < 0 {
		return nil
	}
	if m.minQuality > 0 && q.Quality < m.minQuality {
		return nil
	}
	var qs []pdq.Hash
	var names []string
	if q.PDQ != "" {
		h, err := parsePDQ(q.PDQ)
		if err != nil {
			return err
		}
		qs, names = append(qs, h), append(names, pdq.DihedralNames[pdq.Original])
	}
	for i, s := range q.Dihedral {
		h, err := parsePDQ(s)
		if err != nil {
			return err
		}
		name := fmt.Sprintf("variant%d", i)
		if i < len(pdq.DihedralNames) {
			name = pdq.DihedralNames[i]
		}
		qs, names = append(qs, h), append(names, name)
	}
	var hits []index.Match
	if len(qs) == 1 {
		hits = m.pdq.Search(qs[0], maxDist)
	} else {
		hits = m.pdq.SearchVariants(qs, maxDist)
	}
	for _, h := range hits {
		cands[h.ID] = candidate{signal: vigil.SignalPDQ, distance: h.Distance, variant: names[h.Variant]}
	}
	return nil
}

func parsePDQ(s string) (pdq.Hash, error) {
	h, err := pdq.ParseHex(s)
	if err != nil {
		return h, vigil.Errorf(vigil.EINVALID, "pdq value must be 64 hex digits")
	}
	return h, nil
}
