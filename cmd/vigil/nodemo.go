//go:build nodemo

package main

import (
	"context"
	"errors"
)

// A build with -tags nodemo leaves out `vigil demo`, `vigil bench crawl` and
// `vigil bench exchange`:
// they carry a simulated internet, fake trace and mail services and an
// mmdb writer, test tooling that a production binary does without.

func runDemo(context.Context, *Env, []string) error {
	return errors.New("demo: not compiled into this build (built with -tags nodemo)")
}

func runBenchCrawl(context.Context, *Env, []string) error {
	return errors.New("bench crawl: not compiled into this build (built with -tags nodemo)")
}

func runBenchExchange(context.Context, *Env, []string) error {
	return errors.New("bench exchange: not compiled into this build (built with -tags nodemo)")
}
