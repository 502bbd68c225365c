package video

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/pdq"
)

// Hasher decodes and hashes videos. It is safe for concurrent use; each
// call runs its own ffmpeg.
type Hasher struct {
	tools Tools
	opts  Options
	// started, when set (tests), learns each child's process ID.
	started func(pid int)
}

// New returns a Hasher that runs the given tools.
func New(t Tools, o Options) *Hasher {
	o.Limits = o.Limits.withDefaults()
	if o.Threads <= 0 {
		o.Threads = 1
	}
	if o.Interval < 0 {
		o.Interval = 0
	}
	return &Hasher{tools: t, opts: o}
}

// Frame is one decoded frame, packed RGB24. RGB is reused for the next
// frame once the callback returns.
type Frame struct {
	Number    int
	Timestamp float64
	Width     int
	Height    int
	RGB       []byte
}

// Result is a video's vPDQ hash and what its header said.
type Result struct {
	Info   *Info
	Frames []vigil.VideoFrame
}

// Hash computes the vPDQ hash of in.
func (h *Hasher) Hash(ctx context.Context, in Input) (*Result, error) {
	res := &Result{}
	var luma []float32
	info, err := h.Frames(ctx, in, func(f *Frame) error {
		luma = pdq.LumaFromRGB24(luma, f.RGB, f.Width, f.Height)
		hash, q := pdq.FromLuma(luma, f.Width, f.Height)
		res.Frames = append(res.Frames, vigil.VideoFrame{Frame: f.Number, Quality: q, PDQ: hash.String(), Timestamp: f.Timestamp})
		return nil
	})
	res.Info = info
	if err != nil {
		return res, err
	}
	return res, nil
}

// Probe reads in's header and checks it against the limits without
// decoding.
func (h *Hasher) Probe(ctx context.Context, in Input) (*Info, error) {
	ctx, cancel := context.WithTimeout(ctx, h.opts.Limits.Timeout)
	defer cancel()
	head, _, err := h.head(ctx, in)
	if err != nil {
		return nil, err
	}
	src, err := in.open(head, nil)
	if err != nil {
		return nil, err
	}
	defer src.closer()
	return h.probe(ctx, src)
}

// head checks the byte limit and, for a stream, reads the part that is
// probed.
func (h *Hasher) head(ctx context.Context, in Input) ([]byte, int64, error) {
	l := h.opts.Limits
	switch {
	case in.Data != nil:
		if int64(len(in.Data)) > l.MaxBytes {
			return nil, 0, fail(ReasonTooLarge, "%d bytes, limit %d", len(in.Data), l.MaxBytes)
		}
		if len(in.Data) == 0 {
			return nil, 0, fail(ReasonMalformed, "empty file")
		}
	case in.Stream != nil:
		// Read in the background: a stream that stalls must not hold the
		// caller past the time limit. (The read itself ends when the
		// stream's writer gives up.)
		type result struct {
			n   int
			err error
		}
		head := make([]byte, min(probeHead, l.MaxBytes))
		got := make(chan result, 1)
		go func() {
			n, err := io.ReadFull(in.Stream, head)
			got <- result{n, err}
		}()
		var r result
		select {
		case r = <-got:
		case <-ctx.Done():
			return nil, 0, &Error{Reason: ReasonTimeout, Detail: "reading the stream's head", Err: ctx.Err()}
		}
		if r.err != nil && !errors.Is(r.err, io.ErrUnexpectedEOF) && !errors.Is(r.err, io.EOF) {
			return nil, 0, fmt.Errorf("video: reading: %w", r.err)
		}
		if r.n == 0 {
			return nil, 0, fail(ReasonMalformed, "empty stream")
		}
		return head[:r.n], int64(r.n), nil
	}
	return nil, 0, nil
}

// Frames decodes in and calls fn with each sampled frame in order: the
// frames that vPDQ hashes with h's interval and size. It stops at fn's
// first error and returns it.
func (h *Hasher) Frames(ctx context.Context, in Input, fn func(*Frame) error) (*Info, error) {
	if h.tools.FFmpeg == "" || h.tools.FFprobe == "" {
		return nil, ErrNoFFmpeg
	}
	l := h.opts.Limits
	ctx, cancel := context.WithTimeout(ctx, l.Timeout)
	defer cancel()
	head, headLen, err := h.head(ctx, in)
	if err != nil {
		return nil, err
	}
	src, err := in.open(head, nil)
	if err != nil {
		return nil, err
	}
	info, err := h.probe(ctx, src)
	src.closer()
	if err != nil {
		return info, err
	}

	var c *child
	var rest io.Reader
	if in.Stream != nil {
		rest = &countingReader{r: in.Stream, n: headLen, max: l.MaxBytes, hit: func() { c.kill(ReasonTooLarge) }}
	}
	if src, err = in.open(head, rest); err != nil {
		return info, err
	}
	defer src.closer()

	w, ht := info.Width, info.Height
	if h.opts.Width > 0 && h.opts.Height > 0 {
		w, ht = h.opts.Width, h.opts.Height
	}
	if int64(w)*int64(ht) > l.MaxPixels {
		return info, fail(ReasonResolution, "%d×%d pixels, limit %d", w, ht, l.MaxPixels)
	}
	// The reference's sampling: frame n is hashed when n is a multiple of
	// int(interval × frame rate), at least 1.
	every := max(1, int(h.opts.Interval*info.FrameRate))
	filter := fmt.Sprintf("scale=%d:%d:flags=%s,format=rgb24", w, ht, scaleFlags)
	if every > 1 {
		// Drop unsampled frames before the conversion: decoding is then
		// ffmpeg's only cost for them.
		filter = fmt.Sprintf("select='not(mod(n\\,%d))',", every) + filter
	}
	threads := strconv.Itoa(h.opts.Threads)
	args := []string{"-nostdin", "-hide_banner", "-cpuflags", cpuFlags, "-v", "error", "-noautorotate",
		"-threads", threads, "-i", src.arg,
		"-map", "0:v:0", "-an", "-sn", "-dn", "-fps_mode", "passthrough",
		"-filter_threads", "1", "-vf", filter, "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"}
	c = l.command(ctx, h.tools.FFmpeg, args, src)
	stdout, err := c.cmd.StdoutPipe()
	if err != nil {
		return info, fmt.Errorf("video: %w", err)
	}
	if err := c.cmd.Start(); err != nil {
		return info, fmt.Errorf("video: starting ffmpeg: %w", err)
	}
	if h.started != nil {
		h.started(c.cmd.Process.Pid)
	}
	ferr := h.readFrames(bufio.NewReaderSize(stdout, 1<<16), info, w, ht, every, c, fn)
	ended := ReasonOf(ferr) == ReasonNoFrames || ReasonOf(ferr) == ReasonMalformed // ffmpeg's output ended
	if ferr != nil && !ended {
		c.kill(ReasonCanceled) // stop decoding; the reason is ferr's
	}
	werr := c.cmd.Wait()
	if r := c.killReason(); r != "" && r != ReasonCanceled {
		return info, c.result(ctx, werr, "ffmpeg")
	}
	if ferr != nil {
		// No frame, or a cut frame, because ffmpeg failed: its reason.
		if ended {
			if rerr := c.result(ctx, werr, "ffmpeg"); rerr != nil {
				return info, rerr
			}
		}
		return info, ferr
	}
	if err := c.result(ctx, werr, "ffmpeg"); err != nil {
		return info, err
	}
	return info, nil
}

// readFrames reads raw frames until ffmpeg's output ends.
func (h *Hasher) readFrames(r io.Reader, info *Info, w, ht, every int, c *child, fn func(*Frame) error) error {
	l := h.opts.Limits
	f := &Frame{Width: w, Height: ht, RGB: make([]byte, 3*w*ht)}
	fps := float32(info.FrameRate)
	for k := 0; ; k++ {
		if _, err := io.ReadFull(r, f.RGB); err != nil {
			if errors.Is(err, io.EOF) {
				if k == 0 {
					return fail(ReasonNoFrames, "the video stream has no frame")
				}
				return nil
			}
			if errors.Is(err, io.ErrUnexpectedEOF) {
				return fail(ReasonMalformed, "ffmpeg's output ended inside a frame")
			}
			return fmt.Errorf("video: reading frames: %w", err)
		}
		if k >= l.MaxFrames {
			c.kill(ReasonTooMany)
			return fail(ReasonTooMany, "more than %d frames", l.MaxFrames)
		}
		f.Number = k * every
		// As the reference: frame number over frame rate, in float32.
		f.Timestamp = float64(float32(f.Number) / fps)
		if f.Timestamp > l.MaxDuration.Seconds() {
			c.kill(ReasonTooLong)
			return fail(ReasonTooLong, "decoded past %s", l.MaxDuration)
		}
		if err := fn(f); err != nil {
			return err
		}
	}
}

// scaleFlags is the scaler of frames hashed at a size other than the
// video's own: the reference's hash lists at a reduced size (such as the
// conformance corpus's 128×128 one) were made with SWS_LANCZOS, and match
// bit for bit with it. At the video's own size no scaling happens and the
// flag does not matter.
const scaleFlags = "lanczos"

// cpuFlags keeps ffmpeg 5.1's MMXEXT YUV→RGB converter out: it rounds
// differently from libswscale's C converter, which the reference's lists
// agree with (newer ffmpeg releases dropped that MMX code), and moves dark
// frames by up to 76 bits. SSE2 keeps decoding fast.
const cpuFlags = "-all+mmx+sse+sse2"
