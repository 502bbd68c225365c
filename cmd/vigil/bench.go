package main

import (
	"context"
	"log/slog"
	"net"
	"net/http"
)

const benchUsage = `Usage: vigil bench intake|hash|match|crawl|lookup|video|stats|map|exchange [flags]

  intake   reports per second and p99 latency of the report API on loopback
  hash     images per CPU-second through decoding and PDQ
  match    queries per second of the match index on synthetic hashes
  crawl    pages and images per second through the whole crawl pipeline
  lookup   hash and file lookups per second of the scanning API on loopback
  video    seconds of video hashed (vPDQ) per CPU-second, against ffmpeg alone
  stats    the annual report's figures and the provider scorecard on a busy year
  map      the network map's clusters and a neighbourhood, on 100,000 cases and 1M media
  exchange entries per second from a fake NCMEC server into a bank, peak heap, time until all match
`

// runBench dispatches to the measurement subcommands, one file each.
func runBench(ctx context.Context, env *Env, args []string) error {
	return dispatch(ctx, env, "bench", benchUsage, args, []subcommand{
		{"intake", runBenchIntake}, {"hash", runBenchHash}, {"match", runBenchMatch}, {"crawl", runBenchCrawl},
		{"lookup", runBenchLookup}, {"video", runBenchVideo}, {"stats", runBenchStats}, {"map", runBenchMap},
		{"exchange", runBenchExchange}})
}

// serveLoopback serves h on a free loopback port for a benchmark, and
// returns its base URL and the function that stops it.
func serveLoopback(ctx context.Context, h http.Handler) (base string, stop func() error, err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	sctx, cancel := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() { served <- serveHTTP(sctx, &Env{Logger: slog.New(slog.DiscardHandler)}, ln, h) }()
	return "http://" + ln.Addr().String(), func() error {
		cancel()
		return <-served
	}, nil
}
