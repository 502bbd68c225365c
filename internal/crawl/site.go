package crawl

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"sync"
)

// Crawl defaults: how far and how much one reported URL may lead.
const (
	DefaultMaxDepth     = 1
	DefaultMaxPages     = 200
	DefaultMaxMedia     = 2000
	DefaultPageWorkers  = 4
	DefaultMediaWorkers = 4
	// NoFollow as MaxDepth fetches the reported URL only.
	NoFollow = -1
)

// CrawlConfig bounds a site crawl. Zero fields take the defaults.
type CrawlConfig struct {
	// MaxDepth is how many links away from the reported URL pages are
	// followed: 1 fetches the pages the reported page links to.
	MaxDepth int
	// MaxPages (including the reported URL) and MaxMedia are the budget
	// of one reported URL.
	MaxPages int
	MaxMedia int
	// Workers fetching pages and media at once; the Fetcher's per-host
	// limit applies on top.
	PageWorkers  int
	MediaWorkers int
	// OnMedia, when set, makes the crawl fetch every media URL it finds
	// and hand over each result (resp is never nil; err is the fetch
	// error). It is called from several goroutines at once. The crawler
	// keeps no media body.
	OnMedia func(ctx context.Context, m FoundMedia, resp *Response, err error)
}

func (c *CrawlConfig) setDefaults() {
	switch {
	case c.MaxDepth == 0:
		c.MaxDepth = DefaultMaxDepth
	case c.MaxDepth < 0:
		c.MaxDepth = 0
	}
	if c.MaxPages <= 0 {
		c.MaxPages = DefaultMaxPages
	}
	if c.MaxMedia <= 0 {
		c.MaxMedia = DefaultMaxMedia
	}
	if c.PageWorkers <= 0 {
		c.PageWorkers = DefaultPageWorkers
	}
	if c.MediaWorkers <= 0 {
		c.MediaWorkers = DefaultMediaWorkers
	}
}

// Crawler walks one site from a reported URL. It is the in-process
// reference for what the job graph does step by step.
type Crawler struct {
	f   *Fetcher
	cfg CrawlConfig
}

// NewCrawler returns a Crawler fetching through f.
func NewCrawler(f *Fetcher, cfg CrawlConfig) *Crawler {
	cfg.setDefaults()
	return &Crawler{f: f, cfg: cfg}
}

// PageVisit is one page fetched during a crawl.
type PageVisit struct {
	URL      string   `json:"url"`
	Depth    int      `json:"depth"`
	Evidence Evidence `json:"evidence"`
	Links    Links    `json:"links"`
}

// FoundMedia is a media URL and the page it was first found on, so a case
// shows what was seen where. Page is empty when the reported URL itself
// turned out to be media.
type FoundMedia struct {
	URL   string `json:"url"`
	Page  string `json:"page,omitempty"`
	Via   string `json:"via"`
	Depth int    `json:"depth"`
}

// CrawlResult is what a crawl saw.
type CrawlResult struct {
	Gateway string       `json:"gateway"`
	Pages   []PageVisit  `json:"pages"`
	Media   []FoundMedia `json:"media"`
	// Budget and depth accounting: what was found but not followed.
	PageBudgetReached  bool `json:"page_budget_reached,omitempty"`
	MediaBudgetReached bool `json:"media_budget_reached,omitempty"`
	SkippedPages       int  `json:"skipped_pages,omitempty"`
	SkippedMedia       int  `json:"skipped_media,omitempty"`
	BeyondDepth        int  `json:"beyond_depth,omitempty"`
}

// SameSite reports whether two URLs are on the same site: the same host,
// ignoring a leading "www.", and the same port.
func SameSite(a, b *url.URL) bool {
	strip := func(u *url.URL) string {
		return strings.TrimPrefix(strings.ToLower(u.Hostname()), "www.")
	}
	return strip(a) == strip(b) && a.Port() == b.Port()
}

type pageTask struct {
	url     string
	referer string
	depth   int
}

type mediaTask struct {
	found FoundMedia
	resp  *Response // already fetched (the page itself was media)
}

// Crawl fetches gateway and follows same-site pages breadth first within the
// depth and budget. The error is the gateway's fetch error, if any, or the
// context's when the crawl was cut short; the result so far is returned in
// every case but a bad gateway URL.
func (c *Crawler) Crawl(ctx context.Context, gateway string) (*CrawlResult, error) {
	gu, err := parseTarget(gateway, nil)
	if err != nil {
		return nil, err
	}
	res := &CrawlResult{Gateway: gu.String()}
	sites := []*url.URL{gu}
	seenPages := map[string]bool{gu.String(): true}
	seenMedia := map[string]bool{}
	seenFinal := map[string]bool{}
	admitted := 1

	var wg sync.WaitGroup
	mediaCh := make(chan mediaTask, c.cfg.MediaWorkers*4)
	if c.cfg.OnMedia != nil {
		for range c.cfg.MediaWorkers {
			wg.Go(func() {
				for t := range mediaCh {
					resp, err := t.resp, error(nil)
					if resp == nil {
						resp, err = c.f.FetchMedia(ctx, t.found.URL, t.found.Page)
					} else if resp.Evidence.Reason != "" {
						err = &FetchError{Reason: resp.Evidence.Reason, Msg: resp.Evidence.Error}
					}
					c.cfg.OnMedia(ctx, t.found, resp, err)
				}
			})
		}
	}
	addMedia := func(m FoundMedia, resp *Response) {
		if seenMedia[m.URL] {
			return
		}
		seenMedia[m.URL] = true
		if len(res.Media) >= c.cfg.MaxMedia {
			res.MediaBudgetReached = true
			res.SkippedMedia++
			return
		}
		res.Media = append(res.Media, m)
		if c.cfg.OnMedia != nil {
			select {
			case mediaCh <- mediaTask{found: m, resp: resp}:
			case <-ctx.Done():
			}
		}
	}

	var gatewayErr error
	level := []pageTask{{url: gu.String(), depth: 0}}
	for len(level) > 0 && ctx.Err() == nil {
		var next []pageTask
		for i, p := range c.fetchLevel(ctx, level) {
			t := level[i]
			if t.depth == 0 {
				gatewayErr = p.err
				if fu, err := url.Parse(p.Evidence.FinalURL); err == nil && p.Evidence.Reason == "" {
					sites = append(sites, fu)
				}
			}
			res.Pages = append(res.Pages, PageVisit{URL: t.url, Depth: t.depth, Evidence: p.Evidence, Links: p.Links})
			if ev := &p.Evidence; ev.OK() && (ev.Class == ClassImage || ev.Class == ClassVideo) {
				// A "page" that is an image: keep what was fetched.
				addMedia(FoundMedia{URL: t.url, Page: t.referer, Via: "page", Depth: t.depth},
					&Response{Evidence: p.Evidence, Body: p.Body})
			}
			pageURL := p.Evidence.FinalURL
			if t.depth > 0 && seenFinal[pageURL] {
				continue // two links redirecting to one page: read it once
			}
			seenFinal[pageURL] = true
			for _, l := range p.Links.Media {
				addMedia(FoundMedia{URL: l.URL, Page: pageURL, Via: l.Via, Depth: t.depth}, nil)
			}
			for _, l := range p.Links.Pages {
				lu, err := url.Parse(l.URL)
				if err != nil || !sameSiteAny(lu, sites) || seenPages[l.URL] {
					continue
				}
				seenPages[l.URL] = true
				switch {
				case t.depth >= c.cfg.MaxDepth:
					res.BeyondDepth++
				case admitted >= c.cfg.MaxPages:
					res.PageBudgetReached = true
					res.SkippedPages++
				default:
					admitted++
					next = append(next, pageTask{url: l.URL, referer: pageURL, depth: t.depth + 1})
				}
			}
		}
		level = next
	}
	close(mediaCh)
	wg.Wait()
	if err := ctx.Err(); err != nil && gatewayErr == nil {
		return res, fmt.Errorf("crawl %s: %w", gu, err)
	}
	return res, gatewayErr
}

func sameSiteAny(u *url.URL, sites []*url.URL) bool {
	for _, s := range sites {
		if SameSite(u, s) {
			return true
		}
	}
	return false
}

type fetchedPage struct {
	*Page
	err error
}

// fetchLevel fetches a level's pages with PageWorkers at once, returning
// them in order so that budgets are spent deterministically; each result is
// yielded as soon as it and its predecessors are ready.
func (c *Crawler) fetchLevel(ctx context.Context, level []pageTask) func(yield func(int, fetchedPage) bool) {
	return func(yield func(int, fetchedPage) bool) {
		out := make([]chan fetchedPage, len(level))
		for i := range out {
			out[i] = make(chan fetchedPage, 1)
		}
		sem := make(chan struct{}, c.cfg.PageWorkers)
		stop := make(chan struct{})
		defer close(stop)
		go func() {
			for i, t := range level {
				select {
				case sem <- struct{}{}:
				case <-stop:
					return
				}
				go func() {
					defer func() { <-sem }()
					p, err := c.f.FetchPage(ctx, t.url, t.referer)
					out[i] <- fetchedPage{p, err}
				}()
			}
		}()
		for i := range level {
			if !yield(i, <-out[i]) {
				return
			}
		}
	}
}
