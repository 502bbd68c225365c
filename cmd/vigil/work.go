package main

import (
	"context"
	"errors"
)

// runWork runs the background workers only: crawl, hash, match. At scale,
// run as many of these as needed beside the serve processes.
func runWork(ctx context.Context, env *Env, args []string) (err error) {
	fs := newFlagSet(env, "work", "Usage: vigil work [--data DIR] [--database-url URL] [flags]")
	cfg := storeFlags(fs, env)
	wc := workerFlags(fs, env)
	metricsAddr := metricsFlags(fs, env)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := wc.takedown.loadRouting(); err != nil {
		return err
	}
	db, err := openStore(ctx, cfg, env.Logger)
	if err != nil {
		return err
	}
	defer db.Close()
	m, stopMatcher, err := newMatcher(ctx, env, db, cfg.DataDir)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, stopMatcher()) }()
	wc.matcher = m
	startMetrics(ctx, env, *metricsAddr, db, m)
	stop, err := startWorkers(ctx, env, cfg, wc, db)
	if err != nil {
		return err
	}
	env.Logger.Info("vigil is working", "store", db.Driver().Dialect(), "fetchers", wc.Fetchers, "hashers", wc.Hashers)
	<-ctx.Done()
	env.Logger.Info("stopping workers")
	return stop()
}
