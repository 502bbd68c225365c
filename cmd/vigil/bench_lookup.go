package main

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/auth"
	"github.com/vigil-hotline/vigil/internal/hashing"
	"github.com/vigil-hotline/vigil/internal/match"
	"github.com/vigil-hotline/vigil/internal/pdq"
	"github.com/vigil-hotline/vigil/internal/store"
	"github.com/vigil-hotline/vigil/internal/web"
)

// benchLookupResult is what `vigil bench lookup --json` prints last.
type benchLookupResult struct {
	N              int     `json:"n"`
	Store          string  `json:"store"`
	Threshold      int     `json:"threshold"`
	Concurrency    int     `json:"concurrency"`
	Cores          int     `json:"cores"`
	ImportSeconds  float64 `json:"import_seconds"`
	StartupSeconds float64 `json:"startup_seconds"`
	// SnapshotStartupSeconds is the start-up from the index snapshot
	// (written by the first matcher) instead of the store.
	SnapshotStartupSeconds float64 `json:"snapshot_startup_seconds"`
	SnapshotWriteSeconds   float64 `json:"snapshot_write_seconds"`
	SnapshotBytes          int64   `json:"snapshot_bytes"`
	LookupsPerSecond       float64 `json:"lookups_per_second"`
	P50Millis              float64 `json:"p50_ms"`
	P99Millis              float64 `json:"p99_ms"`
	MatchedShare           float64 `json:"matched_share"`
	BatchHashesPerSecond   float64 `json:"batch_hashes_per_second"`
	ExactLookupsPerSecond  float64 `json:"exact_lookups_per_second"`
	ExactP99Millis         float64 `json:"exact_p99_ms"`
	// The CPU time (user and system, clients and server together: one
	// process) per single PDQ and per exact lookup: what a lookup costs
	// whatever else the machine is doing, where the rates above are
	// what was left to the bench.
	CPUMicrosPerLookup      float64 `json:"cpu_us_per_lookup"`
	CPUMicrosPerExactLookup float64 `json:"cpu_us_per_exact_lookup"`
	FileLookupsPerSecond    float64 `json:"file_lookups_per_second"`
	HashImagesPerSecond     float64 `json:"hash_images_per_second"`
	FileVsHashRatio         float64 `json:"file_vs_hash_ratio"`
	Errors                  int64   `json:"errors"`
	SecondsPerMeasurement   float64 `json:"seconds_per_measurement"`
}

// runBenchLookup measures the scanning API over HTTP on loopback: a bank
// of N random PDQ hashes (and N/10 MD5 digests) in a real store, a real
// server with its matcher, and clients that wait for each answer (the
// clients share the machine's cores with the server).
func runBenchLookup(ctx context.Context, env *Env, args []string) (err error) {
	fs := newFlagSet(env, "bench lookup", "Usage: vigil bench lookup [--n N] [--concurrency C] [--seconds S] [--json] [--data DIR] [--database-url URL]")
	cfg := storeFlags(fs, env)
	cfg.create = true
	n := fs.Int("n", 1_000_000, "PDQ hashes in the bank")
	conc := fs.Int("concurrency", 8, "clients sending at once")
	seconds := fs.Float64("seconds", 5, "seconds per measurement")
	asJSON := fs.Bool("json", false, "end with one JSON line")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *n < 1 || *conc < 1 || *seconds <= 0 {
		return usageError("bench lookup: --n, --concurrency and --seconds must be positive")
	}
	if !isFlagSet(fs, "data") && cfg.DatabaseURL == "" {
		dir, err := os.MkdirTemp("", "vigil-bench-lookup-")
		if err != nil {
			return err
		}
		defer func() { err = errors.Join(err, os.RemoveAll(dir)) }()
		cfg.DataDir = dir
	}
	progress := func(format string, a ...any) { fmt.Fprintf(env.Stderr, format+"\n", a...) }
	quiet := slog.New(slog.DiscardHandler)
	db, err := openStore(ctx, cfg, quiet)
	if err != nil {
		return err
	}
	defer db.Close()
	res := benchLookupResult{N: *n, Store: db.Driver().Dialect(), Threshold: vigil.DefaultPDQThreshold,
		Concurrency: *conc, Cores: runtime.NumCPU(), SecondsPerMeasurement: *seconds}

	progress("importing %d PDQ hashes and %d MD5 digests", *n, *n/10)
	hashes := genHashes(*n, "uniform", 1)
	start := time.Now()
	digests, err := benchLookupBank(ctx, db, hashes)
	if err != nil {
		return err
	}
	res.ImportSeconds = time.Since(start).Seconds()
	progress("loading the match index")
	start = time.Now()
	m, err := match.New(ctx, match.Config{Store: db, Logger: quiet})
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, m.Close()) }()
	res.StartupSeconds = time.Since(start).Seconds()
	if err := benchSnapshot(ctx, db, m, &res); err != nil {
		return err
	}

	key, hash := auth.NewAPIKey()
	if err := db.CreateAPIKey(ctx, &vigil.APIKey{Name: fmt.Sprintf("bench-%d", time.Now().UnixNano()), Hash: hash,
		Scopes: []vigil.APIScope{vigil.ScopeLookup}, RatePerMinute: 1 << 30}); err != nil {
		return err
	}
	srv, err := web.New(web.Config{Logger: quiet, Reports: db, Users: db, APIKeys: db, Jobs: db, Secret: make([]byte, 32),
		Lookup: web.LookupConfig{Matcher: m, MaxFiles: runtime.NumCPU()}})
	if err != nil {
		return err
	}
	defer srv.Close(context.WithoutCancel(ctx))
	base, stopServer, err := serveLoopback(ctx, srv)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, stopServer()) }()
	base += "/api/v1/lookup"
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: *conc, MaxConnsPerHost: *conc}, Timeout: time.Minute}
	var errs atomic.Int64
	var matched atomic.Int64
	call := func(req *http.Request) (time.Duration, bool) {
		req.Header.Set("Authorization", "Bearer "+key)
		t0 := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			errs.Add(1)
			return 0, false
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			errs.Add(1)
			return 0, false
		}
		return time.Since(t0), bytes.Contains(body, []byte(`"entry_id"`))
	}
	// Half the PDQ queries are near-duplicates of indexed hashes, half
	// unrelated, as in bench match.
	queries := genQueries(hashes, 10_000, 1)

	progress("single PDQ lookups for %.0f s", *seconds)
	cpu0 := cpuSeconds()
	lat, count := benchRun(*conc, *seconds, func(i int) (time.Duration, bool) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"?pdq="+queries[i%len(queries)].String(), nil)
		d, ok := call(req)
		if ok {
			matched.Add(1)
		}
		return d, true
	})
	res.CPUMicrosPerLookup = (cpuSeconds() - cpu0) * 1e6 / float64(max(count, 1))
	res.LookupsPerSecond = float64(count) / *seconds
	res.P50Millis, res.P99Millis = pct(lat, 0.50), pct(lat, 0.99)
	res.MatchedShare = float64(matched.Load()) / float64(max(count, 1))

	progress("batches of 1,000 PDQ hashes for %.0f s", *seconds)
	batches := make([][]byte, 10)
	for b := range batches {
		hs := make([]map[string]string, 1000)
		for i := range hs {
			hs[i] = map[string]string{"signal": "pdq", "value": queries[(b*1000+i)%len(queries)].String()}
		}
		batches[b], _ = json.Marshal(map[string]any{"hashes": hs})
	}
	_, count = benchRun(*conc, *seconds, func(i int) (time.Duration, bool) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base, bytes.NewReader(batches[i%len(batches)]))
		req.Header.Set("Content-Type", "application/json")
		d, _ := call(req)
		return d, true
	})
	res.BatchHashesPerSecond = float64(count*1000) / *seconds

	progress("exact (MD5) lookups for %.0f s", *seconds)
	cpu0 = cpuSeconds()
	lat, count = benchRun(*conc, *seconds, func(i int) (time.Duration, bool) {
		v := digests[i%len(digests)]
		if i%2 == 1 {
			s := md5.Sum([]byte{byte(i), byte(i >> 8), byte(i >> 16), 0xee})
			v = hex.EncodeToString(s[:])
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"?md5="+v, nil)
		d, _ := call(req)
		return d, true
	})
	res.CPUMicrosPerExactLookup = (cpuSeconds() - cpu0) * 1e6 / float64(max(count, 1))
	res.ExactLookupsPerSecond = float64(count) / *seconds
	res.ExactP99Millis = pct(lat, 0.99)

	progress("file lookups, and hashing the same files in-process, for %.0f s each", *seconds)
	files := benchLookupFiles(16)
	_, count = benchRun(*conc, *seconds, func(i int) (time.Duration, bool) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base, bytes.NewReader(files[i%len(files)]))
		req.Header.Set("Content-Type", "image/png")
		d, _ := call(req)
		return d, true
	})
	res.FileLookupsPerSecond = float64(count) / *seconds
	_, count = benchRun(runtime.NumCPU(), *seconds, func(i int) (time.Duration, bool) {
		if _, err := hashing.HashBytes(files[i%len(files)], hashing.Options{Dihedral: true}); err != nil {
			errs.Add(1)
		}
		return 0, false
	})
	res.HashImagesPerSecond = float64(count) / *seconds
	if res.HashImagesPerSecond > 0 {
		res.FileVsHashRatio = res.FileLookupsPerSecond / res.HashImagesPerSecond
	}
	res.Errors = errs.Load()

	fmt.Fprintf(env.Stdout, "%d PDQ entries (%s), start-up %.2f s (%.2f s from the snapshot): %.0f lookups/s (p50 %.2f ms, p99 %.2f ms), %.0f batch hashes/s, "+
		"%.0f exact lookups/s, %.1f files/s (%.0f%% of hashing alone), %d errors\n",
		res.N, res.Store, res.StartupSeconds, res.SnapshotStartupSeconds, res.LookupsPerSecond, res.P50Millis, res.P99Millis, res.BatchHashesPerSecond,
		res.ExactLookupsPerSecond, res.FileLookupsPerSecond, 100*res.FileVsHashRatio, res.Errors)
	if *asJSON {
		if err := json.NewEncoder(env.Stdout).Encode(res); err != nil {
			return err
		}
	}
	if res.Errors > 0 {
		return &exitError{code: 1, err: fmt.Errorf("%d requests failed", res.Errors)}
	}
	return nil
}

// benchRun runs fn from conc goroutines for the given seconds and returns
// the latencies of the calls that asked to be timed, and the number of
// calls.
func benchRun(conc int, seconds float64, fn func(i int) (time.Duration, bool)) ([]time.Duration, int) {
	deadline := time.Now().Add(time.Duration(seconds * float64(time.Second)))
	var next atomic.Int64
	var mu sync.Mutex
	var all []time.Duration
	var wg sync.WaitGroup
	for c := 0; c < conc; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var lat []time.Duration
			// At least one call each, however late the goroutine starts.
			for first := true; first || time.Now().Before(deadline); first = false {
				if d, timed := fn(int(next.Add(1)) - 1); timed && d > 0 {
					lat = append(lat, d)
				}
			}
			mu.Lock()
			all = append(all, lat...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	slices.Sort(all)
	return all, int(next.Load())
}

func pct(lat []time.Duration, p float64) float64 {
	if len(lat) == 0 {
		return 0
	}
	return float64(lat[int(p*float64(len(lat)-1))]) / 1e6
}

// benchLookupBank stores the hashes in a new bank, with one MD5 digest per
// ten, and returns the digests.
func benchLookupBank(ctx context.Context, db *store.DB, hashes []pdq.Hash) ([]string, error) {
	b := &vigil.Bank{Name: fmt.Sprintf("bench-%d", time.Now().UnixNano()), Source: vigil.SourceOther, Kind: vigil.BankBlock,
		PDQThreshold: vigil.DefaultPDQThreshold, Enabled: true}
	if err := db.CreateBank(ctx, b); err != nil {
		return nil, err
	}
	var digests []string
	const batch = 20_000
	for i := 0; i < len(hashes); i += batch {
		var es []*vigil.BankEntry
		for j := i; j < min(i+batch, len(hashes)); j++ {
			es = append(es, &vigil.BankEntry{Signal: vigil.SignalPDQ, Value: hashes[j].String(), AddedFrom: "bench"})
			if j%10 == 0 {
				d := md5.Sum([]byte(hashes[j].String()))
				v := hex.EncodeToString(d[:])
				es = append(es, &vigil.BankEntry{Signal: vigil.SignalMD5, Value: v, AddedFrom: "bench"})
				digests = append(digests, v)
			}
		}
		if _, err := db.AddBankEntries(ctx, b.ID, es); err != nil {
			return nil, err
		}
	}
	return digests, nil
}

// benchLookupFiles draws n generated pictures (coloured noise blocks,
// 640×480) as PNG files.
func benchLookupFiles(n int) [][]byte {
	out := make([][]byte, n)
	for k := range out {
		r := rand.New(rand.NewPCG(uint64(k), 77))
		img := image.NewRGBA(image.Rect(0, 0, 640, 480))
		for by := 0; by < 480; by += 16 {
			for bx := 0; bx < 640; bx += 16 {
				c := color.RGBA{uint8(r.IntN(256)), uint8(r.IntN(256)), uint8(r.IntN(256)), 255}
				for y := by; y < by+16; y++ {
					for x := bx; x < bx+16; x++ {
						img.SetRGBA(x, y, c)
					}
				}
			}
		}
		var buf bytes.Buffer
		_ = png.Encode(&buf, img)
		out[k] = buf.Bytes()
	}
	return out
}

// benchSnapshot writes the matcher's snapshot and times a start from it.
func benchSnapshot(ctx context.Context, db *store.DB, m *match.Matcher, res *benchLookupResult) (err error) {
	dir, err := os.MkdirTemp("", "vigil-bench-snapshot-")
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, os.RemoveAll(dir)) }()
	path := filepath.Join(dir, "match.snapshot")
	start := time.Now()
	if err := m.WriteSnapshot(path); err != nil {
		return err
	}
	res.SnapshotWriteSeconds = time.Since(start).Seconds()
	if fi, err := os.Stat(path); err == nil {
		res.SnapshotBytes = fi.Size()
	}
	start = time.Now()
	m2, err := match.New(ctx, match.Config{Store: db, Logger: slog.New(slog.DiscardHandler), Snapshot: path, PollInterval: -1})
	if err != nil {
		return err
	}
	res.SnapshotStartupSeconds = time.Since(start).Seconds()
	if !m2.Stats().FromSnapshot {
		return errors.New("bench lookup: the snapshot was not used")
	}
	return m2.Close()
}
