package exchange_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/exchange"
	"github.com/vigil-hotline/vigil/internal/store"
	"github.com/vigil-hotline/vigil/internal/storetest"
)

// fakeMD5 is a synthetic md5-length value: tests never use hashes of real
// material.
func fakeMD5(seed string) string {
	s := sha256.Sum256([]byte(seed))
	return hex.EncodeToString(s[:16])
}

// listServer serves a CSV list (type,value,classification,id) with an
// ETag, checks the bearer token, and fails on demand.
type listServer struct {
	*httptest.Server
	mu       sync.Mutex
	ids      []string
	version  int
	fail     []int // statuses to answer before serving
	dropHalf bool  // cut the connection halfway through the body once
	requests int
}

func newListServer(t *testing.T, ids ...string) *listServer {
	s := &listServer{ids: ids}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

func (s *listServer) set(ids ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ids, s.version = ids, s.version+1
}

func (s *listServer) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests++
	if r.Header.Get("Authorization") != "Bearer list-token" {
		http.Error(w, "no", http.StatusUnauthorized)
		return
	}
	if len(s.fail) > 0 {
		code := s.fail[0]
		s.fail = s.fail[1:]
		w.Header().Set("Retry-After", "7")
		http.Error(w, "busy", code)
		return
	}
	etag := fmt.Sprintf(`"v%d"`, s.version)
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	var b strings.Builder
	b.WriteString("type,value,classification,id\n")
	for _, id := range s.ids {
		fmt.Fprintf(&b, "md5,%s,IWF A,%s\n", fakeMD5(id), id)
	}
	b.WriteString("md5,not-a-hash,IWF A,bad\n")
	w.Header().Set("Content-Type", "text/csv")
	w.Header().Set("ETag", etag)
	body := b.String()
	if s.dropHalf {
		s.dropHalf = false
		w.Header().Set("Content-Length", fmt.Sprint(len(body)))
		_, _ = w.Write([]byte(body[:len(body)/2]))
		if hj, ok := w.(http.Hijacker); ok {
			if c, _, err := hj.Hijack(); err == nil {
				_ = c.Close()
			}
		}
		return
	}
	_, _ = w.Write([]byte(body))
}

func ids(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s%03d", prefix, i)
	}
	return out
}

// setup makes a bank and an http-list exchange of url on db.
func setup(t *testing.T, db *store.DB, kind, url string, cred vigil.ExchangeCredentials) *vigil.Exchange {
	t.Helper()
	ctx := context.Background()
	b := &vigil.Bank{Name: "iwf", Source: vigil.SourceIWF, Kind: vigil.BankBlock, Enabled: true, PDQThreshold: 31}
	if err := db.CreateBank(ctx, b); err != nil {
		t.Fatal(err)
	}
	x := &vigil.Exchange{Name: "iwf-list", Kind: kind, BankID: b.ID, URL: url, Enabled: true, AllowPrivate: true}
	if err := db.CreateExchange(ctx, x, cred); err != nil {
		t.Fatal(err)
	}
	return x
}

type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) sleep(_ context.Context, d time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.d = append(s.d, d)
	return nil
}

func fetcher(db *store.DB, owner string, sl *sleeps) *exchange.Fetcher {
	return &exchange.Fetcher{Store: db, Owner: owner, PageSize: 5, Sleep: sl.sleep, BaseBackoff: time.Millisecond,
		IdleTimeout: 2 * time.Second}
}

func upstreamIDs(t *testing.T, db *store.DB, bankID int64) []string {
	t.Helper()
	es, err := db.BankEntries(context.Background(), bankID, 0, 10000)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		if e.Value != fakeMD5(e.UpstreamID) || e.UpstreamClassification != "IWF A" || e.ExchangeID == 0 {
			t.Errorf("entry %+v", e)
		}
		out = append(out, e.UpstreamID)
	}
	slices.Sort(out)
	return out
}

func TestHTTPListFetch(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		srv := newListServer(t, ids("a", 12)...)
		x := setup(t, db, exchange.KindHTTPList, srv.URL+"/list.csv", vigil.ExchangeCredentials{Token: "list-token"})
		var sl sleeps
		f := fetcher(db, "p1", &sl)
		res, err := f.Fetch(ctx, x.ID)
		if err != nil || res.Added != 12 || res.Pages != 3 || res.Skipped != 1 {
			t.Fatalf("first fetch: %v %+v", err, res)
		}
		if got := upstreamIDs(t, db, x.BankID); !slices.Equal(got, ids("a", 12)) {
			t.Fatalf("bank: %v", got)
		}
		// Unchanged: one 304, nothing stored.
		res, err = f.Fetch(ctx, x.ID)
		if err != nil || res.Added != 0 || res.Removed != 0 {
			t.Fatalf("unchanged fetch: %v %+v", err, res)
		}
		// Changed: two gone, three new.
		next := append(ids("a", 10), ids("b", 3)...)
		srv.set(next...)
		res, err = f.Fetch(ctx, x.ID)
		if err != nil || res.Added != 3 || res.Removed != 2 {
			t.Fatalf("second fetch: %v %+v", err, res)
		}
		want := slices.Clone(next)
		slices.Sort(want)
		if got := upstreamIDs(t, db, x.BankID); !slices.Equal(got, want) {
			t.Fatalf("bank after the change: %v", got)
		}
		st, err := db.FindExchangeByID(ctx, x.ID)
		if err != nil || st.Last.Added != 3 || st.Last.Removed != 2 || st.Last.Error != "" || st.Last.FinishedAt.IsZero() ||
			!strings.Contains(st.Checkpoint, `v1`) || st.Entries != 13 {
			t.Errorf("status: %v %+v", err, st)
		}
	})
}

func TestHTTPListRetries(t *testing.T) {
	db := storetest.Open(t, "sqlite")
	ctx := context.Background()
	srv := newListServer(t, ids("a", 8)...)
	x := setup(t, db, exchange.KindHTTPList, srv.URL+"/list.csv", vigil.ExchangeCredentials{Token: "list-token"})
	var sl sleeps
	f := fetcher(db, "p1", &sl)
	// 503 and 429 are retried, honouring Retry-After (7 s); a body cut
	// halfway is read again whole.
	srv.fail, srv.dropHalf = []int{503, 429}, true
	res, err := f.Fetch(ctx, x.ID)
	if err != nil || res.Added != 8 || res.Retries != 3 {
		t.Fatalf("fetch through failures: %v %+v", err, res)
	}
	if len(sl.d) != 3 || sl.d[0] != 7*time.Second || sl.d[1] != 7*time.Second {
		t.Errorf("waits %v, want Retry-After's 7s twice", sl.d)
	}
	if got := upstreamIDs(t, db, x.BankID); len(got) != 8 {
		t.Errorf("entries after retries: %v", got)
	}
	// Failing for ever: bounded, recorded.
	srv.set(ids("c", 3)...)
	srv.fail = []int{500, 500, 500, 500, 500, 500, 500, 500}
	if _, err := f.Fetch(ctx, x.ID); err == nil || !strings.Contains(err.Error(), "gave up") {
		t.Fatalf("endless 500s: %v", err)
	}
	st, _ := db.FindExchangeByID(ctx, x.ID)
	if !strings.Contains(st.Last.Error, "500") {
		t.Errorf("error not recorded: %+v", st.Last)
	}
	// Refused credentials are not retried.
	x2 := &vigil.Exchange{Name: "wrong", Kind: exchange.KindHTTPList, BankID: x.BankID, URL: srv.URL, AllowPrivate: true}
	if err := db.CreateExchange(ctx, x2, vigil.ExchangeCredentials{Token: "nope"}); err != nil {
		t.Fatal(err)
	}
	n := len(sl.d)
	if _, err := f.Fetch(ctx, x2.ID); err == nil || !strings.Contains(err.Error(), "credentials were refused") ||
		strings.Contains(err.Error(), "nope") || len(sl.d) != n {
		t.Errorf("refused credentials: %v (waits %v)", err, sl.d[n:])
	}
}

func TestHTTPListGuard(t *testing.T) {
	db := storetest.Open(t, "sqlite")
	ctx := context.Background()
	srv := newListServer(t, ids("a", 3)...)
	x := setup(t, db, exchange.KindHTTPList, srv.URL+"/list.csv", vigil.ExchangeCredentials{Token: "list-token"})
	var sl sleeps
	f := fetcher(db, "p1", &sl)
	f.HTTP = func(*vigil.Exchange) *http.Client { return exchange.HTTPClient(false, nil) }
	_, err := f.Fetch(ctx, x.ID)
	if err == nil || !strings.Contains(err.Error(), "refused") || len(sl.d) != 0 || srv.requests != 0 {
		t.Fatalf("loopback without --allow-private: %v, %d requests", err, srv.requests)
	}
}

func TestFetchBusy(t *testing.T) {
	db := storetest.Open(t, "sqlite")
	ctx := context.Background()
	srv := newListServer(t, ids("a", 3)...)
	x := setup(t, db, exchange.KindHTTPList, srv.URL, vigil.ExchangeCredentials{Token: "list-token"})
	if err := db.AcquireExchangeLease(ctx, x.ID, "other", time.Minute); err != nil {
		t.Fatal(err)
	}
	var sl sleeps
	if _, err := fetcher(db, "p1", &sl).Fetch(ctx, x.ID); !errors.Is(err, exchange.ErrBusy) {
		t.Fatalf("fetch while another holds the lease: %v", err)
	}
}
