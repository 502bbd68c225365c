package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/statsgen"
)

type statsBenchResult struct {
	Store            string  `json:"store"`
	Reports          int     `json:"reports"`
	Media            int     `json:"media"`
	Messages         int     `json:"messages"`
	Takedowns        int     `json:"takedowns"`
	LoadSeconds      float64 `json:"load_seconds"`
	AnnualSeconds    float64 `json:"annual_seconds"`
	ScorecardSeconds float64 `json:"scorecard_seconds"`
}

// runBenchStats fills a store with a generated busy hotline (two years and
// a quarter of activity) and times the annual report's figures (the year
// and the year before) and the provider scorecard of the year.
func runBenchStats(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "bench stats", "Usage: vigil bench stats [--reports N] [--media N] [--messages N] [--json] [--database-url URL]")
	cfg := storeFlags(fs, env)
	reports := fs.Int("reports", 100_000, "reports to generate")
	media := fs.Int("media", 1_000_000, "media to generate")
	messages := fs.Int("messages", 200_000, "messages to generate")
	asJSON := fs.Bool("json", false, "end with one JSON line")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if cfg.DatabaseURL == "" {
		dir, err := os.MkdirTemp("", "vigil-bench-stats-")
		if err != nil {
			return err
		}
		defer func() { _ = os.RemoveAll(dir) }()
		cfg.DataDir = dir
	}
	cfg.create = true // a fresh folder, or a database that Load checks is empty
	db, err := openStore(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	defer db.Close()
	loc, err := time.LoadLocation("Europe/Brussels")
	if err != nil {
		return err
	}
	year := time.Now().Year() - 1
	a := statsgen.Generate(statsgen.Config{Year: year, Loc: loc, Seed: 1, Reports: *reports, Media: *media, Messages: *messages})
	res := statsBenchResult{Store: db.Driver().Dialect(), Reports: len(a.Reports), Media: len(a.Media),
		Messages: len(a.Messages), Takedowns: len(a.Takedowns)}
	fmt.Fprintf(env.Stderr, "loading %d reports, %d media, %d messages…\n", res.Reports, res.Media, res.Messages)
	start := time.Now()
	if err := statsgen.Load(ctx, db, a); err != nil {
		return err
	}
	res.LoadSeconds = time.Since(start).Seconds()
	opts := vigil.StatsOptions{HomeCountry: "BE", PartnerCountries: map[string]bool{"NL": true, "DE": true, "FR": true}}
	p := vigil.YearPeriod(year, loc)
	start = time.Now()
	if _, err := db.PeriodStats(ctx, p, opts); err != nil {
		return err
	}
	if _, err := db.PeriodStats(ctx, p.Previous(), opts); err != nil {
		return err
	}
	res.AnnualSeconds = time.Since(start).Seconds()
	start = time.Now()
	if _, err := db.ProviderScores(ctx, p); err != nil {
		return err
	}
	res.ScorecardSeconds = time.Since(start).Seconds()
	fmt.Fprintf(env.Stdout, "%s: annual report figures (%d and %d) in %.3f s, provider scorecard in %.3f s (load %.1f s)\n",
		res.Store, year, year-1, res.AnnualSeconds, res.ScorecardSeconds, res.LoadSeconds)
	if *asJSON {
		return json.NewEncoder(env.Stdout).Encode(res)
	}
	return nil
}
