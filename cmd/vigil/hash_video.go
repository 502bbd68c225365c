package main

import (
	"context"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/crawl"
	"github.com/vigil-hotline/vigil/internal/video"
)

// videoFlags are the video options of `vigil hash`.
type videoFlags struct {
	interval float64
	size     string
}

// hasher returns the video hasher, or nil (with the reason) without
// ffmpeg: videos then get their digests only.
func (v videoFlags) hasher() (*video.Hasher, error) {
	tools, err := video.Find()
	if err != nil {
		return nil, err
	}
	w, h, err := parseVideoSize(v.size)
	if err != nil {
		return nil, err
	}
	return video.New(tools, video.Options{Interval: v.interval, Width: w, Height: h, Threads: 1}), nil
}

// parseVideoSize reads WxH ("" is the video's own size).
func parseVideoSize(s string) (int, int, error) {
	if s == "" {
		return 0, 0, nil
	}
	a, b, ok := strings.Cut(strings.ToLower(s), "x")
	w, err1 := strconv.Atoi(a)
	h, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || w < 5 || h < 5 || w > 4096 || h > 4096 {
		return 0, 0, fmt.Errorf("--video-size is WIDTHxHEIGHT between 5 and 4096, not %q", s)
	}
	return w, h, nil
}

// isVideoFile sniffs a file's leading bytes.
func isVideoFile(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	head := make([]byte, 512)
	n, _ := io.ReadFull(f, head)
	_, class := crawl.Sniff(head[:n])
	return class == crawl.ClassVideo
}

// videoResult is what `vigil hash` learns of a video.
type videoResult struct {
	md5, sha1, sha256 string
	frames            []vigil.VideoFrame
	info              *video.Info
}

// hashVideoFile digests a video and, with a hasher, computes its vPDQ.
func hashVideoFile(ctx context.Context, h *video.Hasher, noHasher error, path string) (*videoResult, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	m, s1, s2 := md5.New(), sha1.New(), sha256.New()
	if _, err := io.Copy(io.MultiWriter(m, s1, s2), f); err != nil {
		return nil, fmt.Errorf("reading: %w", err)
	}
	r := &videoResult{md5: hex.EncodeToString(m.Sum(nil)), sha1: hex.EncodeToString(s1.Sum(nil)),
		sha256: hex.EncodeToString(s2.Sum(nil))}
	if h == nil {
		return r, noHasher
	}
	res, err := h.Hash(ctx, video.Input{Path: path})
	if res != nil {
		r.frames, r.info = res.Frames, res.Info
	}
	return r, err
}

// writeVideoLine prints a video's line: JSON, or the reference's frame
// lines.
func writeVideoLine(env *Env, format string, d hashDone) error {
	v := d.video
	if format == "reference" {
		if d.err != nil {
			fmt.Fprintf(env.Stderr, "vigil hash: %s: %v\n", d.path, d.err)
			return nil
		}
		_, err := io.WriteString(env.Stdout, vigil.FormatVideoFrames(v.frames))
		return err
	}
	line := hashLine{Path: d.path, MD5: v.md5, SHA1: v.sha1, SHA256: v.sha256, Format: "video"}
	if v.info != nil {
		line.Format, line.Width, line.Height, line.Duration = v.info.Format, v.info.Width, v.info.Height, v.info.Duration
	}
	if d.err != nil {
		line.Error = d.err.Error()
	} else {
		line.VPDQ = v.frames
	}
	return writeJSONLine(env.Stdout, line)
}

// videoSupport says, in one line, whether this machine hashes videos: for
// `vigil version` and the workers' start-up log.
func videoSupport(ctx context.Context) (string, bool) {
	tools, err := video.Find()
	if err != nil {
		return "video: ffmpeg not found: videos are matched by their digests only (install Debian's ffmpeg package for vPDQ)", false
	}
	return "video: vPDQ with " + video.Version(ctx, tools), true
}

// videoWorkerConfig is the workers' video configuration.
type videoWorkerConfig struct {
	Interval    float64
	Hashers     int
	MaxDuration time.Duration
	Timeout     time.Duration
}

func (c *videoWorkerConfig) flags(fs *flag.FlagSet) {
	fs.Float64Var(&c.Interval, "video-interval", video.DefaultInterval, "seconds between the video frames hashed with vPDQ (0: every frame)")
	fs.IntVar(&c.Hashers, "video-hashers", max(1, runtime.NumCPU()/2), "videos decoded at once (each runs one ffmpeg)")
	fs.DurationVar(&c.MaxDuration, "video-max-duration", video.DefaultMaxDuration, "longer videos go to an analyst unhashed")
	fs.DurationVar(&c.Timeout, "video-timeout", 0, "time one video may take to hash (default: 3/5 of --rescue-after)")
}

// hasher returns the workers' video hasher, or nil without ffmpeg (said
// once in the log: videos are then matched by their digests).
func (c *videoWorkerConfig) hasher(ctx context.Context, env *Env, rescueAfter time.Duration) (*video.Hasher, error) {
	if c.Interval < 0 {
		return nil, fmt.Errorf("--video-interval is 0 (every frame) or more seconds")
	}
	tools, err := video.Find()
	if err != nil {
		line, _ := videoSupport(ctx)
		env.Logger.Warn(line)
		return nil, nil
	}
	timeout := c.Timeout
	if timeout <= 0 {
		// Within the job's own time limit, so that a slow video ends
		// with its reason rather than as a lost job.
		timeout = max(30*time.Second, rescueAfter*3/5)
	}
	return video.New(tools, video.Options{Interval: c.Interval, Threads: 1,
		Limits: video.Limits{MaxDuration: c.MaxDuration, Timeout: timeout}}), nil
}

// lookupHasher returns the scanning API's video hasher, or nil without
// ffmpeg (videos are then looked up by their digests). A lookup is
// answered while the client waits, within the server's 120 s write
// timeout: a video that takes longer to hash is refused with its reason.
func (c *videoWorkerConfig) lookupHasher() *video.Hasher {
	tools, err := video.Find()
	if err != nil || c.Interval < 0 {
		return nil
	}
	return video.New(tools, video.Options{Interval: c.Interval, Threads: 1,
		Limits: video.Limits{MaxDuration: c.MaxDuration, Timeout: lookupVideoTimeout, CPUSeconds: int(lookupVideoTimeout.Seconds())}})
}

// lookupVideoTimeout bounds the hashing of one uploaded video.
const lookupVideoTimeout = 90 * time.Second
