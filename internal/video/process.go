package video

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Input is what is decoded: exactly one of Path, Data and Stream.
type Input struct {
	// Path is a file on disk (`vigil hash`).
	Path string
	// Data is a whole file in memory (the crawler's media, decrypted from
	// the blob store); it reaches ffmpeg through an anonymous memory file,
	// never the disk.
	Data []byte
	// Stream is a video that can only be read once, front to back (a
	// pipe). Its head is probed, then it is decoded as it comes, within
	// MaxBytes, MaxDuration and the time limit.
	Stream io.Reader
}

// probeHead is how much of a stream is read to probe it.
const probeHead = 4 << 20

// source is an Input made ready for one child process.
type source struct {
	arg    string     // ffmpeg's input argument
	files  []*os.File // ExtraFiles (fd 3 …)
	stdin  io.Reader
	closer func()
}

// open prepares in for one child. A stream's head (already read into head)
// is replayed before the rest when rest is non-nil.
func (in Input) open(head []byte, rest io.Reader) (*source, error) {
	switch {
	case in.Path != "":
		// "file:" so that a name with a colon is never read as a protocol.
		return &source{arg: "file:" + in.Path, closer: func() {}}, nil
	case in.Data != nil:
		f, err := memFile(in.Data)
		if err != nil {
			// No memory file on this system: a pipe works for formats
			// that need no seeking.
			return &source{arg: "pipe:0", stdin: bytes.NewReader(in.Data), closer: func() {}}, nil
		}
		return &source{arg: "file:/dev/fd/3", files: []*os.File{f}, closer: func() { f.Close() }}, nil
	case in.Stream != nil:
		var r io.Reader = bytes.NewReader(head)
		if rest != nil {
			r = io.MultiReader(r, rest)
		}
		return &source{arg: "pipe:0", stdin: r, closer: func() {}}, nil
	}
	return nil, errors.New("video: empty input")
}

// child is one ffmpeg or ffprobe process in its own process group, under
// rlimits.
type child struct {
	cmd    *exec.Cmd
	stderr *capped
	killed struct {
		sync.Mutex
		reason Reason
	}
}

// limitScript sets the rlimits and execs the program: /bin/sh's ulimit is
// the portable way to set a child's rlimits before it runs (os/exec has no
// hook between fork and exec).
const limitScript = `ulimit -t "$1" && ulimit -v "$2" && shift 2 && exec "$@"`

func (l Limits) command(ctx context.Context, prog string, args []string, src *source) *child {
	all := append([]string{"-c", limitScript, "vigil-video",
		strconv.Itoa(l.CPUSeconds), strconv.FormatInt(l.MemoryBytes/1024, 10), prog}, args...)
	c := &child{stderr: &capped{max: 8 << 10}}
	cmd := exec.CommandContext(ctx, "/bin/sh", all...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		c.kill(ReasonTimeout)
		return nil
	}
	// Give up on the pipes soon after the kill: a grandchild holding them
	// open must not hold the caller.
	cmd.WaitDelay = 2 * time.Second
	cmd.Env = []string{"PATH=/usr/bin:/bin", "AV_LOG_FORCE_NOCOLOR=1"}
	cmd.Stderr = c.stderr
	if src != nil {
		cmd.ExtraFiles = src.files
		if src.stdin != nil {
			cmd.Stdin = src.stdin
		}
	}
	c.cmd = cmd
	return c
}

// kill ends the child's whole process group, remembering why (the first
// reason wins).
func (c *child) kill(r Reason) {
	c.killed.Lock()
	if c.killed.reason == "" {
		c.killed.reason = r
	}
	c.killed.Unlock()
	if p := c.cmd.Process; p != nil {
		// The group: ffmpeg and anything it started. The error is ESRCH
		// when it has ended already, which is what we want.
		_ = syscall.Kill(-p.Pid, syscall.SIGKILL)
	}
}

func (c *child) killReason() Reason {
	c.killed.Lock()
	defer c.killed.Unlock()
	return c.killed.reason
}

// result turns the child's exit into an *Error (nil on success). ctx is the
// caller's: its end is "canceled" unless the time limit passed first.
func (c *child) result(ctx context.Context, waitErr error, what string) error {
	if r := c.killReason(); r != "" {
		if r == ReasonTimeout && !errors.Is(ctx.Err(), context.DeadlineExceeded) && ctx.Err() != nil {
			r = ReasonCanceled
		}
		return &Error{Reason: r, Detail: what + " stopped", Err: ctx.Err()}
	}
	if waitErr == nil {
		return nil
	}
	var ee *exec.ExitError
	if errors.As(waitErr, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			switch ws.Signal() {
			case syscall.SIGXCPU:
				return fail(ReasonCPU, "%s used its CPU time", what)
			case syscall.SIGKILL:
				// RLIMIT_CPU's hard limit, or the kernel's OOM killer.
				return fail(ReasonCPU, "%s was killed", what)
			}
		}
		msg := c.stderr.String()
		if strings.Contains(msg, "Picture size") && strings.Contains(msg, "is invalid") {
			// libavutil refuses frame sizes it cannot address before we
			// see the header: a resolution beyond any limit.
			return &Error{Reason: ReasonResolution, Detail: what + " refused the frame size", Err: errors.New(lastLine(msg))}
		}
		if strings.Contains(msg, "Cannot allocate memory") || strings.Contains(msg, "out of memory") {
			return &Error{Reason: ReasonMemory, Detail: what + " hit its memory limit", Err: errors.New(lastLine(msg))}
		}
		return &Error{Reason: ReasonMalformed, Detail: what + " failed", Err: errors.New(lastLine(msg))}
	}
	return fmt.Errorf("video: running %s: %w", what, waitErr)
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	if s == "" {
		return "no message"
	}
	return s
}

// capped keeps the first max bytes written to it and discards the rest, so
// that a child's chatter cannot grow the parent's memory.
type capped struct {
	mu  sync.Mutex
	max int
	buf bytes.Buffer
}

func (c *capped) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if room := c.max - c.buf.Len(); room > 0 {
		c.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func (c *capped) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.buf.String()
}

// countingReader fails once more than max bytes have been read, so that a
// stream that never ends is cut at the byte limit.
type countingReader struct {
	r   io.Reader
	n   int64
	max int64
	hit func()
}

var errStreamTooLarge = errors.New("video: stream over the byte limit")

func (c *countingReader) Read(p []byte) (int, error) {
	if c.n >= c.max {
		c.hit()
		return 0, errStreamTooLarge
	}
	if int64(len(p)) > c.max-c.n {
		p = p[:c.max-c.n]
	}
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
