//go:build !nodemo

package main

import (
	"encoding/json"
	"testing"
)

// TestBenchCrawlArchives: the archive mode crawls pictures packed in ZIP
// archives end to end and reports entries per second beside loose hashing.
func TestBenchCrawlArchives(t *testing.T) {
	if testing.Short() {
		t.Skip("a crawl end to end: not under -short")
	}
	out, stderr, code := runIn(t, nil, "", "bench", "crawl", "--archives", "--images", "30", "--per-page", "10",
		"--width", "64", "--height", "48", "--json", "--render-browser", "off")
	if code != 0 {
		t.Fatalf("status %d: %s", code, stderr)
	}
	var res crawlBenchResult
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if res.Archives != 3 || res.Images != 30 || res.ImagesPerSecond <= 0 || res.HashOnlyAllCoresPerSecond <= 0 || res.PeakHeapBytes == 0 {
		t.Errorf("result %+v", res)
	}
}
