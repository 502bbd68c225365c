package stopncii_test

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
	"github.com/vigil-hotline/vigil/internal/exchange/stopncii"
	"github.com/vigil-hotline/vigil/internal/exchange/stopncii/stopnciitest"
)

const (
	subKey  = "sub-key-s3cr3t"
	funcKey = "function-key-s3cr3t"
)

func pdq(i int) string { return fmt.Sprintf("%064x", i+1) }

func newClient(t *testing.T, fake *stopnciitest.Server) *stopncii.Client {
	t.Helper()
	c, err := stopncii.New(exchange.Config{Kind: exchange.KindStopNCII, URL: fake.BaseURL(), Token: subKey, Password: funcKey, HTTP: fake.Client()})
	if err != nil {
		t.Fatal(err)
	}
	c.Timeout = 2 * time.Second
	return c
}

func drain(t *testing.T, c exchange.Client, cp string, held map[string]bool) string {
	t.Helper()
	return exchangetest.Drain(t, c, cp, func(e exchange.Entry) {
		k := string(e.Signal) + ":" + e.Value
		if e.Deleted {
			delete(held, k)
		} else {
			held[k] = true
		}
	})
}

func TestFullFetchThenDeletions(t *testing.T) {
	fake := stopnciitest.New(subKey, funcKey)
	defer fake.Close()
	for i := range 2000 {
		fake.Put(stopnciitest.Record{SignalType: "ImagePDQ", HashValue: pdq(i)})
	}
	md5 := strings.Repeat("ef", 16)
	fake.Put(stopnciitest.Record{SignalType: "VideoMD5", HashValue: md5})
	fake.Put(stopnciitest.Record{SignalType: "VideoTMK", HashValue: "abc"})
	c := newClient(t, fake)
	fake.Fail(1, http.StatusTooManyRequests)
	fake.Fail(1, http.StatusInternalServerError)
	held := map[string]bool{}
	p, err := c.FetchPage(context.Background(), "")
	var re *exchange.RetryableError
	if !errors.As(err, &re) {
		t.Fatalf("429: %v", err)
	}
	_ = p
	cp := drain(t, c, "", held)
	if len(held) != 2001 || !held["md5:"+md5] {
		t.Fatalf("held %d, want 2001", len(held))
	}

	fake.Put(stopnciitest.Record{SignalType: "ImagePDQ", HashValue: pdq(5000)})
	fake.Withdraw(md5)
	p, err = c.FetchPage(context.Background(), cp)
	if err != nil {
		t.Fatal(err)
	}
	if !p.Done || len(p.Entries) != 2 {
		t.Fatalf("second fetch: %d entries, done %v", len(p.Entries), p.Done)
	}
	if e := p.Entries[1]; !e.Deleted || e.Value != md5 || e.Signal != vigil.SignalMD5 {
		t.Fatalf("withdrawal = %+v", e)
	}
	if p.Entries[0].Deleted || p.Entries[0].Value != pdq(5000) {
		t.Fatalf("addition = %+v", p.Entries[0])
	}
}

func TestExpiredTokenRestartsTheRun(t *testing.T) {
	fake := stopnciitest.New(subKey, "")
	defer fake.Close()
	for i := range 2500 {
		fake.Put(stopnciitest.Record{SignalType: "ImagePDQ", HashValue: pdq(i)})
	}
	c := newClient(t, fake)
	p, err := c.FetchPage(context.Background(), "")
	if err != nil || p.Done {
		t.Fatal(err, p.Done)
	}
	held := map[string]bool{}
	for _, e := range p.Entries {
		held[e.Value] = true
	}
	fake.ExpireTokens()
	held2 := map[string]bool{}
	drain(t, c, p.Checkpoint, held2)
	if len(held2) != 2500 {
		t.Fatalf("after an expired token: %d, want 2500", len(held2))
	}
}

func TestFailuresAreBounded(t *testing.T) {
	fake := stopnciitest.New(subKey, funcKey)
	defer fake.Close()
	c := newClient(t, fake)
	c.Timeout = 200 * time.Millisecond
	var re *exchange.RetryableError
	fake.Stall(time.Second)
	if _, err := c.FetchPage(context.Background(), ""); !errors.As(err, &re) {
		t.Fatalf("stall: %v", err)
	}
	c.Timeout = 10 * time.Second // the huge body takes a while under -race
	hostile := map[string]func(http.ResponseWriter) bool{
		"huge": func(w http.ResponseWriter) bool {
			chunk := []byte(strings.Repeat(" ", 1<<16))
			for n := 0; n <= stopncii.MaxPageBytes; n += len(chunk) {
				if _, err := w.Write(chunk); err != nil {
					break
				}
			}
			return true
		},
		"not json":     func(w http.ResponseWriter) bool { _, _ = w.Write([]byte("<html>")); return true },
		"no records":   func(w http.ResponseWriter) bool { _, _ = w.Write([]byte(`{"count":3}`)); return true },
		"unauthorised": func(w http.ResponseWriter) bool { http.Error(w, "denied", http.StatusUnauthorized); return true },
		"long token": func(w http.ResponseWriter) bool {
			_, _ = w.Write([]byte(`{"count":0,"hashRecords":[],"hasMoreRecords":true,"nextPageToken":"` + strings.Repeat("t", 5000) + `"}`))
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
			t.Fatalf("%s: error shows a key: %v", name, err)
		}
	}
	bad, _ := stopncii.New(exchange.Config{URL: fake.BaseURL(), Token: "wrong", HTTP: fake.Client()})
	if _, err := bad.FetchPage(context.Background(), ""); err == nil {
		t.Fatal("a wrong key was accepted")
	}
}

func TestFeedback(t *testing.T) {
	fake := stopnciitest.New(subKey, funcKey)
	defer fake.Close()
	c := newClient(t, fake)
	ctx := context.Background()
	if err := c.SendFeedback(ctx, exchange.Feedback{Signal: vigil.SignalPDQ, Value: strings.ToUpper(pdq(1)), Verdict: exchange.VerdictDispute}); err != nil {
		t.Fatal(err)
	}
	if err := c.SendFeedback(ctx, exchange.Feedback{Signal: vigil.SignalSHA1, Value: strings.Repeat("a", 40), Verdict: exchange.VerdictDispute}); err == nil {
		t.Fatal("sha1 feedback sent")
	}
	got := fake.Feedback()
	if len(got) != 1 || got[0].HashValue != pdq(1) || got[0].FeedbackValue != stopncii.FeedbackDispute {
		t.Fatalf("feedback %+v", got)
	}
}
