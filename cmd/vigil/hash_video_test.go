package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/video/videotest"
)

// testVideo makes a small generated video from an ffmpeg lavfi source.
func testVideo(t *testing.T, name, src string, extra ...string) string {
	t.Helper()
	args := append([]string{"-f", "lavfi", "-i", src}, extra...)
	return videotest.Generate(t, name, append(args, "-pix_fmt", "yuv420p")...)
}

func TestHashCommandVideo(t *testing.T) {
	path := testVideo(t, "clip.mp4", "testsrc2=s=160x120:r=10:d=3", "-c:v", "libx264")
	env, out, _ := hashTestEnv()
	if err := run(context.Background(), env, []string{"hash", "--video-interval", "1", path}); err != nil {
		t.Fatal(err)
	}
	var line hashLine
	if err := json.Unmarshal(out.Bytes(), &line); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if len(line.VPDQ) != 3 || line.MD5 == "" || line.SHA256 == "" || line.Width != 160 {
		t.Fatalf("want 3 frames (one a second), digests and size: %s", out)
	}
	for i, f := range line.VPDQ {
		if f.Frame != 10*i || f.Timestamp != float64(i) || len(f.PDQ) != 64 {
			t.Errorf("frame %d: %+v", i, f)
		}
	}

	env, out, _ = hashTestEnv()
	if err := run(context.Background(), env, []string{"hash", "--format", "reference", "--video-interval", "0", path}); err != nil {
		t.Fatal(err)
	}
	frames, err := vigil.ParseVideoFrames(out.String())
	if err != nil || len(frames) != 30 || !strings.HasPrefix(out.String(), "0,") {
		t.Fatalf("every frame in the reference's lines: %v\n%s", err, out)
	}
}

func TestBenchVideoSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: generates 720p videos")
	}
	testVideo(t, "probe.mp4", "testsrc2=s=64x48:r=5:d=1", "-c:v", "libx264") // skips without ffmpeg
	env, out, _ := hashTestEnv()
	if err := run(context.Background(), env, []string{"bench", "video", "--json", "--seconds", "1"}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	var res map[string]float64
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &res); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	for _, k := range []string{"video_seconds_per_cpu_second", "frames_per_second", "ratio_to_decode"} {
		if res[k] <= 0 {
			t.Errorf("%s = %v", k, res[k])
		}
	}
}
