package storetest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sync"
	"testing"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/store"
)

// fakeHash returns a synthetic hex value of the type's length, derived from
// seed: tests never use hashes of real material.
func fakeHash(t vigil.SignalType, seed string) string {
	sum := sha256.Sum256([]byte(seed))
	h := hex.EncodeToString(sum[:]) + hex.EncodeToString(sum[:])
	return h[:t.HexLen()]
}

func newBank(t *testing.T, db *store.DB, name string, kind vigil.BankKind) *vigil.Bank {
	t.Helper()
	b := &vigil.Bank{Name: name, Source: vigil.SourceHotline, Kind: kind, Enabled: true,
		PDQThreshold: vigil.DefaultPDQThreshold, Terms: "test terms"}
	if err := db.CreateBank(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	return b
}

func testBanks(t *testing.T, db *store.DB) {
	ctx := context.Background()
	before, err := db.LastBankChange(ctx)
	if err != nil || before != 0 {
		t.Fatalf("last change on an empty store: %d %v", before, err)
	}
	b := newBank(t, db, "hotline-confirmed", vigil.BankBlock)
	if b.ID == 0 || b.CreatedAt.IsZero() {
		t.Fatalf("bank not given ID and time: %+v", b)
	}
	err = db.CreateBank(ctx, &vigil.Bank{Name: "hotline-confirmed", Source: vigil.SourceIWF, Kind: vigil.BankBlock, PDQThreshold: 31})
	if vigil.ErrorCode(err) != vigil.ECONFLICT {
		t.Errorf("duplicate name: %v", err)
	}
	for _, bad := range []*vigil.Bank{
		{Name: "Has Spaces", Source: vigil.SourceIWF, PDQThreshold: 31},
		{Name: "x", Source: "somewhere", PDQThreshold: 31},
		{Name: "x", Source: vigil.SourceIWF, Kind: "maybe", PDQThreshold: 31},
		{Name: "x", Source: vigil.SourceIWF, PDQThreshold: 65},
		{Name: "x", Source: vigil.SourceIWF, PDQThreshold: -1},
	} {
		if err := db.CreateBank(ctx, bad); vigil.ErrorCode(err) != vigil.EINVALID {
			t.Errorf("%+v: want invalid, got %v", bad, err)
		}
	}
	allow := newBank(t, db, "false-positives", vigil.BankAllow)
	got, err := db.FindBankByName(ctx, "hotline-confirmed")
	if err != nil || got.ID != b.ID || got.Source != vigil.SourceHotline || got.Kind != vigil.BankBlock ||
		!got.Enabled || got.PDQThreshold != 31 || got.Terms != "test terms" || !got.CreatedAt.Equal(b.CreatedAt.Truncate(1000)) {
		t.Errorf("find by name: %+v %v", got, err)
	}
	if _, err := db.FindBankByName(ctx, "nope"); !vigil.IsNotFound(err) {
		t.Errorf("missing bank: %v", err)
	}
	if _, err := db.FindBankByID(ctx, 9999); !vigil.IsNotFound(err) {
		t.Errorf("missing bank id: %v", err)
	}
	if err := db.SetBankEnabled(ctx, b.ID, false); err != nil {
		t.Fatal(err)
	}
	if err := db.SetBankThreshold(ctx, b.ID, 12); err != nil {
		t.Fatal(err)
	}
	if err := db.SetBankThreshold(ctx, b.ID, 99); vigil.ErrorCode(err) != vigil.EINVALID {
		t.Errorf("threshold 99: %v", err)
	}
	if err := db.SetBankEnabled(ctx, 9999, true); !vigil.IsNotFound(err) {
		t.Errorf("enable missing bank: %v", err)
	}
	got, _ = db.FindBankByID(ctx, b.ID)
	if got.Enabled || got.PDQThreshold != 12 {
		t.Errorf("after disable and threshold: %+v", got)
	}
	banks, err := db.ListBanks(ctx)
	if err != nil || len(banks) != 2 || banks[0].ID != allow.ID || banks[1].ID != b.ID || banks[0].Kind != vigil.BankAllow {
		t.Errorf("list: %v %v", banks, err)
	}
	// Two creations and two updates: four bank changes, in order.
	changes, err := db.BankChanges(ctx, before, 100)
	if err != nil || len(changes) != 4 {
		t.Fatalf("changes: %+v %v", changes, err)
	}
	for i, c := range changes {
		if c.Op != vigil.ChangeBank || (i > 0 && c.Seq <= changes[i-1].Seq) || c.At.IsZero() {
			t.Errorf("change %d: %+v", i, c)
		}
	}
	if last, _ := db.LastBankChange(ctx); last != changes[3].Seq {
		t.Errorf("last change %d, want %d", last, changes[3].Seq)
	}
}

func testBankEntries(t *testing.T, db *store.DB) {
	ctx := context.Background()
	b := newBank(t, db, "ncmec", vigil.BankBlock)
	other := newBank(t, db, "iwf", vigil.BankBlock)
	seq0, _ := db.LastBankChange(ctx)

	// More than one statement's worth of rows, every type, a duplicate
	// inside the batch, upper-case hex.
	var entries []*vigil.BankEntry
	for i := 0; i < 4500; i++ {
		typ := vigil.SignalTypes[i%4]
		entries = append(entries, &vigil.BankEntry{Signal: typ, Value: fakeHash(typ, fmt.Sprint(i)),
			Classification: "IWF A", AddedFrom: "list.csv", Note: fmt.Sprintf("row %d", i)})
	}
	entries[7].Value = hexUpper(entries[7].Value)
	entries = append(entries, &vigil.BankEntry{Signal: entries[3].Signal, Value: entries[3].Value})
	added, err := db.AddBankEntries(ctx, b.ID, entries)
	if err != nil || added != 4500 {
		t.Fatalf("added %d, %v", added, err)
	}
	if entries[0].ID == 0 || entries[4499].ID == 0 || entries[7].Value != hexLower(entries[7].Value) ||
		entries[0].Classification != "iwf-a" {
		t.Errorf("entries not completed: %+v %+v", entries[0], entries[7])
	}
	// Importing again adds nothing; the same values in another bank do.
	again := make([]*vigil.BankEntry, 0, len(entries))
	for _, e := range entries[:1000] {
		again = append(again, &vigil.BankEntry{Signal: e.Signal, Value: e.Value})
	}
	if n, err := db.AddBankEntries(ctx, b.ID, again); err != nil || n != 0 {
		t.Errorf("second import added %d, %v", n, err)
	}
	if n, err := db.AddBankEntries(ctx, other.ID, again[:10]); err != nil || n != 10 {
		t.Errorf("other bank added %d, %v", n, err)
	}
	if n, err := db.CountBankEntries(ctx, b.ID); err != nil || n != 4500 {
		t.Errorf("count %d %v", n, err)
	}
	// Validation and a missing bank.
	if _, err := db.AddBankEntries(ctx, b.ID, []*vigil.BankEntry{{Signal: vigil.SignalMD5, Value: "xyz"}}); vigil.ErrorCode(err) != vigil.EINVALID {
		t.Errorf("bad value: %v", err)
	}
	if _, err := db.AddBankEntries(ctx, b.ID, []*vigil.BankEntry{{Signal: "crc32", Value: "00"}}); vigil.ErrorCode(err) != vigil.EINVALID {
		t.Errorf("bad type: %v", err)
	}
	if _, err := db.AddBankEntries(ctx, 9999, again[:1]); !vigil.IsNotFound(err) {
		t.Errorf("missing bank: %v", err)
	}

	// Paging returns every entry once, in ID order.
	var all []*vigil.BankEntry
	for after := int64(0); ; {
		page, err := db.BankEntries(ctx, b.ID, after, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		all = append(all, page...)
		after = page[len(page)-1].ID
	}
	if len(all) != 4500 {
		t.Fatalf("paged %d entries", len(all))
	}
	for i, e := range all {
		if e.BankID != b.ID || (i > 0 && e.ID <= all[i-1].ID) {
			t.Fatalf("page order at %d: %+v", i, e)
		}
	}
	if e := all[5]; e.Signal != entries[5].Signal || e.Value != entries[5].Value || e.Note != "row 5" ||
		e.AddedFrom != "list.csv" || e.Classification != "iwf-a" || e.AddedAt.IsZero() {
		t.Errorf("entry read back: %+v", e)
	}
	found, err := db.FindBankEntries(ctx, []int64{entries[1].ID, entries[2].ID, 999999})
	if err != nil || len(found) != 2 {
		t.Errorf("find entries: %v %v", found, err)
	}

	// The feed holds one add per batch, covering the batch's IDs.
	changes, err := db.BankChanges(ctx, seq0, 100)
	if err != nil || len(changes) != 2 {
		t.Fatalf("changes after adds: %+v %v", changes, err)
	}
	if c := changes[0]; c.Op != vigil.ChangeAdd || c.BankID != b.ID || c.FirstEntryID > all[0].ID || c.LastEntryID < all[4499].ID {
		t.Errorf("add change: %+v", c)
	}

	// Removal.
	e := entries[9]
	if err := db.RemoveBankEntry(ctx, b.ID, e.Signal, hexUpper(e.Value)); err != nil {
		t.Fatal(err)
	}
	if err := db.RemoveBankEntry(ctx, b.ID, e.Signal, e.Value); !vigil.IsNotFound(err) {
		t.Errorf("second removal: %v", err)
	}
	if err := db.RemoveBankEntry(ctx, b.ID, "pdq", "12"); vigil.ErrorCode(err) != vigil.EINVALID {
		t.Errorf("bad removal: %v", err)
	}
	changes, _ = db.BankChanges(ctx, changes[1].Seq, 100)
	if len(changes) != 1 || changes[0].Op != vigil.ChangeRemove || changes[0].FirstEntryID != e.ID ||
		changes[0].Signal != e.Signal || changes[0].Value != e.Value {
		t.Errorf("remove change: %+v", changes)
	}
	// Re-adding a removed value gives a new ID.
	re := &vigil.BankEntry{Signal: e.Signal, Value: e.Value}
	if n, err := db.AddBankEntries(ctx, b.ID, []*vigil.BankEntry{re}); err != nil || n != 1 || re.ID <= e.ID {
		t.Errorf("re-add: %d %v %d", n, err, re.ID)
	}
}

// testBankChangesConcurrent checks the feed's promise: a reader that polls
// by last seen sequence number while several writers add entries misses no
// entry.
func testBankChangesConcurrent(t *testing.T, db *store.DB) {
	ctx := context.Background()
	b := newBank(t, db, "concurrent", vigil.BankBlock)
	seq, _ := db.LastBankChange(ctx)
	const writers, batches, per = 4, 15, 20
	var wg sync.WaitGroup
	done := make(chan struct{})
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < batches; i++ {
				var es []*vigil.BankEntry
				for j := 0; j < per; j++ {
					es = append(es, &vigil.BankEntry{Signal: vigil.SignalSHA1, Value: fakeHash(vigil.SignalSHA1, fmt.Sprint(w, i, j))})
				}
				if _, err := db.AddBankEntries(ctx, b.ID, es); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	go func() { wg.Wait(); close(done) }()
	seen := map[int64]bool{}
	poll := func() {
		changes, err := db.BankChanges(ctx, seq, 1000)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range changes {
			seq = c.Seq
			for after := c.FirstEntryID - 1; ; {
				page, err := db.BankEntries(ctx, b.ID, after, 1000)
				if err != nil {
					t.Fatal(err)
				}
				for _, e := range page {
					if e.ID <= c.LastEntryID {
						seen[e.ID] = true
					}
				}
				if len(page) < 1000 || page[len(page)-1].ID >= c.LastEntryID {
					break
				}
				after = page[len(page)-1].ID
			}
		}
	}
	for running := true; running; {
		select {
		case <-done:
			running = false
		default:
		}
		poll()
	}
	poll()
	if len(seen) != writers*batches*per {
		t.Errorf("the feed showed %d entries, want %d", len(seen), writers*batches*per)
	}
}

func hexUpper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'f' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

func hexLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'F' {
			b[i] = c - 'A' + 'a'
		}
	}
	return string(b)
}
