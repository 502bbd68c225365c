// Package videotest helps tests that need ffmpeg: it finds it, skips the
// test without it (fails it when VIGIL_REQUIRE_FFMPEG=1, as CI sets), and
// generates small benign videos from ffmpeg's own sources.
package videotest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/vigil-hotline/vigil/internal/video"
)

// Tools returns ffmpeg and ffprobe, or skips the test.
func Tools(t testing.TB) video.Tools {
	t.Helper()
	// ffmpeg runs as a subprocess, seconds a test: like the other
	// subprocess tests, not under -short (CI runs them in full).
	if testing.Short() {
		t.Skip("runs ffmpeg: not under -short")
	}
	tools, err := video.Find()
	if err != nil {
		if os.Getenv("VIGIL_REQUIRE_FFMPEG") == "1" {
			t.Fatalf("VIGIL_REQUIRE_FFMPEG=1 but %v", err)
		}
		t.Skip("ffmpeg not installed")
	}
	return tools
}

// Generate runs ffmpeg with args (inputs and options) and returns the path
// of the output file name in a temporary folder, e.g.
// Generate(t, "a.mp4", "-f", "lavfi", "-i", "testsrc2=s=160x120:r=10:d=3", "-c:v", "libx264").
func Generate(t testing.TB, name string, args ...string) string {
	t.Helper()
	tools := Tools(t)
	out := filepath.Join(t.TempDir(), name)
	all := append([]string{"-nostdin", "-hide_banner", "-v", "error", "-y"}, args...)
	all = append(all, "-threads", "1", out)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if b, err := exec.CommandContext(ctx, tools.FFmpeg, all...).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg %v: %v\n%s", all, err, b)
	}
	return out
}

// Bytes is Generate's file, read.
func Bytes(t testing.TB, name string, args ...string) []byte {
	t.Helper()
	b, err := os.ReadFile(Generate(t, name, args...))
	if err != nil {
		t.Fatal(err)
	}
	return b
}
