package video

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// y4m returns a YUV4MPEG2 header for w×h at 25 frames a second.
func y4m(w, h int) string {
	return fmt.Sprintf("YUV4MPEG2 W%d H%d F25:1 Ip A1:1 C420jpeg\n", w, h)
}

// endlessY4M is a valid 16×16 stream that never ends.
type endlessY4M struct {
	head bool
	buf  []byte
}

func (e *endlessY4M) Read(p []byte) (int, error) {
	if len(e.buf) == 0 {
		if !e.head {
			e.buf = append(e.buf, y4m(16, 16)...)
			e.head = true
		}
		e.buf = append(e.buf, "FRAME\n"...)
		e.buf = append(e.buf, bytes.Repeat([]byte{128}, 16*16*3/2)...)
	}
	n := copy(p, e.buf)
	e.buf = e.buf[n:]
	return n, nil
}

// stalled sends a header and then nothing, forever (until the test ends).
type stalled struct {
	sent bool
	done chan struct{}
}

func (s *stalled) Read(p []byte) (int, error) {
	if !s.sent {
		s.sent = true
		return copy(p, y4m(16, 16)+"FRAME\n"), nil
	}
	<-s.done
	return 0, io.EOF
}

func zipBytes(t *testing.T) []byte {
	var b bytes.Buffer
	z := zip.NewWriter(&b)
	w, _ := z.Create("movie.mp4")
	w.Write(bytes.Repeat([]byte("not a movie "), 1000))
	z.Close()
	return b.Bytes()
}

// TestHostileVideos: every hostile input ends within its limit with its
// reason, and leaves no process behind.
func TestHostileVideos(t *testing.T) {
	tools := needTools(t)
	good := generate(t, "good.mp4", "-f", "lavfi", "-i", "testsrc2=s=64x48:r=10:d=2", "-c:v", "libx264")
	goodBytes, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	black := generate(t, "black.mp4", "-f", "lavfi", "-i", "color=black:s=32x32:r=1/60:d=18000", "-c:v", "libx264")
	empty := generate(t, "empty.mp4", "-f", "lavfi", "-i", "testsrc2=s=64x48:r=10:d=1", "-frames:v", "0", "-c:v", "libx264")
	twoStreams := generate(t, "two.mkv", "-f", "lavfi", "-i", "testsrc2=s=64x48:r=10:d=1", "-f", "lavfi", "-i", "sine=d=1",
		"-c:v", "libx264", "-c:a", "flac")
	done := make(chan struct{})
	defer close(done)

	for _, tc := range []struct {
		name   string
		in     Input
		limits Limits
		want   Reason
	}{
		{"truncated", Input{Data: goodBytes[:len(goodBytes)/2]}, Limits{}, ReasonMalformed},
		{"empty file", Input{Data: []byte{}}, Limits{}, ReasonMalformed},
		{"zero-length stream", Input{Path: empty}, Limits{}, ReasonNoVideo},
		{"video stream without frames", Input{Data: []byte(y4m(16, 16))}, Limits{}, ReasonNoFrames},
		{"10000x10000 header", Input{Data: []byte(y4m(10000, 10000) + "FRAME\n" + strings.Repeat("\x80", 4096))}, Limits{}, ReasonResolution},
		{"100000x100000 header", Input{Data: []byte(y4m(100000, 100000) + "FRAME\n" + strings.Repeat("\x80", 4096))}, Limits{}, ReasonResolution},
		{"zip pretending to be video", Input{Data: zipBytes(t)}, Limits{}, ReasonMalformed},
		{"hours of black frames", Input{Path: black}, Limits{}, ReasonTooLong},
		{"endless pipe", Input{Stream: &endlessY4M{}}, Limits{MaxDuration: 4 * time.Second}, ReasonTooLong},
		{"endless pipe over bytes", Input{Stream: &endlessY4M{}}, Limits{MaxBytes: 1 << 20}, ReasonTooLarge},
		{"stalled pipe", Input{Stream: &stalled{done: done}}, Limits{Timeout: time.Second}, ReasonTimeout},
		{"over the byte limit", Input{Data: goodBytes}, Limits{MaxBytes: 100}, ReasonTooLarge},
		{"over the pixel limit", Input{Path: good}, Limits{MaxPixels: 64*48 - 1}, ReasonResolution},
		{"two streams, limit one", Input{Path: twoStreams}, Limits{MaxStreams: 1}, ReasonStreams},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex
			var pids []int
			h := New(tools, Options{Interval: 0, Limits: tc.limits})
			h.started = func(pid int) { mu.Lock(); pids = append(pids, pid); mu.Unlock() }
			limit := h.opts.Limits.Timeout
			start := time.Now()
			_, err := h.Hash(context.Background(), tc.in)
			if r := ReasonOf(err); r != tc.want {
				t.Errorf("reason %q (%v), want %q", r, err, tc.want)
			}
			// Generous: the limit plus the kill's grace, on busy machines.
			if took := time.Since(start); took > limit+10*time.Second {
				t.Errorf("took %s, limit %s", took, limit)
			}
			mu.Lock()
			defer mu.Unlock()
			for _, pid := range pids {
				if left := groupMembers(pid); len(left) > 0 {
					t.Errorf("processes of child %d left behind: %v", pid, left)
				}
			}
			if kids := children(os.Getpid()); len(kids) > 0 {
				t.Errorf("child processes left: %v", kids)
			}
		})
	}
}

// procStat reads a process's parent and process group from /proc.
func procStat(pid string) (ppid, pgid int, ok bool) {
	b, err := os.ReadFile(filepath.Join("/proc", pid, "stat"))
	if err != nil {
		return 0, 0, false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, 0, false
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 3 {
		return 0, 0, false
	}
	ppid, _ = strconv.Atoi(f[1])
	pgid, _ = strconv.Atoi(f[2])
	return ppid, pgid, true
}

func eachProc(fn func(pid string, ppid, pgid int)) {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return
	}
	for _, e := range ents {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		if ppid, pgid, ok := procStat(e.Name()); ok {
			fn(e.Name(), ppid, pgid)
		}
	}
}

func groupMembers(pgid int) []string {
	var out []string
	eachProc(func(pid string, _, g int) {
		if g == pgid {
			out = append(out, pid)
		}
	})
	return out
}

func children(parent int) []string {
	var out []string
	eachProc(func(pid string, ppid, _ int) {
		if ppid == parent {
			out = append(out, pid)
		}
	})
	return out
}
