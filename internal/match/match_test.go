package match_test

import (
	"bytes"
	"context"
	"crypto/sha1"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/bankfile"
	"github.com/vigil-hotline/vigil/internal/conformance"
	"github.com/vigil-hotline/vigil/internal/hashing"
	"github.com/vigil-hotline/vigil/internal/match"
	"github.com/vigil-hotline/vigil/internal/pdq"
	"github.com/vigil-hotline/vigil/internal/store"
	"github.com/vigil-hotline/vigil/internal/storetest"
)

// Every hash here is random bits or the hash of a generated picture.

func randHash(r *rand.Rand) pdq.Hash {
	return pdq.Hash{r.Uint64(), r.Uint64(), r.Uint64(), r.Uint64()}
}

// flip returns h with k distinct bits flipped.
func flip(r *rand.Rand, h pdq.Hash, k int) pdq.Hash {
	for _, b := range r.Perm(256)[:k] {
		h[b>>6] ^= 1 << (b & 63)
	}
	return h
}

// twoHandles opens two stores on one database, as two processes would.
func twoHandles(t *testing.T, kind string) (*store.DB, *store.DB) {
	t.Helper()
	if kind == "sqlite" {
		p := filepath.Join(t.TempDir(), "vigil.db")
		return storetest.OpenSQLite(t, p), storetest.OpenSQLite(t, p)
	}
	u := storetest.MigratedPostgresURL(t)
	return storetest.OpenPostgres(t, u), storetest.OpenPostgres(t, u)
}

func forEach(t *testing.T, fn func(t *testing.T, db, other *store.DB)) {
	for _, kind := range storetest.Kinds {
		t.Run(kind, func(t *testing.T) {
			db, other := twoHandles(t, kind)
			fn(t, db, other)
		})
	}
}

func mkBank(t *testing.T, db *store.DB, name string, kind vigil.BankKind, threshold int, enabled bool) *vigil.Bank {
	t.Helper()
	b := &vigil.Bank{Name: name, Source: vigil.SourceHotline, Kind: kind, PDQThreshold: threshold, Enabled: enabled}
	if err := db.CreateBank(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	return b
}

func add(t *testing.T, db *store.DB, b *vigil.Bank, typ vigil.SignalType, value, class string) *vigil.BankEntry {
	t.Helper()
	e := &vigil.BankEntry{Signal: typ, Value: value, Classification: class, AddedFrom: "test"}
	if n, err := db.AddBankEntries(context.Background(), b.ID, []*vigil.BankEntry{e}); err != nil || n != 1 {
		t.Fatalf("add: %d %v", n, err)
	}
	return e
}

func newMatcher(t *testing.T, db *store.DB, cfg match.Config) *match.Matcher {
	t.Helper()
	cfg.Store = db
	if cfg.PollInterval == 0 {
		cfg.PollInterval = 50 * time.Millisecond
	}
	m, err := match.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

func describe(ms []vigil.Match) string {
	var s []string
	for _, m := range ms {
		s = append(s, fmt.Sprintf("%s/%s/%d/%s", m.BankName, m.Signal, m.Distance, m.Variant))
	}
	return strings.Join(s, " ")
}

func mustMatch(t *testing.T, m *match.Matcher, q vigil.MatchQuery) []vigil.Match {
	t.Helper()
	got, err := m.Match(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func TestMatchBanks(t *testing.T) {
	forEach(t, func(t *testing.T, db, _ *store.DB) {
		ctx := context.Background()
		r := rand.New(rand.NewPCG(1, 2))
		wide := mkBank(t, db, "wide", vigil.BankBlock, 31, true)
		narrow := mkBank(t, db, "narrow", vigil.BankBlock, 10, true)
		off := mkBank(t, db, "off", vigil.BankBlock, 31, false)
		h := randHash(r)
		md5 := fmt.Sprintf("%x", sha1.Sum([]byte("benign")))[:32]
		eWide := add(t, db, wide, vigil.SignalPDQ, flip(r, h, 20).String(), "iwf-a")
		eNarrow := add(t, db, narrow, vigil.SignalPDQ, flip(r, h, 8).String(), "baseline")
		add(t, db, narrow, vigil.SignalPDQ, flip(r, h, 12).String(), "") // over narrow's 10
		add(t, db, off, vigil.SignalPDQ, h.String(), "")
		eMD5 := add(t, db, wide, vigil.SignalMD5, md5, "national")
		m := newMatcher(t, db, match.Config{})

		got := mustMatch(t, m, vigil.MatchQuery{PDQ: h.String(), Quality: 100, MD5: strings.ToUpper(md5)})
		if describe(got) != "wide/md5/0/orig narrow/pdq/8/orig wide/pdq/20/orig" {
			t.Fatalf("matches: %s", describe(got))
		}
		if g := got[0]; g.EntryID != eMD5.ID || g.Value != md5 || g.Classification != "national" || g.BankID != wide.ID {
			t.Errorf("exact match: %+v", g)
		}
		if g := got[1]; g.EntryID != eNarrow.ID || g.Classification != "baseline" || g.Value != eNarrow.Value {
			t.Errorf("pdq match: %+v", g)
		}
		if got[2].EntryID != eWide.ID {
			t.Errorf("wide: %+v", got[2])
		}
		// The quality gate stops PDQ, not the exact digests.
		if got := mustMatch(t, m, vigil.MatchQuery{PDQ: h.String(), Quality: 49, MD5: md5}); describe(got) != "wide/md5/0/orig" {
			t.Errorf("quality 49: %s", describe(got))
		}
		loose := newMatcher(t, db, match.Config{MinQuality: -1})
		if got := mustMatch(t, loose, vigil.MatchQuery{PDQ: h.String()}); len(got) != 2 {
			t.Errorf("gate off: %s", describe(got))
		}
		// Nothing near: no match, no error.
		if got := mustMatch(t, m, vigil.MatchQuery{PDQ: randHash(r).String(), Quality: 100}); len(got) != 0 {
			t.Errorf("unrelated hash: %s", describe(got))
		}
		if _, err := m.Match(ctx, vigil.MatchQuery{PDQ: "xyz", Quality: 100}); vigil.ErrorCode(err) != vigil.EINVALID {
			t.Errorf("bad pdq: %v", err)
		}
		if _, err := m.Match(ctx, vigil.MatchQuery{SHA1: "12"}); vigil.ErrorCode(err) != vigil.EINVALID {
			t.Errorf("bad sha1: %v", err)
		}

		// Threshold change, enabling and disabling, through the feed.
		if err := db.SetBankThreshold(ctx, narrow.ID, 12); err != nil {
			t.Fatal(err)
		}
		if err := db.SetBankEnabled(ctx, off.ID, true); err != nil {
			t.Fatal(err)
		}
		if err := db.SetBankEnabled(ctx, wide.ID, false); err != nil {
			t.Fatal(err)
		}
		if err := m.Sync(ctx); err != nil {
			t.Fatal(err)
		}
		if got := mustMatch(t, m, vigil.MatchQuery{PDQ: h.String(), Quality: 100, MD5: md5}); describe(got) != "off/pdq/0/orig narrow/pdq/8/orig narrow/pdq/12/orig" {
			t.Errorf("after changes: %s", describe(got))
		}
		if st := m.Stats(); st.Banks != 2 || st.PDQEntries != 3 || st.ExactEntries != 0 {
			t.Errorf("stats %+v", st)
		}

		// An allow bank holding the item silences every match, within its
		// own threshold only.
		allow := mkBank(t, db, "false-positives", vigil.BankAllow, 4, true)
		near, far := h, h
		near[0] ^= 0b111   // 3 bits from h
		far[1] ^= 0b111111 // 6 bits from h, 9 from near
		add(t, db, allow, vigil.SignalPDQ, near.String(), "")
		m.Sync(ctx)
		if got := mustMatch(t, m, vigil.MatchQuery{PDQ: h.String(), Quality: 100}); len(got) != 0 {
			t.Errorf("allow bank: %s", describe(got))
		}
		if got := mustMatch(t, m, vigil.MatchQuery{PDQ: far.String(), Quality: 100}); len(got) == 0 || got[0].BankName != "off" {
			t.Errorf("beyond the allow bank's threshold: %s", describe(got))
		}
		add(t, db, allow, vigil.SignalMD5, md5, "")
		if err := db.SetBankEnabled(ctx, wide.ID, true); err != nil {
			t.Fatal(err)
		}
		m.Sync(ctx)
		if got := mustMatch(t, m, vigil.MatchQuery{MD5: md5}); len(got) != 0 {
			t.Errorf("exact in allow bank: %s", describe(got))
		}
	})
}

// TestMatchFollowsOtherProcess adds and removes entries through a second
// store handle, as `vigil bank import` does while `vigil serve` runs, and
// expects the matcher to follow within a second.
func TestMatchFollowsOtherProcess(t *testing.T) {
	forEach(t, func(t *testing.T, db, other *store.DB) {
		ctx := context.Background()
		r := rand.New(rand.NewPCG(3, 4))
		b := mkBank(t, db, "live", vigil.BankBlock, 31, true)
		m := newMatcher(t, db, match.Config{PollInterval: 250 * time.Millisecond})
		// Queries run throughout, as workers would.
		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := m.Match(ctx, vigil.MatchQuery{PDQ: randHash(r).String(), Quality: 100}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
		defer func() { close(stop); wg.Wait() }()

		h := rand.New(rand.NewPCG(5, 6))
		ph := randHash(h)
		sha := strings.Repeat("5a", 32)
		waitFor := func(what string, want int, q vigil.MatchQuery) {
			t.Helper()
			start := time.Now()
			for {
				got := mustMatch(t, m, q)
				if len(got) == want {
					t.Logf("%s after %v", what, time.Since(start).Round(time.Millisecond))
					return
				}
				if time.Since(start) > time.Second {
					t.Fatalf("%s: %d matches after 1s, want %d", what, len(got), want)
				}
				time.Sleep(10 * time.Millisecond)
			}
		}
		entries := []*vigil.BankEntry{{Signal: vigil.SignalPDQ, Value: ph.String()}, {Signal: vigil.SignalSHA256, Value: sha}}
		if _, err := other.AddBankEntries(ctx, b.ID, entries); err != nil {
			t.Fatal(err)
		}
		waitFor("added", 2, vigil.MatchQuery{PDQ: flip(h, ph, 5).String(), Quality: 90, SHA256: sha})
		if err := other.RemoveBankEntry(ctx, b.ID, vigil.SignalPDQ, ph.String()); err != nil {
			t.Fatal(err)
		}
		if err := other.RemoveBankEntry(ctx, b.ID, vigil.SignalSHA256, sha); err != nil {
			t.Fatal(err)
		}
		waitFor("removed", 0, vigil.MatchQuery{PDQ: ph.String(), Quality: 90, SHA256: sha})
		// Matches stop at once (entries are read back from the store);
		// the index itself follows within the second.
		for start := time.Now(); ; time.Sleep(10 * time.Millisecond) {
			st := m.Stats()
			if st.PDQEntries == 0 && st.ExactEntries == 0 {
				break
			}
			if time.Since(start) > time.Second {
				t.Fatalf("index not emptied after 1s: %+v", st)
			}
		}
		// A bank created and filled elsewhere.
		nb := &vigil.Bank{Name: "new", Source: vigil.SourceIWF, Kind: vigil.BankBlock, PDQThreshold: 31, Enabled: true}
		if err := other.CreateBank(ctx, nb); err != nil {
			t.Fatal(err)
		}
		if _, err := other.AddBankEntries(ctx, nb.ID, []*vigil.BankEntry{{Signal: vigil.SignalPDQ, Value: ph.String()}}); err != nil {
			t.Fatal(err)
		}
		waitFor("new bank", 1, vigil.MatchQuery{PDQ: ph.String(), Quality: 90})
	})
}

// benignImage draws a generated picture: coloured noise blocks, which PDQ
// rates high quality.
func benignImage(w, h int) *image.RGBA {
	r := rand.New(rand.NewPCG(9, 9))
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for by := 0; by < h; by += 16 {
		for bx := 0; bx < w; bx += 16 {
			c := color.RGBA{uint8(r.IntN(256)), uint8(r.IntN(256)), uint8(r.IntN(256)), 255}
			for y := by; y < min(by+16, h); y++ {
				for x := bx; x < min(bx+16, w); x++ {
					m.Set(x, y, c)
				}
			}
		}
	}
	return m
}

func rotate90(src *image.RGBA) *image.RGBA {
	b := src.Bounds()
	dst := image.NewRGBA(image.Rect(0, 0, b.Dy(), b.Dx()))
	for y := 0; y < b.Dy(); y++ {
		for x := 0; x < b.Dx(); x++ {
			dst.Set(b.Dy()-1-y, x, src.At(x, y))
		}
	}
	return dst
}

func hashImage(t *testing.T, img image.Image) hashing.Result {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	res, err := hashing.HashBytes(buf.Bytes(), hashing.Options{Dihedral: true})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestMatchDihedral(t *testing.T) {
	db := storetest.Open(t, "sqlite")
	img := benignImage(160, 120)
	orig, rot := hashImage(t, img), hashImage(t, rotate90(img))
	if orig.Quality < 50 || rot.Quality < 50 {
		t.Fatalf("generated image quality %d %d", orig.Quality, rot.Quality)
	}
	b := mkBank(t, db, "known", vigil.BankBlock, 31, true)
	add(t, db, b, vigil.SignalPDQ, orig.PDQ.String(), "baseline")
	m := newMatcher(t, db, match.Config{PollInterval: -1})
	q := vigil.MatchQuery{PDQ: rot.PDQ.String(), Quality: rot.Quality}
	if got := mustMatch(t, m, q); len(got) != 0 {
		t.Fatalf("the rotated picture matched without its variants (distance %d)", got[0].Distance)
	}
	for _, h := range rot.Dihedral {
		q.Dihedral = append(q.Dihedral, h.String())
	}
	got := mustMatch(t, m, q)
	if len(got) != 1 || got[0].Variant == "orig" || got[0].Distance > 31 {
		t.Fatalf("dihedral: %s", describe(got))
	}
	t.Logf("rotated copy matched as %s at distance %d", got[0].Variant, got[0].Distance)
}

// TestMatchConformance imports the reference's haystack as a bank and
// queries its needles: the reference's 250 matches at distance 31.
func TestMatchConformance(t *testing.T) {
	dir := conformance.PDQDir(t)
	hay, err := os.Open(filepath.Join(dir, "hashlists", "haystack.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer hay.Close()
	db := storetest.Open(t, "sqlite")
	b := mkBank(t, db, "haystack", vigil.BankBlock, 31, true)
	st, err := bankfile.Import(context.Background(), db, b.ID, hay, bankfile.ImportOptions{
		Options: bankfile.Options{Format: bankfile.Lines, Type: vigil.SignalPDQ}})
	if err != nil || st.Added != 1350 {
		t.Fatalf("import: %+v %v", st, err)
	}
	m := newMatcher(t, db, match.Config{PollInterval: -1})

	want := map[string]bool{}
	exp, err := os.ReadFile(filepath.Join(dir, "expected", "mih-query-needles-haystack-d31.txt"))
	if err != nil {
		t.Fatal(err)
	}
	var needle string
	var needles []string
	for _, l := range strings.Split(string(exp), "\n") {
		switch {
		case strings.HasPrefix(l, "needle="):
			needle = strings.TrimPrefix(l, "needle=")
			needles = append(needles, needle)
		case strings.HasPrefix(l, "d="):
			f := strings.Split(l, ",")
			d, _ := strconv.Atoi(strings.TrimPrefix(f[0], "d="))
			want[fmt.Sprintf("%s %s %d", needle, strings.TrimPrefix(f[1], "match="), d)] = true
		}
	}
	if len(want) != 250 {
		t.Fatalf("parsed %d expected matches", len(want))
	}
	// Needles without matches are not listed in the expected file: query
	// them all.
	all, _ := os.ReadFile(filepath.Join(dir, "hashlists", "needles.txt"))
	got := map[string]bool{}
	for _, n := range strings.Fields(string(all)) {
		for _, mt := range mustMatch(t, m, vigil.MatchQuery{PDQ: n, Quality: 100}) {
			got[fmt.Sprintf("%s %s %d", n, mt.Value, mt.Distance)] = true
		}
	}
	for k := range want {
		if !got[k] {
			t.Errorf("missing %s", k)
		}
	}
	for k := range got {
		if !want[k] {
			t.Errorf("extra %s", k)
		}
	}
}
