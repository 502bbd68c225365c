package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"github.com/vigil-hotline/vigil/internal/video"
)

const benchVideoUsage = `Usage: vigil bench video [--json] [--seconds N] [--interval S]

Generates test videos with ffmpeg's own sources (testsrc2 and mandelbrot at
720p, H.264, with a re-encode, a crop and a speed change), hashes each with
vPDQ and, in the same run, decodes each with ffmpeg alone. Reports seconds
of video hashed per CPU-second (Vigil and its ffmpeg together), frames
hashed per second, and the ratio of that speed to ffmpeg's decode-only
speed on the same files (1 means hashing costs nothing beyond decoding).
--json ends with one JSON line of the figures.

Flags:`

// benchVideoResult is what `vigil bench video --json` prints.
type benchVideoResult struct {
	Files                    int     `json:"files"`
	VideoSeconds             float64 `json:"video_seconds"`
	Interval                 float64 `json:"interval"`
	FramesHashed             int     `json:"frames_hashed"`
	CPUSeconds               float64 `json:"cpu_seconds"`
	WallSeconds              float64 `json:"wall_seconds"`
	VideoSecondsPerCPUSecond float64 `json:"video_seconds_per_cpu_second"`
	FramesPerSecond          float64 `json:"frames_per_second"`
	DecodeCPUSeconds         float64 `json:"decode_cpu_seconds"`
	DecodeSecondsPerCPU      float64 `json:"decode_video_seconds_per_cpu_second"`
	RatioToDecode            float64 `json:"ratio_to_decode"`
}

func runBenchVideo(ctx context.Context, env *Env, args []string) (err error) {
	fs := flag.NewFlagSet("bench video", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	asJSON := fs.Bool("json", false, "end with one JSON line of the figures")
	seconds := fs.Int("seconds", 20, "length of each generated video")
	interval := fs.Float64("interval", 1, "seconds between hashed frames (0: every frame)")
	fs.Usage = func() {
		fmt.Fprintln(env.Stderr, benchVideoUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return &exitError{code: 2, err: errors.New("")}
	}
	tools, err := video.Find()
	if err != nil {
		return fmt.Errorf("bench video: %w", err)
	}
	dir, err := os.MkdirTemp("", "vigil-bench-video-")
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, os.RemoveAll(dir)) }()
	d := fmt.Sprint(*seconds)
	// Benign generated sources only.
	specs := []struct{ name, src, vf string }{
		{"testsrc2-720p.mp4", "testsrc2=s=1280x720:r=30:d=" + d, ""},
		{"mandelbrot-720p.mp4", "mandelbrot=s=1280x720:r=30", ""},
		{"testsrc2-720p-crop.mp4", "testsrc2=s=1280x720:r=30:d=" + d, "crop=1100:620:90:50,scale=1280:720"},
		{"testsrc2-720p-fast.mp4", "testsrc2=s=1280x720:r=30:d=" + d, "setpts=PTS/1.25"},
	}
	fmt.Fprintf(env.Stderr, "bench video: generating %d videos of %s s at 720p\n", len(specs), d)
	var files []string
	for _, s := range specs {
		out := filepath.Join(dir, s.name)
		args := []string{"-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", s.src, "-t", d}
		if s.vf != "" {
			args = append(args, "-vf", s.vf)
		}
		args = append(args, "-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-pix_fmt", "yuv420p", out)
		if b, err := exec.CommandContext(ctx, tools.FFmpeg, args...).CombinedOutput(); err != nil {
			return fmt.Errorf("bench video: generating %s: %v: %s", s.name, err, b)
		}
		files = append(files, out)
	}
	h := video.New(tools, video.Options{Interval: *interval, Threads: 1})
	var res benchVideoResult
	res.Files, res.Interval = len(files), *interval
	cpu0, wall0 := cpuSeconds(), time.Now()
	for _, f := range files {
		r, err := h.Hash(ctx, video.Input{Path: f})
		if err != nil {
			return fmt.Errorf("bench video: %s: %w", f, err)
		}
		res.FramesHashed += len(r.Frames)
		res.VideoSeconds += r.Info.Duration
	}
	res.CPUSeconds, res.WallSeconds = cpuSeconds()-cpu0, time.Since(wall0).Seconds()
	// ffmpeg alone: decoding to nothing, one thread, as the hasher runs it.
	cpu0 = cpuSeconds()
	for _, f := range files {
		cmd := exec.CommandContext(ctx, tools.FFmpeg, "-nostdin", "-v", "error", "-threads", "1", "-i", f, "-map", "0:v:0",
			"-fps_mode", "passthrough", "-f", "null", "-")
		if b, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("bench video: decoding %s: %v: %s", f, err, b)
		}
	}
	res.DecodeCPUSeconds = cpuSeconds() - cpu0
	if res.CPUSeconds > 0 && res.WallSeconds > 0 && res.DecodeCPUSeconds > 0 {
		res.VideoSecondsPerCPUSecond = res.VideoSeconds / res.CPUSeconds
		res.FramesPerSecond = float64(res.FramesHashed) / res.WallSeconds
		res.DecodeSecondsPerCPU = res.VideoSeconds / res.DecodeCPUSeconds
		res.RatioToDecode = res.VideoSecondsPerCPUSecond / res.DecodeSecondsPerCPU
	}
	fmt.Fprintf(env.Stdout, "%d videos, %.0f s of video, %d frames hashed (one every %g s)\n",
		res.Files, res.VideoSeconds, res.FramesHashed, res.Interval)
	fmt.Fprintf(env.Stdout, "vPDQ:        %.1f s of video per CPU-second, %.1f frames hashed per second (%.1f CPU-s, %.1f s)\n",
		res.VideoSecondsPerCPUSecond, res.FramesPerSecond, res.CPUSeconds, res.WallSeconds)
	fmt.Fprintf(env.Stdout, "decode only: %.1f s of video per CPU-second (ffmpeg alone); ratio %.2f\n",
		res.DecodeSecondsPerCPU, res.RatioToDecode)
	if *asJSON {
		return writeJSONLine(env.Stdout, res)
	}
	return nil
}

// cpuSeconds is the CPU time, user and system, of this process and of its
// children that have ended.
func cpuSeconds() float64 {
	var self, kids syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &self)
	_ = syscall.Getrusage(syscall.RUSAGE_CHILDREN, &kids)
	tv := func(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }
	return tv(self.Utime) + tv(self.Stime) + tv(kids.Utime) + tv(kids.Stime)
}
