package main

import (
	"context"
	"fmt"
)

const benchUsage = `Usage: vigil bench intake|hash|match|crawl [flags]

  intake   reports per second and p99 latency of the report API on loopback
  hash     images per CPU-second through decoding and PDQ
  match    queries per second of the match index on synthetic hashes
  crawl    pages and images per second through the whole crawl pipeline
`

// runBench dispatches to the measurement subcommands, one file each.
func runBench(ctx context.Context, env *Env, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(env.Stderr, benchUsage)
		return &exitError{code: 2, err: fmt.Errorf("bench: which benchmark?")}
	}
	switch args[0] {
	case "intake":
		return runBenchIntake(ctx, env, args[1:])
	case "hash":
		return runBenchHash(ctx, env, args[1:])
	case "match":
		return runBenchMatch(ctx, env, args[1:])
	case "crawl":
		return runBenchCrawl(ctx, env, args[1:])
	}
	fmt.Fprint(env.Stderr, benchUsage)
	return &exitError{code: 2, err: fmt.Errorf("bench: unknown benchmark %q", args[0])}
}
