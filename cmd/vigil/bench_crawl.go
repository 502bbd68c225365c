//go:build !nodemo

package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/hashing"
	"github.com/vigil-hotline/vigil/internal/simnet"
	"github.com/vigil-hotline/vigil/internal/store"
	"github.com/vigil-hotline/vigil/internal/testrig"
)

type crawlBenchResult struct {
	Store           string  `json:"store"`
	Images          int     `json:"images"`
	Pages           int     `json:"pages"`
	Width           int     `json:"width"`
	Height          int     `json:"height"`
	Seconds         float64 `json:"seconds"`
	PagesPerSecond  float64 `json:"pages_per_second"`
	ImagesPerSecond float64 `json:"images_per_second"`
	// HashOnlyImagesPerSecond is hashing alone as `vigil bench hash`
	// measures it: images per CPU-second on one goroutine, decode
	// included. HashOnlyAllCoresPerSecond is the same work on every core,
	// by the clock.
	HashOnlyImagesPerSecond   float64 `json:"hash_only_images_per_second"`
	HashOnlyAllCoresPerSecond float64 `json:"hash_only_all_cores_images_per_second"`
	CrawlOverHashOnlyPercent  float64 `json:"crawl_over_hash_only_percent"`
	CrawlOverAllCoresPercent  float64 `json:"crawl_over_all_cores_percent"`
	// Archives is the number of ZIP archives the images came in (with
	// --archives; ImagesPerSecond is then entries per second).
	Archives int `json:"archives,omitempty"`
	// PeakHeapBytes is the most the Go heap held during the crawl.
	PeakHeapBytes uint64 `json:"peak_heap_bytes"`
}

// runBenchCrawl crawls a simulated site of generated pictures end to end —
// report, crawl job, pages, media fetched and stored encrypted, hashed,
// matched — and, in the same run, hashes the same pictures alone, so that
// the pipeline's cost over hashing shows.
func runBenchCrawl(ctx context.Context, env *Env, args []string) (err error) {
	fs := newFlagSet(env, "bench crawl", "Usage: vigil bench crawl [--archives | --render [--render-pages N]] [--images N] [--per-page N] [--width W --height H] [--json] [--data DIR] [--database-url URL]")
	cfg := storeFlags(fs, env)
	cfg.create = true
	wc := workerFlags(fs, env)
	images := fs.Int("images", 20000, "images on the simulated site")
	perPage := fs.Int("per-page", 100, "images per page")
	width := fs.Int("width", 640, "width of the generated pictures")
	height := fs.Int("height", 480, "height of the generated pictures")
	asJSON := fs.Bool("json", false, "print one JSON object")
	archives := fs.Bool("archives", false, "serve the pictures in ZIP archives of --per-page entries each, and measure entries per second")
	renderMode := fs.Bool("render", false, "render --render-pages pages built by JavaScript in Chromium, and measure pages per second")
	renderPages := fs.Int("render-pages", 10, "pages rendered with --render")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the crawl to this file")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if !isFlagSet(fs, "data") && cfg.DatabaseURL == "" {
		dir, err := os.MkdirTemp("", "vigil-bench-crawl-")
		if err != nil {
			return err
		}
		defer func() { err = errors.Join(err, os.RemoveAll(dir)) }()
		cfg.DataDir = dir
	}
	quiet := &Env{Stdout: env.Stdout, Stderr: env.Stderr, Getenv: env.Getenv, Logger: slog.New(slog.DiscardHandler)}
	progress := func(format string, a ...any) {
		if !*asJSON {
			fmt.Fprintf(env.Stderr, format+"\n", a...)
		}
	}
	sim, err := simnet.Start(simnet.Options{BenchImages: *images, BenchPerPage: *perPage, ImageWidth: *width, ImageHeight: *height})
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, sim.Close()) }()
	progress("generating %d pictures of %dx%d…", *images, *width, *height)
	seeds := sim.BenchSeeds()
	if err := sim.Images.Warm(seeds, simnet.Variant{}, runtime.NumCPU()); err != nil {
		return err
	}
	db, err := openStore(ctx, cfg, quiet.Logger)
	if err != nil {
		return err
	}
	defer db.Close()
	pages := (*images+*perPage-1) / *perPage + 1
	// A benchmark makes its own store, and its simulated sites are never
	// traced to a real recipient.
	wc.resolver, wc.allow, wc.takedown.AllowExample = sim.Resolver, sim.AllowAddrs(), true
	wc.MaxPages, wc.MaxMedia = pages+10, *images+10
	if *renderMode {
		return benchRender(ctx, env, quiet, cfg, wc, db, sim, *renderPages, *asJSON)
	}
	wc.render.Browser = "off" // the bench pages are static; --render measures rendering
	target, containers := sim.BenchURL(), 0
	if *archives {
		containers = (*images + *perPage - 1) / *perPage
		target = sim.URL(simnet.Files, fmt.Sprintf("/sets?n=%d&count=%d", *perPage, containers))
		wc.archives.MaxEntries = max(wc.archives.MaxEntries, *perPage)
		pages = 1
	}
	heapPeak := testrig.HeapPeakEvery(20 * time.Millisecond)
	stop, err := startWorkers(ctx, quiet, cfg, wc, db)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, stop()) }()

	progress("crawling %s…", target)
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer func() { err = errors.Join(err, f.Close()) }()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
	}
	start := time.Now()
	rep, err := vigil.NewReport(vigil.ReportInput{URLs: []string{target}}, vigil.SourceAPI, start)
	if err != nil {
		return err
	}
	if err := db.CreateReport(ctx, rep); err != nil {
		return err
	}
	if err := waitCrawled(ctx, db, rep.URLs[0].ID); err != nil {
		return err
	}
	crawlSecs := time.Since(start).Seconds()
	pprof.StopCPUProfile()
	peak := heapPeak()
	counts, err := db.MediaCounts(ctx)
	if err != nil {
		return err
	}
	if counts.Media != int64(*images+containers) {
		return fmt.Errorf("the crawl stored %d media, want %d", counts.Media, *images+containers)
	}

	progress("hashing the same pictures without the crawl…")
	perCPU, allCores, err := hashOnly(sim, seeds)
	if err != nil {
		return err
	}
	res := crawlBenchResult{
		Store: db.Driver().Dialect(), Images: *images, Pages: pages, Width: *width, Height: *height, Seconds: crawlSecs,
		PagesPerSecond: float64(pages) / crawlSecs, ImagesPerSecond: float64(*images) / crawlSecs,
		HashOnlyImagesPerSecond: perCPU, HashOnlyAllCoresPerSecond: allCores,
	}
	res.CrawlOverHashOnlyPercent = 100 * res.ImagesPerSecond / res.HashOnlyImagesPerSecond
	res.CrawlOverAllCoresPercent = 100 * res.ImagesPerSecond / res.HashOnlyAllCoresPerSecond
	res.PeakHeapBytes = peak
	if *archives {
		res.Archives = containers
	}
	if *asJSON {
		return json.NewEncoder(env.Stdout).Encode(res)
	}
	if *archives {
		fmt.Fprintf(env.Stdout, "store %s, %d images of %dx%d in %d ZIP archives: crawl %.1f s: %.0f entries/s, peak heap %.0f MiB\n"+
			"hashing the same images loose: %.0f images/s on all cores: archives at %.0f%% of loose hashing\n",
			res.Store, res.Images, res.Width, res.Height, containers, res.Seconds, res.ImagesPerSecond, float64(peak)/(1<<20),
			res.HashOnlyAllCoresPerSecond, res.CrawlOverAllCoresPercent)
		return nil
	}
	fmt.Fprintf(env.Stdout, "store %s, %d images of %dx%d on %d pages: crawl %.1f s: %.1f pages/s, %.0f images/s\n"+
		"hashing alone: %.0f images per CPU-second (as vigil bench hash), %.0f images/s on all cores\n"+
		"crawl at %.0f%% of vigil bench hash, %.0f%% of hashing alone on all cores\n", res.Store, res.Images, res.Width,
		res.Height, res.Pages, res.Seconds, res.PagesPerSecond, res.ImagesPerSecond, res.HashOnlyImagesPerSecond,
		res.HashOnlyAllCoresPerSecond, res.CrawlOverHashOnlyPercent, res.CrawlOverAllCoresPercent)
	return nil
}

// hashOnly hashes the pictures as the pipeline's hash step does (PDQ with
// its dihedral variants, and the digests): on one goroutine, per
// CPU-second (as vigil bench hash measures), then on every core by the
// clock.
func hashOnly(sim *simnet.Net, seeds []uint64) (perCPU, allCores float64, err error) {
	hashOne := func(seed uint64) error {
		b, err := sim.Images.Bytes(seed, simnet.Variant{})
		if err == nil {
			_, err = hashing.HashBytes(b, hashing.Options{Dihedral: true})
		}
		return err
	}
	cpu0 := cpuTime()
	n := min(len(seeds), 2000)
	for _, seed := range seeds[:n] {
		if err := hashOne(seed); err != nil {
			return 0, 0, err
		}
	}
	perCPU = float64(n) / (cpuTime() - cpu0).Seconds()

	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, runtime.NumCPU())
	start := time.Now()
	for w := 0; w < runtime.NumCPU(); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= len(seeds) {
					return
				}
				if err := hashOne(seeds[i]); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	return perCPU, float64(len(seeds)) / time.Since(start).Seconds(), errors.Join(<-errs)
}

// waitCrawled waits until the reported URL's crawl is done, failing when
// it failed: the benches time a crawl from filing to done.
func waitCrawled(ctx context.Context, db *store.DB, id int64) error {
	for {
		u, err := db.FindReportedURL(ctx, id)
		if err != nil {
			return err
		}
		if u.Status == vigil.URLFailed {
			return fmt.Errorf("a crawl failed: %s", u.StatusReason)
		}
		if u.Status == vigil.URLDone {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}
