package storetest

import (
	"context"
	"encoding/hex"
	"fmt"
	"testing"
	"time"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/store"
)

func newVictimSubmission(t *testing.T, hashes ...vigil.VictimHash) *vigil.VictimSubmission {
	t.Helper()
	s, err := vigil.NewVictimSubmission(hashes, "seen on a forum", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// testVictims: a submission fills the victim bank through the change
// feed; a hash two submissions share stays until both are withdrawn; a
// withdrawal records each removal in the feed.
func testVictims(t *testing.T, db *store.DB) {
	ctx := context.Background()
	q := 80
	pdq := vigil.VictimHash{Type: vigil.SignalPDQ, Value: fakeHash(vigil.SignalPDQ, "victim-pdq"), Quality: &q}
	md5 := vigil.VictimHash{Type: vigil.SignalMD5, Value: hexUpper(fakeHash(vigil.SignalMD5, "victim-md5"))}
	a := newVictimSubmission(t, pdq, md5, md5)
	if len(a.Hashes) != 2 {
		t.Fatalf("duplicates kept: %d hashes", len(a.Hashes))
	}
	before, err := db.LastBankChange(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.CreateVictimSubmission(ctx, a); err != nil {
		t.Fatal(err)
	}
	b := newVictimSubmission(t, md5)
	if err := db.CreateVictimSubmission(ctx, b); err != nil {
		t.Fatal(err)
	}
	bank, err := db.FindBankByName(ctx, vigil.VictimBankName)
	if err != nil || bank.Source != vigil.SourceVictim || !bank.Enabled {
		t.Fatalf("victim bank %+v: %v", bank, err)
	}
	entries, err := db.BankEntries(ctx, bank.ID, 0, 10)
	if err != nil || len(entries) != 2 {
		t.Fatalf("victim bank holds %d entries (%v), want 2", len(entries), err)
	}
	for _, e := range entries {
		if e.Classification != vigil.ClassSelfReported {
			t.Errorf("entry classified %q", e.Classification)
		}
	}
	changes, err := db.BankChanges(ctx, before, 100)
	if err != nil {
		t.Fatal(err)
	}
	adds := 0
	for _, c := range changes {
		if c.Op == vigil.ChangeAdd && c.BankID == bank.ID {
			adds += int(c.LastEntryID - c.FirstEntryID + 1)
		}
	}
	if adds != 2 {
		t.Errorf("change feed adds %d entries, want 2", adds)
	}

	st, err := db.VictimStatus(ctx, a.TrackingCode)
	if err != nil || st.Hashes != 2 || st.Found != 0 || st.Removed != 0 || st.Withdrawn {
		t.Fatalf("status %+v %v", st, err)
	}
	if _, err := db.VictimStatus(ctx, vigil.NewTrackingCode()); !vigil.IsNotFound(err) {
		t.Errorf("unknown code: %v, want not found", err)
	}

	for _, e := range entries {
		want := 1
		if e.Signal == vigil.SignalMD5 {
			want = 2 // a and b both sent it
		}
		if d, err := db.VictimDescriptions(ctx, e.ID); err != nil || len(d) != want || d[0] != "seen on a forum" {
			t.Errorf("descriptions of %s entry: %q %v", e.Signal, d, err)
		}
	}

	// Withdrawing a: its PDQ goes, the MD5 that b also sent stays.
	seq, _ := db.LastBankChange(ctx)
	if err := db.WithdrawVictimSubmission(ctx, a.TrackingCode); err != nil {
		t.Fatal(err)
	}
	if err := db.WithdrawVictimSubmission(ctx, a.TrackingCode); err != nil {
		t.Fatalf("withdrawing twice: %v", err)
	}
	entries, _ = db.BankEntries(ctx, bank.ID, 0, 10)
	if len(entries) != 1 || entries[0].Signal != vigil.SignalMD5 {
		t.Fatalf("after withdrawal the bank holds %+v", entries)
	}
	changes, _ = db.BankChanges(ctx, seq, 100)
	if len(changes) != 1 || changes[0].Op != vigil.ChangeRemove || changes[0].Signal != vigil.SignalPDQ {
		t.Fatalf("withdrawal's changes: %+v", changes)
	}
	if st, _ := db.VictimStatus(ctx, a.TrackingCode); !st.Withdrawn {
		t.Error("status does not say withdrawn")
	}
	if err := db.WithdrawVictimSubmission(ctx, b.TrackingCode); err != nil {
		t.Fatal(err)
	}
	if n, _ := db.CountBankEntries(ctx, bank.ID); n != 0 {
		t.Errorf("%d entries left after both withdrew", n)
	}

	subs, err := db.ListVictimSubmissions(ctx, 10)
	if err != nil || len(subs) != 2 || subs[0].ID != b.ID || subs[0].Description != "seen on a forum" {
		t.Fatalf("list %+v %v", subs, err)
	}
	if err := db.SetVictimFlag(ctx, a.ID, true); err != nil {
		t.Fatal(err)
	}
	if subs, _ = db.ListVictimSubmissions(ctx, 10); subs[0].ID != a.ID || subs[0].FlaggedAt == nil {
		t.Errorf("a flagged submission is not listed first: %+v", subs[0])
	}
	if err := db.SetVictimFlag(ctx, 999999, true); !vigil.IsNotFound(err) {
		t.Errorf("flagging no submission: %v", err)
	}
}

// flipBits returns the PDQ hash h with bits [from, to) inverted.
func flipBits(h string, from, to int) string {
	b, _ := hex.DecodeString(h)
	for i := from; i < to; i++ {
		b[i/8] ^= 1 << (i % 8)
	}
	return hex.EncodeToString(b)
}

// testVictimFlag: a victim's hash that matches pictures unlike each other
// (three, each within the threshold of the hash but far from the others)
// flags its submission; from then on its matches wait for an analyst
// instead of opening the takedown path.
func testVictimFlag(t *testing.T, db *store.DB) {
	ctx := context.Background()
	q := 90
	h := fakeHash(vigil.SignalPDQ, "common picture")
	sub := newVictimSubmission(t, vigil.VictimHash{Type: vigil.SignalPDQ, Value: h, Quality: &q})
	if err := db.CreateVictimSubmission(ctx, sub); err != nil {
		t.Fatal(err)
	}
	bank, err := db.FindBankByName(ctx, vigil.VictimBankName)
	if err != nil {
		t.Fatal(err)
	}
	entries, err := db.BankEntries(ctx, bank.ID, 0, 10)
	if err != nil || len(entries) != 1 {
		t.Fatalf("entries %v %v", entries, err)
	}
	e := entries[0]
	seen := func(i int, pdq string) (urlID, mediaID int64) {
		item := seedItem(fmt.Sprintf("flag-%d", i), pdq)
		item.Matches = []vigil.Match{{BankID: bank.ID, BankName: bank.Name, EntryID: e.ID, Signal: vigil.SignalPDQ,
			Value: e.Value, Distance: 30, Classification: vigil.ClassSelfReported, Variant: "orig"}}
		u, ids := SeedCase(t, db, fmt.Sprintf("https://site%d.example/page", i), []SeedItem{item})
		return u, ids[0]
	}
	// Three pictures 60 bits apart from each other, each 30 from h.
	pictures := []string{flipBits(h, 0, 30), flipBits(h, 30, 60), flipBits(h, 60, 90), flipBits(flipBits(h, 60, 90), 200, 202)}
	for i, p := range pictures {
		urlID, mediaID := seen(i, p)
		m, err := db.FindMedia(ctx, mediaID)
		if err != nil {
			t.Fatal(err)
		}
		_, tdErr := db.FindTakedownByURL(ctx, urlID)
		if i < 2 {
			if m.Status != vigil.MediaKnown || m.Classification != vigil.ClassSelfReported || tdErr != nil {
				t.Errorf("picture %d before the flag: status %s class %q takedown %v", i, m.Status, m.Classification, tdErr)
			}
			continue
		}
		if m.Status != vigil.MediaUnknown || m.QueuedAt == nil || !vigil.IsNotFound(tdErr) {
			t.Errorf("picture %d after the flag: status %s queued %v takedown %v: want held for an analyst", i, m.Status, m.QueuedAt, tdErr)
		}
	}
	subs, err := db.ListVictimSubmissions(ctx, 10)
	if err != nil || len(subs) != 1 || subs[0].FlaggedAt == nil || subs[0].Unrelated != 3 || subs[0].Matched != 4 {
		t.Fatalf("summary %+v %v: want flagged with 3 unrelated pictures and 4 matched", subs[0], err)
	}
	// A supervisor who clears the flag lets matches through again.
	if err := db.SetVictimFlag(ctx, sub.ID, false); err != nil {
		t.Fatal(err)
	}
	urlID, mediaID := seen(9, flipBits(h, 100, 130))
	if m, _ := db.FindMedia(ctx, mediaID); m.Status != vigil.MediaKnown {
		t.Errorf("after the flag was cleared: status %s", m.Status)
	}
	if _, err := db.FindTakedownByURL(ctx, urlID); err != nil {
		t.Errorf("after the flag was cleared, no takedown: %v", err)
	}
}
