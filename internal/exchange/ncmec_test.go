package exchange_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/exchange"
	"github.com/vigil-hotline/vigil/internal/exchange/ncmectest"
	"github.com/vigil-hotline/vigil/internal/store"
	"github.com/vigil-hotline/vigil/internal/storetest"
)

// fingerprints counts the entries the fake's entries [lo, hi) give (an MD5
// each, a PDQ every third).
func fingerprints(lo, hi int) int {
	n := 0
	for i := lo; i < hi; i++ {
		n++
		if i%3 == 0 {
			n++
		}
	}
	return n
}

// checkBank checks that the bank holds exactly the fake's live entries,
// each once, with its provenance.
func checkBank(t *testing.T, db *store.DB, bankID int64, live map[int]bool) {
	t.Helper()
	want := 0
	for i := range live {
		want += fingerprints(i, i+1)
	}
	seen := map[string]bool{}
	after := int64(0)
	for {
		es, err := db.BankEntries(context.Background(), bankID, after, 5000)
		if err != nil {
			t.Fatal(err)
		}
		if len(es) == 0 {
			break
		}
		for _, e := range es {
			after = e.ID
			k := string(e.Signal) + e.Value
			if seen[k] {
				t.Fatalf("entry twice: %+v", e)
			}
			seen[k] = true
			var i int
			if _, err := fmtSscan(e.UpstreamID, &i); err != nil || !live[i] {
				t.Fatalf("entry of a withdrawn or unknown upstream id: %+v", e)
			}
			if e.Signal == vigil.SignalMD5 && e.Value != ncmectest.MD5(i) || e.Signal == vigil.SignalPDQ && e.Value != ncmectest.PDQ(i) {
				t.Fatalf("entry %s: wrong value %+v", e.UpstreamID, e)
			}
			if e.UpstreamClassification == "" || len(e.Tags) == 0 {
				t.Fatalf("entry without provenance: %+v", e)
			}
		}
	}
	if len(seen) != want {
		t.Fatalf("bank holds %d entries, want %d", len(seen), want)
	}
}

func ncmecSetup(t *testing.T, db *store.DB, srv *ncmectest.Server) *vigil.Exchange {
	t.Helper()
	return setup(t, db, exchange.KindNCMEC, srv.BaseURL(), vigil.ExchangeCredentials{User: "esp", Password: "pw"})
}

func TestNCMECFetch(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		srv := ncmectest.New(t, ncmectest.Options{User: "esp", Password: "pw", Entries: 2500})
		x := ncmecSetup(t, db, srv)
		var sl sleeps
		f := fetcher(db, "p1", &sl)
		res, err := f.Fetch(ctx, x.ID)
		if err != nil || res.Added != int64(fingerprints(0, 2500)) || res.Pages != 3 || res.Skipped != 500 {
			t.Fatalf("full fetch: %v %+v", err, res)
		}
		live := map[int]bool{}
		for i := range 2500 {
			live[i] = true
		}
		checkBank(t, db, x.BankID, live)
		// Then: 30 new entries and three withdrawals; only they move.
		first := srv.Add(30)
		srv.Delete(5, 6, 9)
		for i := first; i < first+30; i++ {
			live[i] = true
		}
		delete(live, 5)
		delete(live, 6)
		delete(live, 9)
		res, err = f.Fetch(ctx, x.ID)
		if err != nil || res.Added != int64(fingerprints(first, first+30)) || res.Removed != 5 {
			t.Fatalf("second fetch: %v %+v", err, res)
		}
		checkBank(t, db, x.BankID, live)
		st, err := db.FindExchangeByID(ctx, x.ID)
		if err != nil || st.Last.Removed != 5 || !strings.Contains(st.Checkpoint, `"from"`) || strings.Contains(st.Checkpoint, "next") ||
			st.Last.LagMax <= 0 {
			t.Errorf("status: %v %+v", err, st)
		}
		// Nothing new: nothing stored.
		res, err = f.Fetch(ctx, x.ID)
		if err != nil || res.Added != 0 || res.Removed != 0 {
			t.Errorf("idle fetch: %v %+v", err, res)
		}
	})
}

// fakeClock is a clock tests move.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func TestNCMECExpiredLinksFailuresTimeouts(t *testing.T) {
	db := storetest.Open(t, "sqlite")
	ctx := context.Background()
	clock := &fakeClock{t: time.Now()}
	srv := ncmectest.New(t, ncmectest.Options{User: "esp", Password: "pw", Entries: 2500, LinkTTL: time.Minute, Now: clock.Now})
	x := ncmecSetup(t, db, srv)
	var sl sleeps
	f := fetcher(db, "p1", &sl)
	// A request that hangs is given up and retried.
	f.HTTP = func(*vigil.Exchange) *http.Client { return &http.Client{Timeout: 300 * time.Millisecond} }
	// The first request hangs, the next two fail, then the first next
	// link followed has expired: the window is read again from its start.
	srv.StallNext(1)
	srv.FailNext(503, 502)
	srv.ExpireNextLinks(1)
	res, err := f.Fetch(ctx, x.ID)
	if err != nil || res.Restarts != 1 || res.Retries != 3 {
		t.Fatalf("fetch: %v %+v", err, res)
	}
	live := map[int]bool{}
	for i := range 2500 {
		live[i] = true
	}
	checkBank(t, db, x.BankID, live)
	// Wrong credentials: refused, not retried, recorded without the
	// password.
	x2 := &vigil.Exchange{Name: "wrong", Kind: exchange.KindNCMEC, BankID: x.BankID, URL: srv.BaseURL(), AllowPrivate: true}
	if err := db.CreateExchange(ctx, x2, vigil.ExchangeCredentials{User: "esp", Password: "not-it"}); err != nil {
		t.Fatal(err)
	}
	f.AfterPage = nil
	if _, err := f.Fetch(ctx, x2.ID); err == nil || !strings.Contains(err.Error(), "refused") || strings.Contains(err.Error(), "not-it") {
		t.Errorf("wrong password: %v", err)
	}
}

func fmtSscan(id string, i *int) (int, error) {
	return fmt.Sscanf(strings.TrimPrefix(id, "e"), "%d", i)
}

// TestNCMECLinkTTL: a next link older than the service keeps it answers
// 410 and the fetch restarts the window.
func TestNCMECLinkTTL(t *testing.T) {
	db := storetest.Open(t, "sqlite")
	clock := &fakeClock{t: time.Now()}
	srv := ncmectest.New(t, ncmectest.Options{User: "esp", Password: "pw", Entries: 1500, LinkTTL: time.Minute, Now: clock.Now})
	x := ncmecSetup(t, db, srv)
	var sl sleeps
	f := fetcher(db, "p1", &sl)
	f.MaxRestarts = 1
	// Every link has expired by the time it is followed: the restarts are
	// bounded and the fetch fails, saying why.
	f.HTTP = func(*vigil.Exchange) *http.Client {
		return &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
			if r.URL.Query().Get("start") != "" {
				clock.Add(2 * time.Minute) // the link ages before it arrives
			}
			return http.DefaultTransport.RoundTrip(r)
		})}
	}
	_, err := f.Fetch(context.Background(), x.ID)
	if err == nil || !strings.Contains(err.Error(), "expir") {
		t.Fatalf("links that always expire: %v", err)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
