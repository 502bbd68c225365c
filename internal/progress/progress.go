// Package progress draws a one-line progress bar on a terminal, for long
// jobs such as hashing a folder or importing a hash bank. It has no
// dependencies and is safe for concurrent use: workers call Add, and the bar
// redraws at most a few times a second.
//
// A Bar writes only when told that its writer is a terminal (the caller
// knows: see Env.IsTerminal in cmd/vigil), so piped output and logs stay
// clean; with enabled false every method is a cheap no-op.
package progress

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// Bar is a progress bar. The zero value is not usable; call New.
type Bar struct {
	mu      sync.Mutex
	w       io.Writer
	label   string
	total   int64 // 0: unknown, show a count only
	done    int64
	start   time.Time
	last    time.Time
	every   time.Duration
	width   int
	enabled bool
	drawn   bool
	now     func() time.Time
}

// New returns a bar for total items (0 if unknown) that draws to w when
// enabled is true. label prefixes the line.
func New(w io.Writer, label string, total int64, enabled bool) *Bar {
	return &Bar{w: w, label: label, total: total, enabled: enabled,
		width: 30, every: 100 * time.Millisecond, now: time.Now, start: time.Now()}
}

// SetTotal changes the total, for when it becomes known while working.
func (b *Bar) SetTotal(total int64) {
	if !b.enabled {
		return
	}
	b.mu.Lock()
	b.total = total
	b.mu.Unlock()
}

// Add records n more items done and redraws if enough time has passed.
func (b *Bar) Add(n int64) {
	if !b.enabled {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.done += n
	if t := b.now(); t.Sub(b.last) >= b.every {
		b.last = t
		b.draw()
	}
}

// Done draws the final state and ends the line.
func (b *Bar) Done() {
	if !b.enabled {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.draw()
	fmt.Fprintln(b.w)
	b.enabled = false
}

// Clear erases the bar, so that other output can be written on its line.
func (b *Bar) Clear() {
	if !b.enabled {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.drawn {
		fmt.Fprint(b.w, "\r\033[K")
		b.drawn = false
	}
}

// Line returns the text of the bar for done of total items after elapsed.
func Line(label string, done, total int64, elapsed time.Duration, width int) string {
	var s strings.Builder
	if label != "" {
		s.WriteString(label)
		s.WriteByte(' ')
	}
	rate := 0.0
	if sec := elapsed.Seconds(); sec > 0 {
		rate = float64(done) / sec
	}
	if total > 0 {
		f := float64(done) / float64(total)
		if f > 1 {
			f = 1
		}
		fill := int(f * float64(width))
		s.WriteByte('[')
		s.WriteString(strings.Repeat("=", fill))
		s.WriteString(strings.Repeat(" ", width-fill))
		fmt.Fprintf(&s, "] %d/%d %3.0f%%", done, total, f*100)
		if rate > 0 && done < total {
			eta := time.Duration(float64(total-done) / rate * float64(time.Second))
			fmt.Fprintf(&s, " eta %s", eta.Round(time.Second))
		}
	} else {
		fmt.Fprintf(&s, "%d", done)
	}
	fmt.Fprintf(&s, " %.1f/s", rate)
	return s.String()
}

func (b *Bar) draw() {
	// \r returns to the line start and \033[K clears what a longer line left.
	fmt.Fprint(b.w, "\r"+Line(b.label, b.done, b.total, b.now().Sub(b.start), b.width)+"\033[K")
	b.drawn = true
}
