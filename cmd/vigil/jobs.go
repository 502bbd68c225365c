package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"
)

// runJobs lists the durable job queue.
func runJobs(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "jobs", "Usage: vigil jobs [--state available,running,retryable,…] [--limit N] [--json]")
	cfg := storeFlags(fs, env)
	state := fs.String("state", "", "comma-separated job states to show (default: all)")
	limit := fs.Int("limit", 50, "how many jobs at most")
	asJSON := fs.Bool("json", false, "print one JSON object per job")
	db, err := parseAndOpen(ctx, env, fs, cfg, args)
	if err != nil {
		return err
	}
	defer db.Close()
	var states []string
	if *state != "" {
		states = strings.Split(*state, ",")
	}
	jobs, err := db.ListJobs(ctx, states, *limit)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(env.Stdout)
		for _, j := range jobs {
			if err := enc.Encode(j); err != nil {
				return err
			}
		}
		return nil
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tKIND\tQUEUE\tSTATE\tATTEMPT\tCREATED\tARGS")
	for _, j := range jobs {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d\t%s\t%s\n", j.ID, j.Kind, j.Queue, j.State, j.Attempt,
			j.CreatedAt.Format("2006-01-02 15:04:05"), j.Args)
	}
	return tw.Flush()
}
