package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/store"
)

// testBankChangesPruned: pruning drops the feed's old entries, keeps the
// newest whatever its age, and the feed goes on from where it was.
func testBankChangesPruned(t *testing.T, db *store.DB) {
	ctx := context.Background()
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	db.Now = func() time.Time { return clock }
	b := &vigil.Bank{Name: "pruned", Source: vigil.SourceHotline, Kind: vigil.BankBlock, PDQThreshold: 31, Enabled: true}
	if err := db.CreateBank(ctx, b); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		clock = clock.Add(time.Hour)
		e := &vigil.BankEntry{Signal: vigil.SignalMD5, Value: string(rune('a'+i)) + "0000000000000000000000000000000"[:31], AddedFrom: "test"}
		if _, err := db.AddBankEntries(ctx, b.ID, []*vigil.BankEntry{e}); err != nil {
			t.Fatal(err)
		}
	}
	last, err := db.LastBankChange(ctx)
	if err != nil {
		t.Fatal(err)
	}
	all, err := db.BankChanges(ctx, 0, 100)
	if err != nil || len(all) != 4 {
		t.Fatalf("changes before pruning: %d %v", len(all), err)
	}
	// Older than 2.5 hours after the start: the bank and the first entry.
	n, err := db.PruneBankChanges(ctx, time.Date(2026, 1, 1, 1, 30, 0, 0, time.UTC))
	if err != nil || n != 2 {
		t.Errorf("pruned %d, want 2 (%v)", n, err)
	}
	// Everything older than the far future, but the newest stays.
	if n, err = db.PruneBankChanges(ctx, clock.Add(1000*time.Hour)); err != nil || n != 1 {
		t.Errorf("pruned %d, want 1 (%v)", n, err)
	}
	left, err := db.BankChanges(ctx, 0, 100)
	if err != nil || len(left) != 1 || left[0].Seq != last {
		t.Fatalf("left: %+v %v", left, err)
	}
	if got, err := db.LastBankChange(ctx); err != nil || got != last {
		t.Errorf("last change after pruning: %d %v, want %d", got, err, last)
	}
	e := &vigil.BankEntry{Signal: vigil.SignalMD5, Value: "f0000000000000000000000000000000", AddedFrom: "test"}
	if _, err := db.AddBankEntries(ctx, b.ID, []*vigil.BankEntry{e}); err != nil {
		t.Fatal(err)
	}
	if next, err := db.BankChanges(ctx, last, 10); err != nil || len(next) != 1 || next[0].Seq <= last {
		t.Errorf("the feed after pruning: %+v %v", next, err)
	}
}
