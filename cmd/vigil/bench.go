package main

import (
	"context"
)

const benchUsage = `Usage: vigil bench intake|hash|match|crawl|lookup|video|stats [flags]

  intake   reports per second and p99 latency of the report API on loopback
  hash     images per CPU-second through decoding and PDQ
  match    queries per second of the match index on synthetic hashes
  crawl    pages and images per second through the whole crawl pipeline
  lookup   hash and file lookups per second of the scanning API on loopback
  video    seconds of video hashed (vPDQ) per CPU-second, against ffmpeg alone
  stats    the annual report's figures and the provider scorecard on a busy year
`

// runBench dispatches to the measurement subcommands, one file each.
func runBench(ctx context.Context, env *Env, args []string) error {
	return dispatch(ctx, env, "bench", benchUsage, args, []subcommand{
		{"intake", runBenchIntake}, {"hash", runBenchHash}, {"match", runBenchMatch}, {"crawl", runBenchCrawl},
		{"lookup", runBenchLookup}, {"video", runBenchVideo}, {"stats", runBenchStats}})
}
