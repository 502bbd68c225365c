package exchange

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestNCMECHostileAnswers: what a hostile or broken service sends gets a
// clear error in bounded time; nothing is retried that cannot succeed, and
// credentials never follow a link elsewhere.
func TestNCMECHostileAnswers(t *testing.T) {
	var body string
	var gotAuth []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _, ok := r.BasicAuth()
		gotAuth = append(gotAuth, r.URL.Path+":"+map[bool]string{true: "auth", false: "none"}[ok])
		_, _ = w.Write([]byte(body))
	}))
	defer srv.Close()
	c, err := newNCMEC(Config{Kind: KindNCMEC, URL: srv.URL + "/npo", User: "u", Password: "p", HTTP: srv.Client(),
		IdleTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for name, b := range map[string]string{
		"not XML":        "{\"json\": true}",
		"truncated":      `<queryResult xmlns="https://hashsharing.ncmec.org/hashsharing/v2"><images><image><id>1</id>`,
		"custom entity":  `<!DOCTYPE q [<!ENTITY a "aaaaaaaaaa">]><queryResult><images><image><id>&a;</id></image></images></queryResult>`,
		"unclosed quote": `<queryResult><images count="1></images></queryResult>`,
	} {
		body = b
		if _, err := c.FetchPage(ctx, ""); err == nil {
			t.Errorf("%s: no error", name)
		} else if errors.As(err, new(*RetryableError)) {
			t.Errorf("%s: retryable: %v", name, err)
		}
	}
	// Bad fingerprints and unknown elements are skipped, not fatal.
	body = `<queryResult><images count="3">
	  <image><id>1</id><member id="1">M</member><fingerprints><md5>zz</md5><sha1>` + strings.Repeat("ab", 20) + `</sha1></fingerprints></image>
	  <image><fingerprints><md5>` + strings.Repeat("ab", 16) + `</md5></fingerprints></image>
	  <somethingElse><id>3</id></somethingElse>
	</images></queryResult>`
	p, err := c.FetchPage(ctx, "")
	if err != nil || len(p.Entries) != 1 || p.Entries[0].UpstreamID != "1" || p.Skipped != 3 || !p.Done {
		t.Errorf("skips: %v %+v", err, p)
	}
	// A paging link to another host is refused before any request.
	gotAuth = nil
	if _, err := c.FetchPage(ctx, `{"from":"2020-01-01T00:00:00Z","to":"2021-01-01T00:00:00Z","next":"//evil.example/v2/entries"}`); err == nil ||
		len(gotAuth) != 0 {
		t.Errorf("link elsewhere: %v, requests %v", err, gotAuth)
	}
}

// TestBodyBound: an answer larger than allowed ends with an error that is
// not retried.
func TestBodyBound(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		chunk := []byte(strings.Repeat("x", 1<<16))
		for range 64 {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	}))
	defer srv.Close()
	resp, err := open(context.Background(), Config{HTTP: srv.Client()}, srv.URL, nil, 1<<20, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	buf := make([]byte, 1<<16)
	var rerr error
	for rerr == nil {
		_, rerr = resp.Body.Read(buf)
	}
	if !errors.Is(rerr, errTooLarge) || errors.As(TransportError(context.Background(), rerr), new(*RetryableError)) {
		t.Errorf("oversized body: %v", rerr)
	}
}

// TestIdleBody: a body that stops arriving fails after the idle timeout,
// retryably, though the whole answer has no deadline.
func TestIdleBody(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("type,value,id\n"))
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	l, err := newHTTPList(Config{Kind: KindHTTPList, URL: srv.URL + "/l.csv", HTTP: srv.Client(), IdleTimeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = l.FetchPage(context.Background(), "")
	if err == nil || !errors.As(err, new(*RetryableError)) || time.Since(start) > 5*time.Second {
		t.Errorf("stalled body: %v after %s", err, time.Since(start))
	}
}

// TestErrorsHideQuery: a failure's message never carries the request's
// query, where a list's token may travel.
func TestErrorsHideQuery(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "busy", http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	_, err := open(context.Background(), Config{HTTP: srv.Client()}, srv.URL+"/l.csv?key=TOPSECRET", nil, 1<<20, time.Second)
	var re *RetryableError
	if !errors.As(err, &re) || re.Status != http.StatusServiceUnavailable || strings.Contains(err.Error(), "TOPSECRET") {
		t.Errorf("503: %v", err)
	}
	srv.Close()
	_, err = open(context.Background(), Config{HTTP: srv.Client()}, srv.URL+"/l.csv?key=TOPSECRET", nil, 1<<20, time.Second)
	if !errors.As(err, &re) || re.Status != 0 || strings.Contains(err.Error(), "TOPSECRET") {
		t.Errorf("no answer: %v", err)
	}
}
