package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/store"
)

// testTrust: per-exchange settings, the quarantine of a flooding entry,
// release, and verdicts with their feedback outbox.
func testTrust(t *testing.T, db *store.DB) {
	ctx := context.Background()
	bank := newBank(t, db, "te-list", vigil.BankBlock)
	x := &vigil.Exchange{Name: "te", Kind: vigil.ExchangeThreatExchange, BankID: bank.ID,
		URL: "https://graph.facebook.com/v21.0/123", Enabled: true}
	if err := db.CreateExchange(ctx, x, vigil.ExchangeCredentials{Token: "1|secret"}); err != nil {
		t.Fatal(err)
	}

	// Settings: defaults, then stored; bad ones refused.
	tr, err := db.FindExchangeTrust(ctx, x.ID)
	if err != nil || tr.Share() != vigil.DefaultQuarantineShare || tr.MinHits() != vigil.DefaultQuarantineMinHits {
		t.Fatalf("default trust: %v %+v", err, tr)
	}
	if _, err := db.FindExchangeTrust(ctx, 9999); !vigil.IsNotFound(err) {
		t.Errorf("unknown exchange: %v", err)
	}
	if err := db.SetExchangeTrust(ctx, vigil.ExchangeTrust{ExchangeID: x.ID, QuarantineShare: 1.5}); vigil.ErrorCode(err) != vigil.EINVALID {
		t.Errorf("share 1.5: %v", err)
	}
	m, err := vigil.ParseClassificationMap("sexual_abuse=iwf-a", vigil.DefaultVocabulary)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.SetExchangeTrust(ctx, vigil.ExchangeTrust{ExchangeID: x.ID, ClassMap: m, QuarantineShare: 0.3, QuarantineMinHits: 2}); err != nil {
		t.Fatal(err)
	}
	tr, err = db.FindExchangeTrust(ctx, x.ID)
	if err != nil || tr.Share() != 0.3 || tr.MinHits() != 2 || tr.ClassMap["sexual-abuse"] != "iwf-a" {
		t.Fatalf("stored trust: %v %+v", err, tr)
	}
	if c, known := tr.Classify("", []string{"media_type_photo", "sexual_abuse"}, vigil.DefaultVocabulary); c != "iwf-a" || !known {
		t.Errorf("tags mapped to %q %v", c, known)
	}
	if c, known := tr.Classify("Something Else", nil, vigil.DefaultVocabulary); c != "" || known {
		t.Errorf("an unknown label was guessed: %q %v", c, known)
	}

	// Three upstream entries; A matches 3 of 4 media, B one.
	if err := db.AcquireExchangeLease(ctx, x.ID, "p", time.Minute); err != nil {
		t.Fatal(err)
	}
	entries := []*vigil.BankEntry{exchangeEntry(vigil.SignalPDQ, "A", "101"), exchangeEntry(vigil.SignalPDQ, "B", "102"),
		exchangeEntry(vigil.SignalPDQ, "C", "103")}
	if _, err := db.StoreExchangePage(ctx, x.ID, "p", &vigil.ExchangePage{Checkpoint: "1", Entries: entries}); err != nil {
		t.Fatal(err)
	}
	a, b := entries[0], entries[1]
	match := func(e *vigil.BankEntry) []vigil.Match {
		return []vigil.Match{{BankID: bank.ID, BankName: bank.Name, EntryID: e.ID, Signal: e.Signal, Value: e.Value, Variant: "orig"}}
	}
	var items []SeedItem
	for i, e := range []*vigil.BankEntry{a, a, a, b} {
		it := seedItem(fmt.Sprint("trust-media-", i), fakeHash(vigil.SignalPDQ, fmt.Sprint("trust-media-", i)))
		it.Matches = match(e)
		items = append(items, it)
	}
	SeedCase(t, db, "https://flood.example/", items)

	seq0, _ := db.LastBankChange(ctx)
	q, err := db.QuarantineFloods(ctx, db.Now())
	if err != nil || len(q) != 1 || q[0].Entry.ID != a.ID || q[0].Reason != vigil.SuppressQuarantine || q[0].Hits != 3 || q[0].Total != 4 {
		t.Fatalf("quarantine: %v %+v", err, q)
	}
	if q[0].Entry.ExchangeName != "te" || q[0].Entry.UpstreamID != "101" {
		t.Errorf("quarantined entry without provenance: %+v", q[0].Entry)
	}
	if again, err := db.QuarantineFloods(ctx, db.Now()); err != nil || len(again) != 0 {
		t.Errorf("quarantined twice: %v %+v", err, again)
	}
	changes, err := db.BankChanges(ctx, seq0, 10)
	if err != nil || len(changes) != 1 || changes[0].Op != vigil.ChangeRemove || changes[0].FirstEntryID != a.ID {
		t.Fatalf("quarantine's change: %v %+v", err, changes)
	}
	got, err := db.FindBankEntries(ctx, []int64{a.ID, b.ID})
	if err != nil || len(got) != 2 {
		t.Fatal(err)
	}
	for _, e := range got {
		if (e.ID == a.ID) != (e.Suppressed == vigil.SuppressQuarantine) {
			t.Errorf("entry %d suppressed %q", e.ID, e.Suppressed)
		}
	}
	// A day later the window is empty.
	if later, err := db.QuarantineFloods(ctx, db.Now().Add(25*time.Hour)); err != nil || len(later) != 0 {
		t.Errorf("stale hits quarantined: %v %+v", err, later)
	}

	// Release: back in the index.
	if err := db.ReleaseEntry(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	if err := db.ReleaseEntry(ctx, a.ID); !vigil.IsNotFound(err) {
		t.Errorf("release twice: %v", err)
	}
	changes, _ = db.BankChanges(ctx, seq0, 10)
	if len(changes) != 2 || changes[1].Op != vigil.ChangeAdd || changes[1].FirstEntryID != a.ID || changes[1].LastEntryID != a.ID {
		t.Fatalf("release's change: %+v", changes)
	}
	if list, err := db.ListSuppressedEntries(ctx, 10); err != nil || len(list) != 0 {
		t.Errorf("suppressed after release: %v %+v", err, list)
	}

	// A dispute suppresses the entry and queues feedback once.
	analyst := NewStaff(t, db, "trust-analyst", vigil.RoleAnalyst)
	v := &vigil.UpstreamVerdict{EntryID: b.ID, MediaID: 0, Verdict: vigil.VerdictDispute, UserID: analyst.ID, Note: "a logo"}
	if err := db.JudgeUpstreamEntry(ctx, v); err != nil {
		t.Fatal(err)
	}
	if v.ID == 0 || v.Feedback != vigil.FeedbackPending || v.UpstreamID != "102" || v.ExchangeKind != vigil.ExchangeThreatExchange || v.FeedbackKey == "" {
		t.Fatalf("verdict %+v", v)
	}
	list, err := db.ListSuppressedEntries(ctx, 10)
	if err != nil || len(list) != 1 || list[0].Entry.ID != b.ID || list[0].Reason != vigil.SuppressDispute {
		t.Fatalf("disputed entry: %v %+v", err, list)
	}
	jobs, err := db.ListJobs(ctx, nil, 1000)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, j := range jobs {
		if j.Kind == "exchange_feedback" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d feedback jobs, want 1", n)
	}
	if ok, err := db.ClaimFeedback(ctx, v.ID); err != nil || !ok {
		t.Fatalf("claim: %v %v", ok, err)
	}
	if ok, err := db.ClaimFeedback(ctx, v.ID); err != nil || ok {
		t.Fatalf("second claim: %v %v", ok, err)
	}
	if err := db.RecordFeedback(ctx, v.ID, vigil.FeedbackSent, ""); err != nil {
		t.Fatal(err)
	}
	if err := db.RecordFeedback(ctx, v.ID, vigil.FeedbackSent, ""); vigil.ErrorCode(err) != vigil.ECONFLICT {
		t.Errorf("recorded twice: %v", err)
	}
	got1, err := db.FindUpstreamVerdict(ctx, v.ID)
	if err != nil || got1.Feedback != vigil.FeedbackSent || got1.SentAt.IsZero() || got1.Attempts != 1 || got1.Note != "a logo" {
		t.Fatalf("verdict after send: %v %+v", err, got1)
	}
	// A confirmation suppresses nothing.
	if err := db.JudgeUpstreamEntry(ctx, &vigil.UpstreamVerdict{EntryID: a.ID, Verdict: vigil.VerdictConfirm, UserID: analyst.ID}); err != nil {
		t.Fatal(err)
	}
	if vs, err := db.ListUpstreamVerdicts(ctx, a.ID); err != nil || len(vs) != 1 || vs[0].Verdict != vigil.VerdictConfirm {
		t.Errorf("verdicts of A: %v %+v", err, vs)
	}
	if list, _ := db.ListSuppressedEntries(ctx, 10); len(list) != 1 {
		t.Errorf("a confirmation suppressed: %+v", list)
	}
	// Only upstream entries take verdicts.
	own := &vigil.BankEntry{Signal: vigil.SignalMD5, Value: fakeHash(vigil.SignalMD5, "own")}
	if _, err := db.AddBankEntries(ctx, bank.ID, []*vigil.BankEntry{own}); err != nil {
		t.Fatal(err)
	}
	if err := db.JudgeUpstreamEntry(ctx, &vigil.UpstreamVerdict{EntryID: own.ID, Verdict: vigil.VerdictDispute, UserID: analyst.ID}); vigil.ErrorCode(err) != vigil.EINVALID {
		t.Errorf("verdict on the hotline's own entry: %v", err)
	}
}
