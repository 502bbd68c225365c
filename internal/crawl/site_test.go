package crawl

import (
	"bytes"
	"context"
	"errors"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-hotline/vigil/internal/simnet"
)

// TestCrawlGallery crawls the gateway two levels deep and must find every
// image the simulated gallery placed, on the page that placed it, with
// bytes identical to the generator's.
func TestCrawlGallery(t *testing.T) {
	n := startSim(t, simnet.Options{})
	f := newTestFetcher(t, testConfig(n, nil))
	var mu sync.Mutex
	got := map[string]*Response{}
	c := NewCrawler(f, CrawlConfig{MaxDepth: 2, OnMedia: func(_ context.Context, m FoundMedia, r *Response, err error) {
		if err != nil {
			t.Errorf("%s: %v", m.URL, err)
		}
		mu.Lock()
		got[m.URL] = r
		mu.Unlock()
	}})
	res, err := c.Crawl(context.Background(), n.GatewayURL())
	if err != nil {
		t.Fatal(err)
	}

	var pages []string
	for _, p := range res.Pages {
		pages = append(pages, strings.TrimPrefix(p.URL, strings.TrimSuffix(n.GatewayURL(), "/")))
		if !p.Evidence.OK() {
			t.Errorf("%s: %+v", p.URL, p.Evidence)
		}
	}
	want := []string{"/", "/galleries/", "/about", "/galleries/1/", "/galleries/2/", "/galleries/3/"}
	if !slices.Equal(pages, want) {
		t.Errorf("pages %q, want %q", pages, want)
	}

	placed := map[string]simnet.Placement{}
	for _, p := range n.Manifest() {
		if u, _ := url.Parse(p.Page); u.Hostname() == simnet.Gallery {
			placed[p.Media] = p
		}
	}
	found := map[string]FoundMedia{}
	for _, m := range res.Media {
		found[m.URL] = m
	}
	for u, p := range placed {
		m, ok := found[u]
		if !ok {
			t.Errorf("missed %s (on %s)", u, p.Page)
			continue
		}
		if m.Page != p.Page {
			t.Errorf("%s found on %s, placed on %s", u, m.Page, p.Page)
		}
		r := got[u]
		if r == nil || !r.Evidence.OK() {
			t.Errorf("%s not fetched", u)
			continue
		}
		if p.Variant.Format == "" {
			if r.Evidence.Class != ClassVideo {
				t.Errorf("%s: class %s", u, r.Evidence.Class)
			}
			continue
		}
		wantBytes, _ := n.Images.Bytes(p.Seed, p.Variant)
		if !bytes.Equal(r.Body, wantBytes) || r.Evidence.Class != ClassImage {
			t.Errorf("%s: wrong bytes or class %s", u, r.Evidence.Class)
		}
	}
	for u := range found {
		if _, ok := placed[u]; !ok {
			t.Errorf("found %s, which no gallery page placed", u)
		}
	}
	if len(got) != len(res.Media) {
		t.Errorf("fetched %d of %d media", len(got), len(res.Media))
	}
	// Every media item was fetched exactly once.
	for u := range found {
		pu, _ := url.Parse(u)
		if h := n.Hits(pu.Host, pu.RequestURI()); h != 1 {
			t.Errorf("%s fetched %d times", u, h)
		}
	}
	// Galleries link to www.gallery.example (same site) beyond the depth,
	// and the gateway to the mirror (another site), never followed.
	if res.BeyondDepth == 0 || n.Hits(simnet.Mirror, "/") != 0 {
		t.Errorf("beyond depth %d, mirror hits %d", res.BeyondDepth, n.Hits(simnet.Mirror, "/"))
	}
}

func TestCrawlDefaultDepth(t *testing.T) {
	n := startSim(t, simnet.Options{})
	c := NewCrawler(newTestFetcher(t, testConfig(n, nil)), CrawlConfig{})
	res, err := c.Crawl(context.Background(), n.GatewayURL())
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Pages) != 3 || len(res.Media) != 3 { // og:image, linked image, <style> background
		t.Errorf("%d pages, %d media: %+v", len(res.Pages), len(res.Media), res.Media)
	}
	if n.Hits(simnet.Gallery, "/galleries/1/") != 0 {
		t.Error("went deeper than the default depth")
	}
}

// TestCrawlEndless runs into the endless link generator with an unlimited
// depth: the page and media budgets end it.
func TestCrawlEndless(t *testing.T) {
	n := startSim(t, simnet.Options{})
	c := NewCrawler(newTestFetcher(t, testConfig(n, nil)), CrawlConfig{MaxDepth: 1 << 30, MaxPages: 40, MaxMedia: 25})
	start := time.Now()
	res, err := c.Crawl(context.Background(), n.URL(simnet.Tricks, "/endless/0"))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Pages) != 40 || !res.PageBudgetReached || res.SkippedPages == 0 {
		t.Errorf("%d pages, budget reached %v, skipped %d", len(res.Pages), res.PageBudgetReached, res.SkippedPages)
	}
	if len(res.Media) != 25 || !res.MediaBudgetReached || res.SkippedMedia != 15 {
		t.Errorf("%d media, budget reached %v, skipped %d", len(res.Media), res.MediaBudgetReached, res.SkippedMedia)
	}
	if n.TotalHits() != 40 || time.Since(start) > 5*time.Second {
		t.Errorf("%d requests in %v", n.TotalHits(), time.Since(start))
	}

	// And with the default budget, the depth ends it: 1+4+16 pages.
	c = NewCrawler(newTestFetcher(t, testConfig(n, nil)), CrawlConfig{MaxDepth: 2})
	res, err = c.Crawl(context.Background(), n.URL(simnet.Tricks, "/endless/0"))
	if err != nil || len(res.Pages) != 21 || res.BeyondDepth != 64 || res.PageBudgetReached {
		t.Errorf("%v: %d pages, %d beyond depth", err, len(res.Pages), res.BeyondDepth)
	}
}

func TestCrawlGatewayFailures(t *testing.T) {
	n := startSim(t, simnet.Options{})
	c := NewCrawler(newTestFetcher(t, testConfig(n, nil)), CrawlConfig{})
	res, err := c.Crawl(context.Background(), n.URL(simnet.Tricks, "/redirect/metadata"))
	if ReasonOf(err) != ReasonRefused || len(res.Pages) != 1 || res.Pages[0].Evidence.Reason != ReasonRefused {
		t.Errorf("refused gateway: %v %+v", err, res)
	}
	if _, err := c.Crawl(context.Background(), "gopher://x.example/"); ReasonOf(err) != ReasonBadURL {
		t.Errorf("bad gateway: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.Crawl(ctx, n.GatewayURL()); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled crawl: %v", err)
	}
}

// TestCrawlGatewayIsImage: a reported URL that is an image directly is
// media found on no page, fetched once.
func TestCrawlGatewayIsImage(t *testing.T) {
	n := startSim(t, simnet.Options{})
	var got []*Response
	var mu sync.Mutex
	c := NewCrawler(newTestFetcher(t, testConfig(n, nil)), CrawlConfig{OnMedia: func(_ context.Context, m FoundMedia, r *Response, err error) {
		mu.Lock()
		defer mu.Unlock()
		if m.Page != "" || m.Via != "page" || err != nil {
			t.Errorf("%+v %v", m, err)
		}
		got = append(got, r)
	}})
	u := n.URL(simnet.Tricks, "/bigpng.png")
	res, err := c.Crawl(context.Background(), u)
	if err != nil || len(res.Media) != 1 || len(got) != 1 || got[0].Evidence.Sniffed != "image/png" || len(got[0].Body) == 0 {
		t.Fatalf("%v %+v", err, res)
	}
	if h := n.Hits(simnet.Tricks, "/bigpng.png"); h != 1 {
		t.Errorf("fetched %d times", h)
	}
}

func TestSameSite(t *testing.T) {
	p := func(s string) *url.URL { u, _ := url.Parse(s); return u }
	for _, c := range []struct {
		a, b string
		want bool
	}{
		{"http://a.example/", "https://a.example/x", true},
		{"http://www.a.example/", "http://A.example/", true},
		{"http://a.example:8080/", "http://www.a.example:8080/", true},
		{"http://a.example:8080/", "http://a.example:9090/", false},
		{"http://a.example/", "http://b.a.example/", false},
		{"http://wwwa.example/", "http://a.example/", false},
	} {
		if got := SameSite(p(c.a), p(c.b)); got != c.want {
			t.Errorf("SameSite(%s, %s) = %v", c.a, c.b, got)
		}
	}
}
