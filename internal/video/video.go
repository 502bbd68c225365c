// Package video decodes videos with Debian's ffmpeg, run as a child process
// (no cgo), and hashes them with vPDQ: the PDQ hash of sampled frames, as
// Meta's reference (facebook/ThreatExchange vpdq) computes it.
//
// # How frames are hashed, and why
//
// The reference decodes every frame with libavcodec, converts it with
// libswscale to RGB24 at the video's size (or a requested size) with the
// SWS_AREA filter, takes luma as 0.299R + 0.587G + 0.114B and hashes the
// whole luma plane with pdqHash256FromFloatLuma: unlike the photo CLI, no
// reduction to 512×512 first. Frame n (counted from 0 in decoding order) is
// hashed when n is a multiple of int(interval × frame rate) (at least 1),
// and its timestamp is n divided by the stream's average frame rate. Here
// ffmpeg does the decoding and conversion with the same filter
// (scale=W:H:flags=area to rgb24, frames passed through as decoded, no
// auto-rotation) and pipes raw frames out; Vigil reads them one at a time
// and hashes them with internal/pdq.
//
// # Everything from outside is hostile
//
// A file is probed first (ffprobe) and refused before decoding when its
// header declares more than the limits allow: bytes, duration, resolution,
// streams. ffmpeg then runs in its own process group under a CPU-time and
// an address-space limit (rlimits, set by /bin/sh's ulimit before exec),
// and the whole group is killed when the wall-clock limit passes or the
// caller gives up. Every failure is an *Error with a Reason that callers
// record.
//
// Media never touch the disk in plain form: bytes are handed to ffmpeg in
// an anonymous memory file (memfd on Linux), or on a pipe.
package video

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"time"
)

// Reason says why a video was not hashed. The values are stored.
type Reason string

const (
	ReasonNoFFmpeg   Reason = "no_ffmpeg"   // ffmpeg or ffprobe is not installed
	ReasonTooLarge   Reason = "too_large"   // more bytes than MaxBytes
	ReasonTooLong    Reason = "too_long"    // declared or decoded duration over MaxDuration
	ReasonResolution Reason = "resolution"  // frame size over MaxPixels
	ReasonStreams    Reason = "streams"     // more streams than MaxStreams
	ReasonMalformed  Reason = "malformed"   // not a video ffprobe or ffmpeg can read
	ReasonNoVideo    Reason = "no_video"    // no video stream
	ReasonNoFrames   Reason = "no_frames"   // a video stream without a frame
	ReasonTimeout    Reason = "timeout"     // the wall-clock limit passed
	ReasonCPU        Reason = "cpu_limit"   // ffmpeg used its CPU time
	ReasonMemory     Reason = "memory"      // ffmpeg hit its memory limit
	ReasonTooMany    Reason = "many_frames" // more frames than MaxFrames
	ReasonCanceled   Reason = "canceled"    // the caller gave up
)

// Error is a video that could not be hashed, with its reason.
type Error struct {
	Reason Reason
	Detail string
	Err    error
}

func (e *Error) Error() string {
	s := "video: " + string(e.Reason)
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// ReasonOf returns the reason of an *Error in err's chain, or "".
func ReasonOf(err error) Reason {
	var e *Error
	if errors.As(err, &e) {
		return e.Reason
	}
	return ""
}

func fail(r Reason, format string, args ...any) *Error {
	return &Error{Reason: r, Detail: fmt.Sprintf(format, args...)}
}

// Default limits: a hotline's videos are minutes to an hour or two long, at
// most 4K; beyond that a human decides.
const (
	DefaultMaxBytes    = 1 << 30
	DefaultMaxDuration = 3 * time.Hour
	DefaultMaxPixels   = 3840 * 2160
	DefaultMaxStreams  = 16
	DefaultMaxFrames   = 200_000
	DefaultTimeout     = 10 * time.Minute
	DefaultCPUSeconds  = 600
	DefaultMemory      = 3 << 30
	// DefaultInterval is vPDQ's usual sampling: one frame a second.
	DefaultInterval = 1.0
)

// Limits bound the work one video may cost. Zero fields take the defaults.
type Limits struct {
	MaxBytes    int64
	MaxDuration time.Duration
	// MaxPixels bounds width × height of the frames as declared.
	MaxPixels  int64
	MaxStreams int
	// MaxFrames bounds the frames hashed.
	MaxFrames int
	// Timeout bounds the wall-clock time of probing and decoding.
	Timeout time.Duration
	// CPUSeconds and MemoryBytes are ffmpeg's rlimits (RLIMIT_CPU,
	// RLIMIT_AS).
	CPUSeconds  int
	MemoryBytes int64
}

func (l Limits) withDefaults() Limits {
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultMaxBytes
	}
	if l.MaxDuration <= 0 {
		l.MaxDuration = DefaultMaxDuration
	}
	if l.MaxPixels <= 0 {
		l.MaxPixels = DefaultMaxPixels
	}
	if l.MaxStreams <= 0 {
		l.MaxStreams = DefaultMaxStreams
	}
	if l.MaxFrames <= 0 {
		l.MaxFrames = DefaultMaxFrames
	}
	if l.Timeout <= 0 {
		l.Timeout = DefaultTimeout
	}
	if l.CPUSeconds <= 0 {
		l.CPUSeconds = DefaultCPUSeconds
	}
	if l.MemoryBytes <= 0 {
		l.MemoryBytes = DefaultMemory
	}
	return l
}

// Tools are the paths of ffmpeg and ffprobe.
type Tools struct {
	FFmpeg, FFprobe string
}

// ErrNoFFmpeg is returned by Find when ffmpeg or ffprobe is missing.
var ErrNoFFmpeg = &Error{Reason: ReasonNoFFmpeg, Detail: "ffmpeg and ffprobe are needed to hash videos (Debian package ffmpeg); videos are matched by their digests only"}

// Find looks ffmpeg and ffprobe up in PATH.
func Find() (Tools, error) {
	ff, err1 := exec.LookPath("ffmpeg")
	fp, err2 := exec.LookPath("ffprobe")
	if err1 != nil || err2 != nil {
		return Tools{}, ErrNoFFmpeg
	}
	return Tools{FFmpeg: ff, FFprobe: fp}, nil
}

// Options configure a Hasher.
type Options struct {
	// Interval is the time in seconds between hashed frames; 0 hashes
	// every frame. Callers pass DefaultInterval for the usual vPDQ.
	Interval float64
	// Width and Height, when both set, are the size frames are scaled to
	// before hashing (the reference's downsample option); otherwise the
	// video's own size.
	Width, Height int
	// Threads is ffmpeg's decoding threads; 0 means 1, as the worker
	// bounds concurrency across videos.
	Threads int
	Limits  Limits
}

// Version returns ffmpeg's first version line ("ffmpeg version 5.1.6-0+deb12u1 …"),
// shortened, or "ffmpeg (version unknown)".
func Version(ctx context.Context, t Tools) string {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, t.FFmpeg, "-hide_banner", "-version").Output()
	if err != nil {
		return "ffmpeg (version unknown)"
	}
	line, _, _ := strings.Cut(string(out), "\n")
	f := strings.Fields(line)
	if len(f) >= 3 && f[1] == "version" {
		return "ffmpeg " + f[2]
	}
	return "ffmpeg (version unknown)"
}
