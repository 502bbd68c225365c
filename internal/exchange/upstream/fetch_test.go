package upstream_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/exchange"
	"github.com/vigil-hotline/vigil/internal/exchange/stopncii/stopnciitest"
	"github.com/vigil-hotline/vigil/internal/exchange/threatexchange/threatexchangetest"
	"github.com/vigil-hotline/vigil/internal/exchange/upstream"
	"github.com/vigil-hotline/vigil/internal/store"
	"github.com/vigil-hotline/vigil/internal/storetest"
)

func addExchange(t *testing.T, db *store.DB, kind, url, token string) *vigil.Exchange {
	t.Helper()
	ctx := context.Background()
	b := &vigil.Bank{Name: "bank-" + kind, Source: vigil.SourceHotline, Kind: vigil.BankBlock, PDQThreshold: 31, Enabled: true}
	if err := db.CreateBank(ctx, b); err != nil {
		t.Fatal(err)
	}
	x := &vigil.Exchange{Name: kind, Kind: kind, BankID: b.ID, URL: url, Enabled: true, AllowPrivate: true}
	if err := db.CreateExchange(ctx, x, vigil.ExchangeCredentials{Token: token}); err != nil {
		t.Fatal(err)
	}
	return x
}

func fetcher(db *store.DB, hc *http.Client) *exchange.Fetcher {
	return &exchange.Fetcher{Store: db, Owner: "test", NewClient: upstream.NewClient,
		HTTP:  func(*vigil.Exchange) *http.Client { return hc },
		Sleep: func(context.Context, time.Duration) error { return nil }}
}

// held lists a bank's entries as "upstream-id=signal:value" (or
// "signal:value" without an id).
func held(t *testing.T, db *store.DB, bankID int64) map[string]*vigil.BankEntry {
	t.Helper()
	out := map[string]*vigil.BankEntry{}
	after := int64(0)
	for {
		es, err := db.BankEntries(context.Background(), bankID, after, 1000)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range es {
			out[string(e.Signal)+":"+e.Value] = e
			after = e.ID
		}
		if len(es) < 1000 {
			return out
		}
	}
}

// TestFetchThreatExchange: a full fetch of a privacy group through the
// fetch loop (pages, a 429, a 5xx and an expired cursor on the way), then
// a second fetch that brings only the new entry and applies a deletion.
func TestFetchThreatExchange(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		fake := threatexchangetest.New("9001", "1|tok")
		defer fake.Close()
		past := time.Now().Add(-time.Hour).Unix()
		ids := map[string]string{}
		for i := range 1200 {
			v := fmt.Sprintf("%064x", i+1)
			ids[fake.Add(threatexchangetest.Descriptor{Type: "HASH_PDQ", Indicator: v, Tags: []string{"csam"}, LastUpdated: past + int64(i)})] = v
		}
		md5 := strings.Repeat("ab", 16)
		md5ID := fake.Add(threatexchangetest.Descriptor{Type: "HASH_MD5", Indicator: md5, LastUpdated: past})
		x := addExchange(t, db, vigil.ExchangeThreatExchange, fake.GroupURL(), "1|tok")
		f := fetcher(db, fake.Client())
		f.Classify = func(_ *vigil.Exchange, label string) string {
			if label == "csam" {
				return "iwf-a"
			}
			return ""
		}
		fake.Fail(1, http.StatusTooManyRequests)
		fake.Fail(1, http.StatusInternalServerError)
		f.AfterPage = func(*vigil.Exchange, vigil.ExchangePageResult) { fake.ExpireCursors() }
		res, err := f.Fetch(ctx, x.ID)
		if err != nil {
			t.Fatal(err)
		}
		got := held(t, db, x.BankID)
		if res.Added != 1201 || len(got) != 1201 {
			t.Fatalf("first fetch added %d, bank holds %d; want 1201", res.Added, len(got))
		}
		for id, v := range ids {
			e := got["pdq:"+v]
			if e == nil || e.UpstreamID != id || e.ExchangeID != x.ID || len(e.Tags) != 1 || e.Tags[0] != "csam" ||
				e.Classification != "iwf-a" || e.UpstreamClassification != "" {
				t.Fatalf("entry %s: %+v", id, e)
			}
		}

		newVal := fmt.Sprintf("%064x", 99999)
		fake.Add(threatexchangetest.Descriptor{Type: "HASH_PDQ", Indicator: newVal, LastUpdated: time.Now().Unix() - 5})
		fake.Delete(md5ID)
		// The deletion is stamped now; the next window ends before now's
		// second is over: wait it out rather than miss it.
		time.Sleep(time.Until(time.Unix(time.Now().Unix()+1, 0)))
		f.AfterPage = nil
		res, err = f.Fetch(ctx, x.ID)
		if err != nil {
			t.Fatal(err)
		}
		got = held(t, db, x.BankID)
		if res.Added != 1 || res.Removed != 1 || len(got) != 1201 || got["pdq:"+newVal] == nil || got["md5:"+md5] != nil {
			t.Fatalf("second fetch: added %d removed %d, bank %d", res.Added, res.Removed, len(got))
		}
	})
}

// TestFetchStopNCII: the same for StopNCII, with an expired page token.
func TestFetchStopNCII(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		fake := stopnciitest.New("sub", "fn")
		defer fake.Close()
		for i := range 1700 {
			fake.Put(stopnciitest.Record{SignalType: "ImagePDQ", HashValue: fmt.Sprintf("%064x", i+1)})
		}
		md5 := strings.Repeat("cd", 16)
		fake.Put(stopnciitest.Record{SignalType: "VideoMD5", HashValue: md5})
		fake.Put(stopnciitest.Record{SignalType: "VideoTMK", HashValue: "tmk"})
		ctxb := &vigil.Bank{Name: "bank-stopncii", Source: vigil.SourceHotline, Kind: vigil.BankBlock, PDQThreshold: 31, Enabled: true}
		if err := db.CreateBank(ctx, ctxb); err != nil {
			t.Fatal(err)
		}
		// The function key travels as the password.
		x := &vigil.Exchange{Name: "stopncii", Kind: vigil.ExchangeStopNCII, BankID: ctxb.ID, URL: fake.BaseURL(), Enabled: true, AllowPrivate: true}
		if err := db.CreateExchange(ctx, x, vigil.ExchangeCredentials{User: "sub", Password: "fn"}); err != nil {
			t.Fatal(err)
		}
		f := fetcher(db, fake.Client())
		fake.Fail(2, http.StatusServiceUnavailable)
		expire := 2
		f.AfterPage = func(*vigil.Exchange, vigil.ExchangePageResult) {
			if expire > 0 {
				expire--
				fake.ExpireTokens()
			}
		}
		res, err := f.Fetch(ctx, x.ID)
		if err != nil {
			t.Fatal(err)
		}
		got := held(t, db, x.BankID)
		if res.Added != 1701 || len(got) != 1701 || got["md5:"+md5] == nil || res.Skipped == 0 {
			t.Fatalf("first fetch: added %d skipped %d, bank %d", res.Added, res.Skipped, len(got))
		}
		newVal := fmt.Sprintf("%064x", 99999)
		fake.Put(stopnciitest.Record{SignalType: "ImagePDQ", HashValue: newVal})
		fake.Withdraw(md5)
		f.AfterPage = nil
		res, err = f.Fetch(ctx, x.ID)
		if err != nil {
			t.Fatal(err)
		}
		got = held(t, db, x.BankID)
		if res.Added != 1 || res.Removed != 1 || len(got) != 1701 || got["pdq:"+newVal] == nil || got["md5:"+md5] != nil {
			t.Fatalf("second fetch: added %d removed %d, bank %d", res.Added, res.Removed, len(got))
		}
	})
}
