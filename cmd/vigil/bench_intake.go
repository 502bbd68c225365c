package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/auth"
	"github.com/vigil-hotline/vigil/internal/web"
)

type intakeResult struct {
	Store            string  `json:"store"`
	Reports          int     `json:"reports"`
	Concurrency      int     `json:"concurrency"`
	Seconds          float64 `json:"seconds"`
	ReportsPerSecond float64 `json:"reports_per_second"`
	P50Millis        float64 `json:"p50_ms"`
	P99Millis        float64 `json:"p99_ms"`
	MaxMillis        float64 `json:"max_ms"`
	Errors           int64   `json:"errors"`
}

// runBenchIntake measures the report API end to end over HTTP on loopback:
// a real server, a real store, one new URL per report (so one crawl job
// each), and clients that wait for each answer.
func runBenchIntake(ctx context.Context, env *Env, args []string) (err error) {
	fs := newFlagSet(env, "bench intake", "Usage: vigil bench intake [--n N] [--concurrency C] [--json] [--data DIR] [--database-url URL]")
	cfg := storeFlags(fs, env)
	cfg.create = true // a benchmark makes its own store
	n := fs.Int("n", 5000, "reports to send")
	conc := fs.Int("concurrency", 16, "clients sending at once")
	asJSON := fs.Bool("json", false, "print one JSON object")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if !isFlagSet(fs, "data") && cfg.DatabaseURL == "" {
		dir, err := os.MkdirTemp("", "vigil-bench-intake-")
		if err != nil {
			return err
		}
		defer func() { err = errors.Join(err, os.RemoveAll(dir)) }()
		cfg.DataDir = dir
	}
	quiet := slog.New(slog.DiscardHandler)
	db, err := openStore(ctx, cfg, quiet)
	if err != nil {
		return err
	}
	defer db.Close()
	key, hash := auth.NewAPIKey()
	if err := db.CreateAPIKey(ctx, &vigil.APIKey{Name: fmt.Sprintf("bench-%d", time.Now().UnixNano()), Hash: hash}); err != nil {
		return err
	}
	secret := make([]byte, 32)
	srv, err := web.New(web.Config{Logger: quiet, Reports: db, Users: db, APIKeys: db, Jobs: db, Secret: secret})
	if err != nil {
		return err
	}
	base, stopServer, err := serveLoopback(ctx, srv)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, stopServer()) }()
	endpoint := base + "/api/v1/reports"
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: *conc, MaxConnsPerHost: *conc}, Timeout: 30 * time.Second}
	run := time.Now().UnixNano()
	send := func(i int) (time.Duration, error) {
		body, _ := json.Marshal(map[string]any{
			"urls":     []string{fmt.Sprintf("https://bench-%d.example/gallery/%d", run, i)},
			"language": "en", "description": "benchmark report", "saw": []string{"images"},
		})
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", "application/json")
		start := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			return 0, err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			return 0, fmt.Errorf("status %d", resp.StatusCode)
		}
		return time.Since(start), nil
	}
	// Warm up connections and caches; not counted.
	for i := 0; i < min(100, *n); i++ {
		if _, err := send(-1 - i); err != nil {
			return fmt.Errorf("warm-up: %w", err)
		}
	}
	lat := make([]time.Duration, *n)
	var next, errs atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for c := 0; c < *conc; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= *n {
					return
				}
				d, err := send(i)
				if err != nil {
					errs.Add(1)
				}
				lat[i] = d
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	slices.Sort(lat)
	pct := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))]) / 1e6 }
	res := intakeResult{
		Store: db.Driver().Dialect(), Reports: *n, Concurrency: *conc, Seconds: elapsed.Seconds(),
		ReportsPerSecond: float64(*n) / elapsed.Seconds(), P50Millis: pct(0.50), P99Millis: pct(0.99),
		MaxMillis: pct(1), Errors: errs.Load(),
	}
	if *asJSON {
		return json.NewEncoder(env.Stdout).Encode(res)
	}
	fmt.Fprintf(env.Stdout, "store %s: %d reports, %d clients: %.0f reports/s, p50 %.1f ms, p99 %.1f ms, max %.1f ms, %d errors\n",
		res.Store, res.Reports, res.Concurrency, res.ReportsPerSecond, res.P50Millis, res.P99Millis, res.MaxMillis, res.Errors)
	if res.Errors > 0 {
		return &exitError{code: 1, err: fmt.Errorf("%d requests failed", res.Errors)}
	}
	return nil
}

func isFlagSet(fs *flag.FlagSet, name string) bool {
	found := false
	fs.Visit(func(f *flag.Flag) {
		if f.Name == name {
			found = true
		}
	})
	return found
}
