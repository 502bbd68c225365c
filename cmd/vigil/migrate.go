package main

import (
	"context"
	"fmt"
)

// runMigrate brings the database schema up to date and exits.
func runMigrate(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "migrate", "Usage: vigil migrate [--data DIR] [--database-url URL]")
	cfg := storeFlags(fs, env)
	cfg.create = true
	db, err := parseAndOpen(ctx, env, fs, cfg, args)
	if err != nil {
		return err
	}
	defer db.Close()
	fmt.Fprintf(env.Stdout, "%s database is ready and its schema up to date\n", db.Driver().Dialect())
	return nil
}
