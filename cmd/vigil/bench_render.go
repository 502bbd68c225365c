//go:build !nodemo

package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/crawl"
	"github.com/vigil-hotline/vigil/internal/simnet"
	"github.com/vigil-hotline/vigil/internal/store"
	"github.com/vigil-hotline/vigil/internal/testrig"
)

type renderBenchResult struct {
	Store          string  `json:"store"`
	Pages          int     `json:"pages"`
	Media          int64   `json:"media"`
	Seconds        float64 `json:"seconds"`
	PagesPerSecond float64 `json:"pages_per_second"`
	// PeakBrowserBytes is the most one render's browser held (its
	// processes' proportional set size); PeakHeapBytes the Go heap's.
	PeakBrowserBytes int64  `json:"peak_browser_bytes"`
	PeakHeapBytes    uint64 `json:"peak_heap_bytes"`
}

// benchRender crawls pages whose galleries a script builds on scroll, each
// a reported URL of its own, through the whole pipeline: page fetched,
// rendered in Chromium through the proxy, media fetched, hashed, matched.
func benchRender(ctx context.Context, env, quiet *Env, cfg *config, wc *workerConfig, db *store.DB, sim *simnet.Net, pages int, asJSON bool) (err error) {
	if wc.render.Browser == "off" {
		return fmt.Errorf("--render needs a browser (--render-browser)")
	}
	wc.render.Below = 1
	stop, err := startWorkers(ctx, quiet, cfg, wc, db)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, stop()) }()
	heapPeak := testrig.HeapPeakEvery(20 * time.Millisecond)
	start := time.Now()
	var ids []int64
	for i := range pages {
		rep, err := vigil.NewReport(vigil.ReportInput{URLs: []string{sim.URL(simnet.Scripted, fmt.Sprintf("/?page=%d", i))}},
			vigil.SourceAPI, start)
		if err != nil {
			return err
		}
		if err := db.CreateReport(ctx, rep); err != nil {
			return err
		}
		ids = append(ids, rep.URLs[0].ID)
	}
	for _, id := range ids {
		if err := waitCrawled(ctx, db, id); err != nil {
			return err
		}
	}
	secs := time.Since(start).Seconds()
	res := renderBenchResult{Store: db.Driver().Dialect(), Pages: pages, Seconds: secs, PagesPerSecond: float64(pages) / secs,
		PeakHeapBytes: heapPeak()}
	for _, id := range ids {
		fetches, err := db.ListFetches(ctx, id)
		if err != nil {
			return err
		}
		for _, f := range fetches {
			var ev crawl.Evidence
			if f.Kind != vigil.TaskPage || json.Unmarshal([]byte(f.Evidence), &ev) != nil || ev.Render == nil {
				continue
			}
			if ev.Render.Error != "" {
				return fmt.Errorf("render of %s: %s", f.FinalURL, ev.Render.Error)
			}
			res.PeakBrowserBytes = max(res.PeakBrowserBytes, ev.Render.PeakMemory)
		}
	}
	counts, err := db.MediaCounts(ctx)
	if err != nil {
		return err
	}
	res.Media = counts.Media
	if asJSON {
		return json.NewEncoder(env.Stdout).Encode(res)
	}
	fmt.Fprintf(env.Stdout, "store %s, %d pages built by JavaScript, rendered: %.1f s, %.2f pages/s; %d media; "+
		"peak browser %.0f MiB, peak heap %.0f MiB\n", res.Store, res.Pages, res.Seconds, res.PagesPerSecond, res.Media,
		float64(res.PeakBrowserBytes)/(1<<20), float64(res.PeakHeapBytes)/(1<<20))
	return nil
}
