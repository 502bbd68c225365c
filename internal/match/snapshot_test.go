package match_test

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/match"
	"github.com/vigil-hotline/vigil/internal/store"
	"github.com/vigil-hotline/vigil/internal/storetest"
)

// TestSnapshot: a matcher started from the snapshot, after entries were
// added and removed and banks enabled and disabled since it was written,
// answers exactly as one loaded from the store; a torn, corrupt or too old
// snapshot is not used, and the matcher loads from the store instead.
func TestSnapshot(t *testing.T) {
	forEach(t, func(t *testing.T, db, other *store.DB) {
		ctx := context.Background()
		r := rand.New(rand.NewPCG(3, 4))
		a := mkBank(t, db, "a", vigil.BankBlock, 31, true)
		b := mkBank(t, db, "b", vigil.BankBlock, 31, false)
		c := mkBank(t, db, "c", vigil.BankBlock, 31, true)
		var queries []vigil.MatchQuery
		addPDQ := func(bank *vigil.Bank) *vigil.BankEntry {
			h := randHash(r)
			queries = append(queries, vigil.MatchQuery{PDQ: flip(r, h, 5).String(), Quality: 100})
			return add(t, db, bank, vigil.SignalPDQ, h.String(), "a1")
		}
		addExact := func(bank *vigil.Bank, typ vigil.SignalType) *vigil.BankEntry {
			seed := []byte{byte(r.Uint32()), byte(r.Uint32()), byte(r.Uint32())}
			v := ""
			if typ == vigil.SignalMD5 {
				s := md5.Sum(seed)
				v = hex.EncodeToString(s[:])
				queries = append(queries, vigil.MatchQuery{MD5: v})
			} else {
				s := sha256.Sum256(seed)
				v = hex.EncodeToString(s[:])
				queries = append(queries, vigil.MatchQuery{SHA256: v})
			}
			return add(t, db, bank, typ, v, "b2")
		}
		var firstPDQ, firstMD5 *vigil.BankEntry
		for i := 0; i < 40; i++ {
			if e := addPDQ(a); i == 0 {
				firstPDQ = e
			}
		}
		for i := 0; i < 8; i++ {
			if e := addExact(a, vigil.SignalMD5); i == 0 {
				firstMD5 = e
			}
			addExact(a, vigil.SignalSHA256)
		}
		known := randFrames(r, 30)
		addVideo(t, db, a, known, "a2")
		queries = append(queries, vigil.MatchQuery{Video: nearCopy(r, known, 2)})
		for i := 0; i < 5; i++ {
			addPDQ(b)
			addPDQ(c)
		}

		path := filepath.Join(t.TempDir(), "index", "match.snapshot")
		m1 := newMatcher(t, db, match.Config{Snapshot: path, PollInterval: -1})
		if m1.Stats().FromSnapshot {
			t.Fatal("the first matcher claims a snapshot that was never written")
		}
		if err := m1.WriteSnapshot(path); err != nil {
			t.Fatal(err)
		}
		// Changes after the snapshot, made by another process.
		for i := 0; i < 5; i++ {
			e := &vigil.BankEntry{Signal: vigil.SignalPDQ, Value: randHash(r).String(), Classification: "a1", AddedFrom: "test"}
			if _, err := other.AddBankEntries(ctx, a.ID, []*vigil.BankEntry{e}); err != nil {
				t.Fatal(err)
			}
			queries = append(queries, vigil.MatchQuery{PDQ: e.Value, Quality: 100})
		}
		if err := other.RemoveBankEntry(ctx, a.ID, vigil.SignalPDQ, firstPDQ.Value); err != nil {
			t.Fatal(err)
		}
		if err := other.RemoveBankEntry(ctx, a.ID, vigil.SignalMD5, firstMD5.Value); err != nil {
			t.Fatal(err)
		}
		if err := other.SetBankEnabled(ctx, b.ID, true); err != nil {
			t.Fatal(err)
		}
		if err := other.SetBankEnabled(ctx, c.ID, false); err != nil {
			t.Fatal(err)
		}

		fresh := newMatcher(t, db, match.Config{PollInterval: -1})
		same := func(what string, m *match.Matcher) {
			t.Helper()
			got, want := m.Stats(), fresh.Stats()
			if got.PDQEntries != want.PDQEntries || got.ExactEntries != want.ExactEntries || got.Banks != want.Banks || got.Seq != want.Seq {
				t.Errorf("%s: %+v, from the store %+v", what, got, want)
			}
			for i, q := range queries {
				if g, w := describe(mustMatch(t, m, q)), describe(mustMatch(t, fresh, q)); g != w {
					t.Errorf("%s: query %d: %q, from the store %q", what, i, g, w)
				}
			}
		}
		m2 := newMatcher(t, db, match.Config{Snapshot: path, PollInterval: -1})
		if !m2.Stats().FromSnapshot {
			t.Fatal("the snapshot was not used")
		}
		same("from the snapshot", m2)

		whole, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for name, bad := range map[string][]byte{
			"torn":    whole[:len(whole)-7],
			"corrupt": append(append(append([]byte{}, whole[:len(whole)/2]...), whole[len(whole)/2]^0x10), whole[len(whole)/2+1:]...),
			"empty":   {},
		} {
			p := filepath.Join(t.TempDir(), name)
			if err := os.WriteFile(p, bad, 0o600); err != nil {
				t.Fatal(err)
			}
			m := newMatcher(t, db, match.Config{Snapshot: p, PollInterval: -1})
			if m.Stats().FromSnapshot {
				t.Errorf("a %s snapshot was used", name)
			}
			same(name+" snapshot", m)
		}
		time.Sleep(10 * time.Millisecond)
		if m := newMatcher(t, db, match.Config{Snapshot: path, PollInterval: -1, FeedRetention: 5 * time.Millisecond}); m.Stats().FromSnapshot {
			t.Error("a snapshot older than half the feed's retention was used")
		}
	})
}

// TestSnapshotWrittenWhileFollowing: a following matcher writes its
// snapshot on its own once the index has moved, and a process started
// after that reads it.
func TestSnapshotWrittenWhileFollowing(t *testing.T) {
	db := storetest.Open(t, "sqlite")
	r := rand.New(rand.NewPCG(5, 6))
	a := mkBank(t, db, "a", vigil.BankBlock, 31, true)
	add(t, db, a, vigil.SignalPDQ, randHash(r).String(), "a1")
	path := filepath.Join(t.TempDir(), "match.snapshot")
	m := newMatcher(t, db, match.Config{Snapshot: path, PollInterval: 10 * time.Millisecond})
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := os.Stat(path); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no snapshot written")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if m.Stats().Stale {
		// The feed's retention defaults to a day: a matcher that has read
		// the feed a moment ago is not stale.
		t.Error("a following matcher calls itself stale")
	}
	m.Close()
	if m2 := newMatcher(t, db, match.Config{Snapshot: path, PollInterval: -1}); !m2.Stats().FromSnapshot || m2.Stats().PDQEntries != 1 {
		t.Errorf("the written snapshot: %+v", m2.Stats())
	}
	// Another database (or one restored from an older backup) with a
	// feed of the same length: the snapshot is not its own.
	db2 := storetest.Open(t, "sqlite")
	b2 := mkBank(t, db2, "a", vigil.BankBlock, 31, true)
	add(t, db2, b2, vigil.SignalPDQ, randHash(r).String(), "a1")
	add(t, db2, b2, vigil.SignalPDQ, randHash(r).String(), "a1")
	if m3 := newMatcher(t, db2, match.Config{Snapshot: path, PollInterval: -1}); m3.Stats().FromSnapshot || m3.Stats().PDQEntries != 2 {
		t.Errorf("another database's snapshot was used: %+v", m3.Stats())
	}
}
