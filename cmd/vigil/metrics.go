package main

import (
	"context"
	"flag"
	"net"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/match"
	"github.com/vigil-hotline/vigil/internal/metrics"
	"github.com/vigil-hotline/vigil/internal/postgres"
	"github.com/vigil-hotline/vigil/internal/sqlite"
	"github.com/vigil-hotline/vigil/internal/store"
)

// metricsFlags adds --metrics-addr: where /metrics, /healthz and /readyz
// listen. Loopback by default; "off" serves none.
func metricsFlags(fs *flag.FlagSet, env *Env) *string {
	return fs.String("metrics-addr", envOr(env, "VIGIL_METRICS_ADDR", "127.0.0.1:9464"),
		`address for /metrics, /healthz and /readyz ("off": none) [VIGIL_METRICS_ADDR]`)
}

// startMetrics makes the process's metrics and serves them on addr until
// ctx ends. A port already taken (a second process on the host) is
// logged, not fatal: the process works without its listener.
func startMetrics(ctx context.Context, env *Env, addr string, db *store.DB, m vigil.Matcher) *metrics.Metrics {
	latest := sqlite.LatestMigration()
	if db.Driver().Dialect() == "postgres" {
		latest = postgres.LatestMigration()
	}
	cfg := metrics.Config{Store: db, Logger: env.Logger, LatestMigration: latest}
	if mm, ok := m.(*match.Matcher); ok {
		cfg.Index = func() metrics.IndexStats {
			s := mm.Stats()
			return metrics.IndexStats{Banks: s.Banks, PDQ: s.PDQEntries, Exact: s.ExactEntries, Loaded: true, Stale: s.Stale,
				LoadSeconds: s.LoadTime.Seconds()}
		}
	}
	met := metrics.New(cfg)
	if addr == "" || addr == "off" {
		return met
	}
	// Logged by port only: logs never hold an address (a test greps them
	// for the loopback address reporters come from in tests).
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		env.Logger.Warn("metrics not served: cannot listen (taken by another process?)", "port", portOf(addr))
		return met
	}
	env.Logger.Info("metrics served on /metrics", "port", portOf(ln.Addr().String()))
	go func() {
		if err := serveHTTP(ctx, env, ln, met.Handler()); err != nil {
			env.Logger.Warn("metrics listener", "err", err)
		}
	}()
	return met
}

func portOf(addr string) string {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "?"
	}
	return port
}
