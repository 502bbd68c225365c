package main

import (
	"errors"
	"flag"
	"fmt"
	"time"

	"github.com/vigil-hotline/vigil/internal/crawl"
	"github.com/vigil-hotline/vigil/internal/render"
)

// renderWorkerConfig is the workers' configuration for pages built by
// JavaScript.
type renderWorkerConfig struct {
	Browser     string
	Below       int
	Sites       multiFlag
	Timeout     time.Duration
	MaxRequests int
	MaxMemory   int64
	Workers     int
}

func (c *renderWorkerConfig) flags(fs *flag.FlagSet) {
	fs.StringVar(&c.Browser, "render-browser", "", `Chromium for pages built by JavaScript (default: chromium on PATH; "off": no rendering)`)
	fs.IntVar(&c.Below, "render-below", 1, "render a page in the browser when it yields fewer media than this (0: only --render-site)")
	fs.Var(&c.Sites, "render-site", "HOST whose pages are always rendered (and its subdomains; repeatable)")
	fs.DurationVar(&c.Timeout, "render-timeout", render.DefaultTimeout, "time one render may take, browser start to kill")
	fs.IntVar(&c.MaxRequests, "render-max-requests", render.DefaultMaxRequests, "requests one render may make through the proxy")
	fs.IntVar(&c.Workers, "render-workers", 2, "browsers running at once (each holds hundreds of megabytes)")
	fs.Int64Var(&c.MaxMemory, "render-max-memory", render.DefaultMaxMemory, "bytes the browser's processes may hold together; past it they are killed")
}

// renderer returns the workers' renderer, or nil when rendering is off (no
// Chromium: said once in the log, and Vigil crawls as without it).
func (c *renderWorkerConfig) renderer(env *Env, f *crawl.Fetcher) (*render.Renderer, error) {
	if c.Browser == "off" {
		env.Logger.Info("rendering of pages built by JavaScript is off (--render-browser off)")
		return nil, nil
	}
	r, err := render.New(render.Config{Browser: c.Browser, Fetcher: f, Timeout: c.Timeout, MaxRequests: c.MaxRequests,
		MaxMemory: c.MaxMemory, Logger: env.Logger})
	if errors.Is(err, render.ErrNoBrowser) {
		env.Logger.Warn("rendering of pages built by JavaScript is off: no Chromium found (apt-get install chromium)", "err", err)
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("render: %w", err)
	}
	return r, nil
}
