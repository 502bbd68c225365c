package crawl

import (
	"context"
	"slices"
	"sync"
	"testing"

	"github.com/vigil-hotline/vigil/internal/simnet"
)

// crawlMedia crawls gateway and returns the result and the media URLs
// handed to OnMedia, with their sniffed types.
func crawlMedia(t *testing.T, n *simnet.Net, gateway string) (*CrawlResult, map[string]string) {
	t.Helper()
	var mu sync.Mutex
	got := map[string]string{}
	c := NewCrawler(newTestFetcher(t, testConfig(n, nil)), CrawlConfig{MaxDepth: 2,
		OnMedia: func(_ context.Context, m FoundMedia, r *Response, err error) {
			if err != nil {
				t.Errorf("%s: %v", m.URL, err)
				return
			}
			mu.Lock()
			got[m.URL] = r.Evidence.Sniffed
			mu.Unlock()
		}})
	res, err := c.Crawl(context.Background(), gateway)
	if err != nil {
		t.Fatal(err)
	}
	return res, got
}

// TestCrawlPageWithInlineSVG: a page with an inline <svg> icon near its
// start is a page: its pictures and links are followed, and it is not
// queued as an image (issue 12 item 3).
func TestCrawlPageWithInlineSVG(t *testing.T) {
	n := startSim(t, simnet.Options{})
	gw := n.URL(simnet.Tricks, "/svg-icon-page")
	res, media := crawlMedia(t, n, gw)
	if ev := res.Pages[0].Evidence; ev.Class != ClassHTML || ev.Sniffed != "text/html" {
		t.Errorf("page sniffed as %s (%s)", ev.Sniffed, ev.Class)
	}
	if _, ok := media[gw]; ok {
		t.Error("the page was queued as an image")
	}
	for _, seed := range []uint64{61, 62} {
		u := n.URL(simnet.Tricks, simnet.ImagePath(seed, simnet.Variant{}))
		if _, ok := media[u]; !ok {
			t.Errorf("image %d hidden behind the icon was not found (media %v)", seed, media)
		}
	}
	var pages []string
	for _, p := range res.Pages {
		pages = append(pages, p.URL)
	}
	if !slices.Contains(pages, n.URL(simnet.Tricks, "/svg-icon-page/more")) {
		t.Errorf("the page's link was not followed: %v", pages)
	}
}

// TestCrawlSVGDocument: an SVG document is kept as a picture, and the
// images it references with <image href> are fetched too.
func TestCrawlSVGDocument(t *testing.T) {
	n := startSim(t, simnet.Options{})
	gw := n.URL(simnet.Tricks, "/drawing.svg")
	_, media := crawlMedia(t, n, gw)
	if media[gw] != "image/svg+xml" {
		t.Errorf("the drawing: %q, want image/svg+xml (media %v)", media[gw], media)
	}
	for _, seed := range []uint64{63, 64} {
		u := n.URL(simnet.Tricks, simnet.ImagePath(seed, simnet.Variant{}))
		if _, ok := media[u]; !ok {
			t.Errorf("image %d referenced by the drawing was not fetched", seed)
		}
	}
}

func TestRootElement(t *testing.T) {
	for in, want := range map[string]string{
		`<!doctype html><html><body><svg></svg>`:                         "html",
		"\ufeff<?xml version=\"1.0\"?>\n<!-- c -->\n<!DOCTYPE svg><svg>": "svg",
		`<svg:svg xmlns:svg="http://www.w3.org/2000/svg">`:               "svg",
		`<div><svg>`:      "div",
		`just text <svg>`: "",
	} {
		if got := rootElement([]byte(in)); got != want {
			t.Errorf("%q: %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{
		`<!doctype html><html><head></head><body><svg width="1"></svg><img src="a.png">`: "text/html",
		`<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"></svg>`:            "image/svg+xml",
		`<!-- icon --><svg xmlns="http://www.w3.org/2000/svg"></svg>`:                    "image/svg+xml",
		`<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml"><body/></html>`: "text/html",
	} {
		if got, _ := Sniff([]byte(in)); got != want {
			t.Errorf("Sniff(%q) = %s, want %s", in, got, want)
		}
	}
}
