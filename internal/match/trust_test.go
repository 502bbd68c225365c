package match_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/match"
	"github.com/vigil-hotline/vigil/internal/store"
	"github.com/vigil-hotline/vigil/internal/storetest"
)

// TestMatchSuppressedUpstreamEntries: a quarantined entry and a disputed
// one stop matching (in this process and, through the change feed, in
// another), and match again once released.
func TestMatchSuppressedUpstreamEntries(t *testing.T) {
	forEach(t, func(t *testing.T, db, other *store.DB) {
		ctx := context.Background()
		h := rand.New(rand.NewPCG(7, 8))
		b := mkBank(t, db, "te-bank", vigil.BankBlock, 31, true)
		x := &vigil.Exchange{Name: "te", Kind: vigil.ExchangeThreatExchange, BankID: b.ID, URL: "https://graph.facebook.com/v21.0/5", Enabled: true}
		if err := db.CreateExchange(ctx, x, vigil.ExchangeCredentials{Token: "1|s"}); err != nil {
			t.Fatal(err)
		}
		if err := db.SetExchangeTrust(ctx, vigil.ExchangeTrust{ExchangeID: x.ID, QuarantineShare: 0.5, QuarantineMinHits: 3}); err != nil {
			t.Fatal(err)
		}
		flood, disputed := randHash(h), randHash(h)
		entries := []*vigil.BankEntry{
			{Signal: vigil.SignalPDQ, Value: flood.String(), UpstreamID: "1", Tags: []string{"logo"}},
			{Signal: vigil.SignalPDQ, Value: disputed.String(), UpstreamID: "2"},
		}
		if err := db.AcquireExchangeLease(ctx, x.ID, "p", time.Minute); err != nil {
			t.Fatal(err)
		}
		if _, err := db.StoreExchangePage(ctx, x.ID, "p", &vigil.ExchangePage{Checkpoint: "c", Entries: entries}); err != nil {
			t.Fatal(err)
		}
		m := newMatcher(t, db, match.Config{})
		mo := newMatcher(t, other, match.Config{})
		q := func(ph string) vigil.MatchQuery { return vigil.MatchQuery{PDQ: ph, Quality: 100} }
		for _, mm := range []*match.Matcher{m, mo} {
			if err := mm.Sync(ctx); err != nil {
				t.Fatal(err)
			}
			if got := mustMatch(t, mm, q(flood.String())); len(got) != 1 || got[0].EntryID != entries[0].ID {
				t.Fatalf("before quarantine: %+v", got)
			}
		}

		// The flooding entry matched 4 of 5 media today: quarantined.
		var items []storetest.SeedItem
		for i := range 5 {
			it := storetest.SeedItem{SHA256: fmt.Sprintf("%064x", 1000+i), MD5: fmt.Sprintf("%032x", 1000+i),
				PDQ: randHash(h).String(), Quality: 100}
			if i < 4 {
				it.Matches = []vigil.Match{{BankID: b.ID, BankName: b.Name, EntryID: entries[0].ID, Signal: vigil.SignalPDQ,
					Value: flood.String(), Variant: "orig"}}
			}
			items = append(items, it)
		}
		storetest.SeedCase(t, db, "https://flood.example/", items)
		qs, err := db.QuarantineFloods(ctx, db.Now())
		if err != nil || len(qs) != 1 || qs[0].Entry.ID != entries[0].ID {
			t.Fatalf("quarantine: %v %+v", err, qs)
		}
		// Disputed by an analyst.
		analyst := storetest.NewStaff(t, db, "a1", vigil.RoleAnalyst)
		if err := db.JudgeUpstreamEntry(ctx, &vigil.UpstreamVerdict{EntryID: entries[1].ID, Verdict: vigil.VerdictDispute, UserID: analyst.ID}); err != nil {
			t.Fatal(err)
		}
		// Matches stop at once in this process (entries are read back),
		// and both indexes drop them through the change feed.
		for _, ph := range []string{flood.String(), disputed.String()} {
			if got := mustMatch(t, m, q(ph)); len(got) != 0 {
				t.Fatalf("suppressed entry still matches: %+v", got)
			}
		}
		for _, mm := range []*match.Matcher{m, mo} {
			if err := mm.Sync(ctx); err != nil {
				t.Fatal(err)
			}
			if st := mm.Stats(); st.PDQEntries != 0 {
				t.Fatalf("index holds %d suppressed entries", st.PDQEntries)
			}
		}
		// A matcher started now loads neither.
		fresh := newMatcher(t, other, match.Config{})
		if st := fresh.Stats(); st.PDQEntries != 0 {
			t.Fatalf("a new index loaded %d suppressed entries", st.PDQEntries)
		}

		// Released by an admin: matches again everywhere.
		if err := db.ReleaseEntry(ctx, entries[0].ID); err != nil {
			t.Fatal(err)
		}
		for _, mm := range []*match.Matcher{mo, fresh} {
			if err := mm.Sync(ctx); err != nil {
				t.Fatal(err)
			}
			if got := mustMatch(t, mm, q(flood.String())); len(got) != 1 {
				t.Fatalf("released entry: %+v", got)
			}
			if got := mustMatch(t, mm, q(disputed.String())); len(got) != 0 {
				t.Fatalf("disputed entry: %+v", got)
			}
		}
	})
}
