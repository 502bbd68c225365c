package progress

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestLine(t *testing.T) {
	got := Line("hashing", 5, 10, 2*time.Second, 10)
	want := "hashing [=====     ] 5/10  50% eta 2s 2.5/s"
	if got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	if got := Line("", 7, 0, time.Second, 10); got != "7 7.0/s" {
		t.Errorf("unknown total: %q", got)
	}
	if got := Line("x", 12, 10, time.Second, 4); !strings.Contains(got, "[====] 12/10 100%") {
		t.Errorf("over total: %q", got)
	}
}

func TestDisabledWritesNothing(t *testing.T) {
	var buf bytes.Buffer
	b := New(&buf, "x", 10, false)
	b.Add(3)
	b.Clear()
	b.Done()
	if buf.Len() != 0 {
		t.Errorf("wrote %q", buf.String())
	}
}

func TestBarDrawsAndThrottles(t *testing.T) {
	var buf bytes.Buffer
	b := New(&buf, "x", 100, true)
	clock := time.Unix(0, 0)
	b.now = func() time.Time { return clock }
	b.start = clock
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 25; i++ {
				b.Add(1)
			}
		}()
	}
	wg.Wait()
	// The clock never moved past the first draw: one draw only.
	if n := strings.Count(buf.String(), "\r"); n != 1 {
		t.Errorf("%d draws, want 1 (throttled): %q", n, buf.String())
	}
	clock = clock.Add(time.Second)
	b.Done()
	if !strings.Contains(buf.String(), "100/100 100%") || !strings.HasSuffix(buf.String(), "\n") {
		t.Errorf("final line: %q", buf.String())
	}
}
