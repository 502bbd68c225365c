//go:build !nodemo

package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/exchange"
	"github.com/vigil-hotline/vigil/internal/exchange/ncmectest"
	"github.com/vigil-hotline/vigil/internal/match"
	"github.com/vigil-hotline/vigil/internal/testrig"
)

// benchExchangeResult is what `vigil bench exchange --json` prints.
type benchExchangeResult struct {
	Store string `json:"store"`
	// Entries are the fake NCMEC's entries; BankEntries what they gave
	// (an MD5 each, a PDQ every third; the PhotoDNA of every fifth is
	// skipped).
	Entries     int   `json:"entries"`
	BankEntries int64 `json:"bank_entries"`
	PageSize    int   `json:"page_size"`
	Pages       int   `json:"pages"`
	// FetchSeconds is the whole fetch, HTTP and XML included.
	FetchSeconds       float64 `json:"fetch_seconds"`
	EntriesPerSecond   float64 `json:"entries_per_second"`
	BankEntriesPerSec  float64 `json:"bank_entries_per_second"`
	PeakHeapBytes      uint64  `json:"peak_heap_bytes"`
	AllMatchSeconds    float64 `json:"all_match_after_fetch_seconds"`
	CommitToMatchP50MS float64 `json:"commit_to_match_p50_ms"`
	CommitToMatchMaxMS float64 `json:"commit_to_match_max_ms"`
	CommitSamples      int     `json:"commit_to_match_samples"`
	// Projected10M scales the fetch to 10 million entries linearly (the
	// fetch's cost per entry does not grow with the bank's size: pages
	// are inserted by index, the matcher's adds are appends).
	Projected10MSeconds float64 `json:"projected_10m_fetch_seconds"`
	// CPUSeconds is the process's CPU time during the fetch (the fake
	// server's included): a figure less at the mercy of a loaded machine.
	CPUSeconds float64 `json:"fetch_cpu_seconds"`
	Cores      int     `json:"cores"`
	// Load is the machine's one-minute load average at the end.
	Load string `json:"load"`
}

// loadAverage reads /proc/loadavg's first figure ("" where there is none).
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return ""
	}
	return f[0]
}

func runBenchExchange(ctx context.Context, env *Env, args []string) (err error) {
	fs := flag.NewFlagSet("bench exchange", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	n := fs.Int("entries", 100_000, "entries the fake NCMEC server holds")
	pageSize := fs.Int("page-size", 1000, "entries per page (NCMEC's is 1000)")
	dbURL := fs.String("database-url", "", "postgres://… to measure PostgreSQL (a fresh schema is not made: use an empty database); empty: SQLite in a temporary folder")
	dataDir := fs.String("data", "", "data folder for SQLite (default: a temporary one, removed after)")
	sampleEvery := fs.Int("sample-every", 50, "measure commit-to-match on every Nth page")
	asJSON := fs.Bool("json", false, "print one JSON object")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the fetch to this file")
	fs.Usage = func() {
		fmt.Fprintln(env.Stderr, "Usage: vigil bench exchange [--entries N] [--database-url URL] [--json]\n\n"+
			"Fetches N entries from a fake NCMEC hash-sharing server on loopback into a bank, with a matcher\n"+
			"following the bank: entries per second, peak heap, and the time until every entry matches.")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *n <= 0 || *pageSize <= 0 {
		return usageError("bench exchange: --entries and --page-size must be positive")
	}
	cfg := &config{DatabaseURL: *dbURL, DataDir: *dataDir, create: true}
	// The data folder holds the keys (audit, secrets) even on PostgreSQL:
	// a temporary one unless given, never the working directory.
	if cfg.DataDir == "" {
		dir, err := os.MkdirTemp("", "vigil-bench-exchange-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		cfg.DataDir = filepath.Join(dir, "data")
	}
	db, err := openStore(ctx, cfg, env.Logger)
	if err != nil {
		return err
	}
	defer db.Close()

	var cleanups cleanupList
	defer cleanups.run()
	srv := ncmectest.New(&cleanups, ncmectest.Options{User: "bench", Password: "bench", Entries: *n, PageSize: *pageSize})
	suffix := fmt.Sprint(time.Now().UnixNano())
	bank := &vigil.Bank{Name: "bench-ncmec-" + suffix, Source: vigil.SourceNCMEC, Kind: vigil.BankBlock, Enabled: true,
		PDQThreshold: vigil.DefaultPDQThreshold}
	if err := db.CreateBank(ctx, bank); err != nil {
		return err
	}
	x := &vigil.Exchange{Name: "bench-ncmec-" + suffix, Kind: vigil.ExchangeNCMEC, BankID: bank.ID, URL: srv.BaseURL(),
		AllowPrivate: true, Enabled: true}
	if err := db.CreateExchange(ctx, x, vigil.ExchangeCredentials{User: "bench", Password: "bench"}); err != nil {
		return err
	}
	m, err := match.New(ctx, match.Config{Store: db, Logger: env.Logger, PollInterval: 50 * time.Millisecond, FeedRetention: -1})
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, m.Close()) }()

	// Commit to first match: after every Nth page, how long until the
	// page's last entry matches.
	var mu sync.Mutex
	var lat []time.Duration
	var wg sync.WaitGroup
	pages, fetched := 0, 0
	f := &exchange.Fetcher{Store: db, Owner: processOwner(), Logger: env.Logger}
	f.AfterPage = func(_ *vigil.Exchange, res vigil.ExchangePageResult) {
		pages++
		last := min(pages**pageSize, *n) - 1
		fetched = last + 1
		if pages%*sampleEvery != 1 || res.Added == 0 {
			return
		}
		committed := time.Now()
		wg.Add(1)
		go func() {
			defer wg.Done()
			if waitMatch(ctx, m, last, 30*time.Second) {
				mu.Lock()
				lat = append(lat, time.Since(committed))
				mu.Unlock()
			}
		}()
	}
	if *cpuProfile != "" {
		pf, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer pf.Close()
		if err := pprof.StartCPUProfile(pf); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	runtime.GC()
	stopHeap := testrig.HeapPeak()
	start, cpu0 := time.Now(), cpuTime()
	res, err := f.Fetch(ctx, x.ID)
	elapsed, cpu := time.Since(start), cpuTime()-cpu0
	if err != nil {
		stopHeap()
		return err
	}
	fetchEnd := time.Now()
	// Every entry matches once the last one does: the matcher applies the
	// change feed in order. Both of its signals are checked.
	if !waitMatch(ctx, m, *n-1, 10*time.Minute) || !waitMatch(ctx, m, (*n-1)/3*3, time.Minute) {
		stopHeap()
		return errors.New("bench exchange: the last entries never matched")
	}
	allMatch := time.Since(fetchEnd)
	peak := stopHeap()
	wg.Wait()
	_ = fetched

	out := benchExchangeResult{Store: db.Driver().Dialect(), Entries: *n, BankEntries: res.Added, PageSize: *pageSize,
		Pages: res.Pages, FetchSeconds: elapsed.Seconds(), EntriesPerSecond: float64(*n) / elapsed.Seconds(),
		BankEntriesPerSec: float64(res.Added) / elapsed.Seconds(), PeakHeapBytes: peak, AllMatchSeconds: allMatch.Seconds(),
		CommitSamples: len(lat), Cores: runtime.NumCPU(), CPUSeconds: cpu.Seconds(), Load: loadAverage(),
		Projected10MSeconds: elapsed.Seconds() * 10_000_000 / float64(*n)}
	if len(lat) > 0 {
		slices.Sort(lat)
		out.CommitToMatchP50MS = float64(lat[len(lat)/2].Microseconds()) / 1000
		out.CommitToMatchMaxMS = float64(lat[len(lat)-1].Microseconds()) / 1000
	}
	if *asJSON {
		return json.NewEncoder(env.Stdout).Encode(out)
	}
	fmt.Fprintf(env.Stdout, "store %s: %d NCMEC entries (%d bank entries) in %d pages of %d\n", out.Store, out.Entries,
		out.BankEntries, out.Pages, out.PageSize)
	fmt.Fprintf(env.Stdout, "fetch: %.1f s (%.1f CPU-s, load %s on %d cores), %.0f entries/s (%.0f bank entries/s); 10M projected: %.0f s\n",
		out.FetchSeconds, out.CPUSeconds, out.Load, out.Cores, out.EntriesPerSecond, out.BankEntriesPerSec, out.Projected10MSeconds)
	fmt.Fprintf(env.Stdout, "peak heap: %.1f MiB (matcher's index included)\n", float64(out.PeakHeapBytes)/(1<<20))
	fmt.Fprintf(env.Stdout, "all entries match %.3f s after the fetch ended; commit to match p50 %.0f ms, max %.0f ms (%d pages sampled)\n",
		out.AllMatchSeconds, out.CommitToMatchP50MS, out.CommitToMatchMaxMS, out.CommitSamples)
	return nil
}

// waitMatch waits until the fake's entry i matches by its MD5.
func waitMatch(ctx context.Context, m *match.Matcher, i int, limit time.Duration) bool {
	q := vigil.MatchQuery{MD5: ncmectest.MD5(i)}
	if i%3 == 0 {
		q.PDQ, q.Quality = ncmectest.PDQ(i), 100
	}
	want := 1
	if q.PDQ != "" {
		want = 2
	}
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if ms, err := m.Match(ctx, q); err == nil && len(ms) >= want {
			return true
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(2 * time.Millisecond):
		}
	}
	return false
}

// cleanupList collects what the fake server asks to be done at the end.
type cleanupList struct{ fns []func() }

func (c *cleanupList) Cleanup(fn func()) { c.fns = append(c.fns, fn) }

func (c *cleanupList) run() {
	for i := len(c.fns) - 1; i >= 0; i-- {
		c.fns[i]()
	}
}
