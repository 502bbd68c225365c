package upstream_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/exchange/stopncii/stopnciitest"
	"github.com/vigil-hotline/vigil/internal/exchange/threatexchange/threatexchangetest"
	"github.com/vigil-hotline/vigil/internal/exchange/upstream"
	"github.com/vigil-hotline/vigil/internal/store"
	"github.com/vigil-hotline/vigil/internal/storetest"
)

var errCrash = errors.New("killed between send and record")

// judged stores an exchange with one upstream entry and an analyst's
// verdict on it, and returns the verdict.
func judged(t *testing.T, db *store.DB, kind, url, token, upstreamID, value string, verdict string) *vigil.UpstreamVerdict {
	t.Helper()
	ctx := context.Background()
	b := &vigil.Bank{Name: "b-" + kind, Source: vigil.SourceHotline, Kind: vigil.BankBlock, PDQThreshold: 31, Enabled: true}
	if err := db.CreateBank(ctx, b); err != nil {
		t.Fatal(err)
	}
	x := &vigil.Exchange{Name: kind, Kind: kind, BankID: b.ID, URL: url, Enabled: true, AllowPrivate: true}
	if err := db.CreateExchange(ctx, x, vigil.ExchangeCredentials{Token: token}); err != nil {
		t.Fatal(err)
	}
	e := &vigil.BankEntry{Signal: vigil.SignalPDQ, Value: value, UpstreamID: upstreamID}
	if err := db.AcquireExchangeLease(ctx, x.ID, "p", time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, err := db.StoreExchangePage(ctx, x.ID, "p", &vigil.ExchangePage{Checkpoint: "c", Entries: []*vigil.BankEntry{e}}); err != nil {
		t.Fatal(err)
	}
	analyst := storetest.NewStaff(t, db, "analyst-"+kind, vigil.RoleAnalyst)
	v := &vigil.UpstreamVerdict{EntryID: e.ID, Verdict: verdict, UserID: analyst.ID}
	if err := db.JudgeUpstreamEntry(ctx, v); err != nil {
		t.Fatal(err)
	}
	return v
}

func state(t *testing.T, db *store.DB, id int64) vigil.FeedbackState {
	t.Helper()
	v, err := db.FindUpstreamVerdict(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return v.Feedback
}

// TestFeedbackOnceAfterCrash: a process killed between the send and its
// record sends nothing twice. ThreatExchange can say whether the reaction
// arrived (my_reactions): the retry records it sent. StopNCII cannot: the
// retry marks it uncertain for a human.
func TestFeedbackOnceAfterCrash(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		te := threatexchangetest.New("42", "1|tok")
		defer te.Close()
		id := te.Add(threatexchangetest.Descriptor{Type: "HASH_PDQ", Indicator: fmt.Sprintf("%064x", 7)})
		v := judged(t, db, vigil.ExchangeThreatExchange, te.GroupURL(), "1|tok", id, fmt.Sprintf("%064x", 7), vigil.VerdictDispute)

		crashes := 1
		f := &upstream.Feedback{Store: db, HTTP: func(*vigil.Exchange) *http.Client { return te.Client() },
			BeforeRecord: func() error {
				if crashes > 0 {
					crashes--
					return errCrash
				}
				return nil
			}}
		if err := f.Send(ctx, v.ID, false); !errors.Is(err, errCrash) {
			t.Fatalf("first try: %v", err)
		}
		if s := state(t, db, v.ID); s != vigil.FeedbackSending {
			t.Fatalf("after the crash: %s", s)
		}
		for range 2 {
			if err := f.Send(ctx, v.ID, false); err != nil {
				t.Fatal(err)
			}
		}
		if s := state(t, db, v.ID); s != vigil.FeedbackSent {
			t.Fatalf("after the retry: %s", s)
		}
		if got := te.Reactions(id); len(got) != 1 || got[0] != "DISAGREE_WITH_TAGS" {
			t.Fatalf("reactions received: %v, want one", got)
		}

		sn := stopnciitest.New("sub", "")
		defer sn.Close()
		pdq := fmt.Sprintf("%064x", 9)
		sn.Put(stopnciitest.Record{SignalType: "ImagePDQ", HashValue: pdq})
		v2 := judged(t, db, vigil.ExchangeStopNCII, sn.BaseURL(), "sub", "", pdq, vigil.VerdictConfirm)
		crashes = 1
		f.HTTP = func(*vigil.Exchange) *http.Client { return sn.Client() }
		if err := f.Send(ctx, v2.ID, false); !errors.Is(err, errCrash) {
			t.Fatalf("first try: %v", err)
		}
		for range 2 {
			if err := f.Send(ctx, v2.ID, false); err != nil {
				t.Fatal(err)
			}
		}
		if s := state(t, db, v2.ID); s != vigil.FeedbackUncertain {
			t.Fatalf("StopNCII after the crash: %s, want uncertain", s)
		}
		if got := sn.Feedback(); len(got) != 1 || got[0].FeedbackValue != "Blocked" {
			t.Fatalf("feedback received: %+v, want one", got)
		}
	})
}

// TestFeedbackRetriesRefusals: a 503 is not a delivery: the verdict goes
// back to pending and the next try sends it, once; a 4xx is a failure for
// a human.
func TestFeedbackRetriesRefusals(t *testing.T) {
	db := storetest.Open(t, "sqlite")
	ctx := context.Background()
	te := threatexchangetest.New("42", "1|tok")
	defer te.Close()
	id := te.Add(threatexchangetest.Descriptor{Type: "HASH_PDQ", Indicator: fmt.Sprintf("%064x", 7)})
	v := judged(t, db, vigil.ExchangeThreatExchange, te.GroupURL(), "1|tok", id, fmt.Sprintf("%064x", 7), vigil.VerdictConfirm)
	f := &upstream.Feedback{Store: db, HTTP: func(*vigil.Exchange) *http.Client { return te.Client() }}
	te.Fail(1, http.StatusServiceUnavailable)
	if err := f.Send(ctx, v.ID, false); err == nil {
		t.Fatal("a 503 was taken for a delivery")
	}
	if s := state(t, db, v.ID); s != vigil.FeedbackPending {
		t.Fatalf("after a 503: %s", s)
	}
	if err := f.Send(ctx, v.ID, false); err != nil {
		t.Fatal(err)
	}
	if got := te.Reactions(id); len(got) != 1 || got[0] != "SAW_THIS_TOO" || state(t, db, v.ID) != vigil.FeedbackSent {
		t.Fatalf("reactions %v, state %s", got, state(t, db, v.ID))
	}

	v2 := &vigil.UpstreamVerdict{EntryID: v.EntryID, Verdict: vigil.VerdictDispute, UserID: v.UserID}
	if err := db.JudgeUpstreamEntry(ctx, v2); err != nil {
		t.Fatal(err)
	}
	te.Fault(func(w http.ResponseWriter) bool {
		http.Error(w, `{"error":{"message":"no"}}`, http.StatusForbidden)
		return true
	})
	if err := f.Send(ctx, v2.ID, false); err != nil {
		t.Fatal(err)
	}
	if s := state(t, db, v2.ID); s != vigil.FeedbackFailed {
		t.Fatalf("after a 403: %s", s)
	}
}
