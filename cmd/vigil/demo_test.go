package main

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestDemoCheck runs `vigil demo --check` as a newcomer would: known
// pictures classified without an analyst, unknown ones queued, re-encoded
// copies recognised by PDQ, the metadata redirect refused, and the whole
// takedown path closing a case as removed.
func TestDemoCheck(t *testing.T) {
	needVigil(t)
	t.Parallel() // a process on a port of its own, much of it waiting on its world
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, vigilBin, "demo", "--check", "--addr", "127.0.0.1:0", "--data", t.TempDir())
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("vigil demo --check: %v\n%s", err, out)
	}
	for _, want := range []string{"demo check passed", "recognised by PDQ at distance", "queued for assessment",
		"cloud metadata", "removed", "notice to", "Two reports, one network", "The map links them", videoWant(),
		"referral to partner nl: sent", "accepted under its settings, 1 queued", "our case closed as removed"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("demo output lacks %q:\n%s", want, out)
		}
	}
}

// videoWant is what the demo says of its video: recognised by vPDQ when
// ffmpeg is installed (as CI requires), else nothing is asked.
func videoWant() string {
	if _, err := exec.LookPath("ffmpeg"); err != nil && os.Getenv("VIGIL_REQUIRE_FFMPEG") != "1" {
		return "demo check passed"
	}
	return "video recognised by vPDQ"
}
