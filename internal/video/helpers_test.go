package video

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// needTools returns ffmpeg and ffprobe, or skips the test without them
// (fails it when VIGIL_REQUIRE_FFMPEG=1, as CI sets).
func needTools(t testing.TB) Tools {
	t.Helper()
	if testing.Short() {
		t.Skip("runs ffmpeg: not under -short (as videotest.Tools)")
	}
	tools, err := Find()
	if err != nil {
		if os.Getenv("VIGIL_REQUIRE_FFMPEG") == "1" {
			t.Fatalf("VIGIL_REQUIRE_FFMPEG=1 but %v", err)
		}
		t.Skip("ffmpeg not installed")
	}
	return tools
}

// generate makes a small video with ffmpeg's own sources, e.g.
// generate(t, "a.mp4", "-f", "lavfi", "-i", "testsrc2=s=160x120:r=10:d=3", "-c:v", "libx264").
func generate(t testing.TB, name string, args ...string) string {
	t.Helper()
	tools := needTools(t)
	out := filepath.Join(t.TempDir(), name)
	all := append([]string{"-nostdin", "-hide_banner", "-v", "error", "-y"}, args...)
	all = append(all, "-pix_fmt", "yuv420p", "-threads", "1", out)
	cmd := exec.CommandContext(context.Background(), tools.FFmpeg, all...)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg %v: %v\n%s", all, err, b)
	}
	return out
}
