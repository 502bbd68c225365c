package threatexchange_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/exchange"
	"github.com/vigil-hotline/vigil/internal/exchange/exchangetest"
	"github.com/vigil-hotline/vigil/internal/exchange/threatexchange"
	"github.com/vigil-hotline/vigil/internal/exchange/threatexchange/threatexchangetest"
)

const token = "123456789|s3cr3t-app-secret-value"

func pdq(i int) string { return fmt.Sprintf("%064x", i+1) }

func newClient(t *testing.T, fake *threatexchangetest.Server) *threatexchange.Client {
	t.Helper()
	c, err := threatexchange.New(exchange.Config{Kind: exchange.KindThreatExchange, URL: fake.GroupURL(), Token: token, HTTP: fake.Client()})
	if err != nil {
		t.Fatal(err)
	}
	c.Timeout = 2 * time.Second
	return c
}

// drain fetches until Done, retrying retryable errors, and applies the
// pages to held (upstream id -> value); it returns the final checkpoint.
func drain(t *testing.T, c exchange.Client, cp string, held map[string]string) string {
	t.Helper()
	return exchangetest.Drain(t, c, cp, func(e exchange.Entry) {
		if e.Deleted {
			delete(held, e.UpstreamID)
		} else {
			held[e.UpstreamID] = string(e.Signal) + ":" + e.Value
		}
	})
}

func TestFullFetchThenDeletions(t *testing.T) {
	fake := threatexchangetest.New("1012345", token)
	defer fake.Close()
	past := time.Now().Add(-time.Hour).Unix()
	ids := map[string]string{}
	for i := range 1234 {
		id := fake.Add(threatexchangetest.Descriptor{Type: "HASH_PDQ", Indicator: pdq(i), Tags: []string{"media_type_photo"}, LastUpdated: past + int64(i%7)})
		ids[id] = "pdq:" + pdq(i)
	}
	md5ID := fake.Add(threatexchangetest.Descriptor{Type: "HASH_MD5", Indicator: strings.Repeat("ab", 16), LastUpdated: past})
	ids[md5ID] = "md5:" + strings.Repeat("ab", 16)
	fake.Add(threatexchangetest.Descriptor{Type: "URI", Indicator: "http://example.org/", LastUpdated: past})
	c := newClient(t, fake)
	held := map[string]string{}
	fake.Fail(1, http.StatusTooManyRequests)
	fake.Fail(1, http.StatusBadGateway)
	cp := drain(t, c, "", held)
	if len(held) != len(ids) {
		t.Fatalf("held %d entries, want %d", len(held), len(ids))
	}
	for id, v := range ids {
		if held[id] != v {
			t.Fatalf("entry %s = %q, want %q", id, held[id], v)
		}
	}

	// Second fetch: one new entry, one deletion; nothing else comes back.
	newID := fake.Add(threatexchangetest.Descriptor{Type: "HASH_PDQ", Indicator: pdq(99999)})
	fake.Delete(md5ID)
	// The fetch comes later: a window ends at the fetch's start, and what
	// changed in that very second waits for the next window.
	c.Now = func() time.Time { return time.Now().Add(time.Minute) }
	p, err := c.FetchPage(context.Background(), cp)
	if err != nil {
		t.Fatal(err)
	}
	if !p.Done || len(p.Entries) != 2 {
		t.Fatalf("second fetch: %d entries, done %v; want the addition and the deletion", len(p.Entries), p.Done)
	}
	for _, e := range p.Entries {
		switch e.UpstreamID {
		case newID:
			if e.Deleted {
				t.Fatal("new entry marked deleted")
			}
		case md5ID:
			if !e.Deleted || e.Value != strings.Repeat("ab", 16) {
				t.Fatalf("deletion = %+v", e)
			}
		default:
			t.Fatalf("unexpected entry %+v", e)
		}
	}
}

func TestExpiredCursorRestartsFromLastSeen(t *testing.T) {
	fake := threatexchangetest.New("77", token)
	defer fake.Close()
	past := time.Now().Add(-time.Hour).Unix()
	for i := range 1600 {
		fake.Add(threatexchangetest.Descriptor{Type: "HASH_PDQ", Indicator: pdq(i), LastUpdated: past + int64(i)})
	}
	c := newClient(t, fake)
	held := map[string]string{}
	p, err := c.FetchPage(context.Background(), "")
	if err != nil || p.Done {
		t.Fatalf("first page: done %v, %v", p.Done, err)
	}
	for _, e := range p.Entries {
		held[e.UpstreamID] = e.Value
	}
	fake.ExpireCursors()
	drain(t, c, p.Checkpoint, held)
	if len(held) != 1600 {
		t.Fatalf("held %d after an expired cursor, want 1600", len(held))
	}
}

func TestFailuresAreRetryableAndBounded(t *testing.T) {
	fake := threatexchangetest.New("77", token)
	defer fake.Close()
	c := newClient(t, fake)
	c.Timeout = 200 * time.Millisecond
	var re *exchange.RetryableError

	fake.Fail(1, http.StatusTooManyRequests)
	if _, err := c.FetchPage(context.Background(), ""); !errors.As(err, &re) {
		t.Fatalf("429: %v, want retryable", err)
	}
	fake.Fail(1, http.StatusServiceUnavailable)
	if _, err := c.FetchPage(context.Background(), ""); !errors.As(err, &re) {
		t.Fatalf("503: %v, want retryable", err)
	}
	fake.Stall(time.Second)
	start := time.Now()
	_, err := c.FetchPage(context.Background(), "")
	if !errors.As(err, &re) {
		t.Fatalf("stall: %v, want retryable", err)
	}
	if time.Since(start) > 900*time.Millisecond {
		t.Fatalf("stalled request took %v", time.Since(start))
	}

	c.Timeout = 10 * time.Second
	hostile := map[string]func(w http.ResponseWriter) bool{
		"endless body": func(w http.ResponseWriter) bool {
			_, _ = w.Write([]byte(`{"data":[`))
			chunk := []byte(strings.Repeat(`{"id":"1","type":"HASH_PDQ","indicator":"x"},`, 1000))
			for n := 0; n < threatexchange.MaxPageBytes+len(chunk); n += len(chunk) {
				if _, err := w.Write(chunk); err != nil {
					break
				}
			}
			return true
		},
		"not json": func(w http.ResponseWriter) bool { _, _ = w.Write([]byte("<html>hello</html>")); return true },
		"graph error": func(w http.ResponseWriter) bool {
			_, _ = w.Write([]byte(`{"error":{"message":"nope","code":1}}`))
			return true
		},
		"forbidden": func(w http.ResponseWriter) bool { http.Error(w, "no", http.StatusForbidden); return true },
		"link elsewhere": func(w http.ResponseWriter) bool {
			_, _ = w.Write([]byte(`{"data":[{"id":"5","type":"HASH_MD5","indicator":"` + strings.Repeat("cd", 16) + `"}],"paging":{"next":"http://203.0.113.9/steal"}}`))
			return true
		},
	}
	for name, f := range hostile {
		fake.Fault(f)
		_, err := c.FetchPage(context.Background(), "")
		if err == nil || errors.As(err, &re) {
			t.Fatalf("%s: %v, want a plain error", name, err)
		}
		if strings.Contains(err.Error(), "s3cr3t") {
			t.Fatalf("%s: error shows the token: %v", name, err)
		}
	}
}

func TestMalformedRecordsAreSkipped(t *testing.T) {
	body := `{"data":[
		{"id":"1","type":"HASH_PDQ","indicator":"` + pdq(1) + `","last_updated":1700000000,"tags":["a","b"]},
		{"id":"2","type":"HASH_PDQ","indicator":"zz"},
		{"id":"x3","type":"HASH_MD5","indicator":"` + strings.Repeat("ab", 16) + `"},
		{"id":"4","type":"HASH_VPDQ","indicator":"{\"0\":{\"quality\":100,\"hash\":\"` + pdq(4) + `\",\"timestamp\":0}}","tags":{"data":[{"text":"video"}]}},
		"junk"
	],"paging":{}}`
	p, err := threatexchange.ParsePage([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Entries) != 2 || p.Skipped != 3 || p.Next != "" {
		t.Fatalf("entries %d skipped %d next %q", len(p.Entries), p.Skipped, p.Next)
	}
	if e := p.Entries[0]; e.Signal != vigil.SignalPDQ || len(e.Tags) != 2 || e.UpdatedAt.Unix() != 1700000000 {
		t.Fatalf("pdq entry %+v", e)
	}
	if e := p.Entries[1]; e.Signal != vigil.SignalVPDQ || len(e.Frames) != 1 || e.Tags[0] != "video" {
		t.Fatalf("vpdq entry %+v", e)
	}
}

func TestReactions(t *testing.T) {
	fake := threatexchangetest.New("77", token)
	defer fake.Close()
	id := fake.Add(threatexchangetest.Descriptor{Type: "HASH_PDQ", Indicator: pdq(1)})
	c := newClient(t, fake)
	ctx := context.Background()
	if err := c.SendFeedback(ctx, exchange.Feedback{UpstreamID: id, Verdict: exchange.VerdictDispute}); err != nil {
		t.Fatal(err)
	}
	if err := c.SendFeedback(ctx, exchange.Feedback{UpstreamID: id, Verdict: exchange.VerdictConfirm}); err != nil {
		t.Fatal(err)
	}
	if got := fake.Reactions(id); len(got) != 2 || got[0] != threatexchange.ReactionDispute || got[1] != threatexchange.ReactionConfirm {
		t.Fatalf("reactions %v", got)
	}
	if err := c.SendFeedback(ctx, exchange.Feedback{UpstreamID: "../etc", Verdict: exchange.VerdictConfirm}); err == nil {
		t.Fatal("a non-numeric id was sent")
	}
	if err := c.SendFeedback(ctx, exchange.Feedback{UpstreamID: "999", Verdict: exchange.VerdictConfirm}); err == nil {
		t.Fatal("a reaction to an unknown descriptor succeeded")
	}
}

func TestNewChecksConfig(t *testing.T) {
	hc := http.DefaultClient
	for _, cfg := range []exchange.Config{
		{URL: "https://graph.facebook.com/v21.0/123", HTTP: hc},
		{URL: "https://graph.facebook.com/v21.0/notanid", Token: token, HTTP: hc},
		{URL: "ftp://x/1", Token: token, HTTP: hc},
		{URL: "https://graph.facebook.com/v21.0/123", Token: token},
	} {
		if _, err := threatexchange.New(cfg); err == nil {
			t.Fatalf("%+v accepted", cfg.URL)
		}
	}
	if _, err := threatexchange.New(exchange.Config{URL: "https://graph.facebook.com/v21.0/123/threat_updates", Token: token, HTTP: hc}); err != nil {
		t.Fatal(err)
	}
}
