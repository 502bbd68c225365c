package main

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/vigil-hotline/vigil/internal/crawl"
)

// TestRenderOffWithoutBrowser: without Chromium the workers run as before
// and say once that rendering is off.
func TestRenderOffWithoutBrowser(t *testing.T) {
	var log bytes.Buffer
	env := &Env{Logger: slog.New(slog.NewTextHandler(&log, nil))}
	f := crawl.NewFetcher(crawl.Config{})
	defer f.Close()
	r, err := (&renderWorkerConfig{Browser: "/nonexistent/chromium"}).renderer(env, f)
	if r != nil || err != nil {
		t.Fatalf("renderer %v, %v; want none and no error", r, err)
	}
	if strings.Count(log.String(), "rendering of pages built by JavaScript is off") != 1 {
		t.Errorf("log: %q", log.String())
	}
}
