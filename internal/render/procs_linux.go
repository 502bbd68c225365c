package render

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// tree returns pid and its descendants, from /proc.
func tree(pid int) []int {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return []int{pid}
	}
	children := map[int][]int{}
	for _, e := range ents {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid …; comm may hold spaces and parentheses.
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(s[i+1:])
		if len(f) < 2 {
			continue
		}
		ppid, _ := strconv.Atoi(f[1])
		children[ppid] = append(children[ppid], p)
	}
	out := []int{pid}
	for i := 0; i < len(out) && i < 4096; i++ {
		out = append(out, children[out[i]]...)
	}
	return out
}

// memory returns the proportional set size of the processes: resident
// memory with what they share divided among them (Chromium's processes share
// much, and summing their RSS would count it many times); RSS where
// smaps_rollup is not readable.
func memory(pids []int) int64 {
	var total int64
	for _, p := range pids {
		if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps_rollup", p)); err == nil {
			for _, line := range strings.Split(string(b), "\n") {
				if v, ok := strings.CutPrefix(line, "Pss:"); ok {
					kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
					total += kb << 10
					break
				}
			}
			continue
		}
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/statm", p))
		if err != nil {
			continue
		}
		f := strings.Fields(string(b))
		if len(f) < 2 {
			continue
		}
		n, _ := strconv.ParseInt(f[1], 10, 64)
		total += n * int64(os.Getpagesize())
	}
	return total
}

// watchMemory calls over once the browser's processes together hold more
// than limit bytes; stop ends the watch and returns the peak seen.
func watchMemory(pid int, limit int64, over func(why string)) (stop func() int64) {
	if pid <= 0 {
		return func() int64 { return 0 }
	}
	done := make(chan struct{})
	var peak atomic.Int64
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			n := memory(tree(pid))
			if n > peak.Load() {
				peak.Store(n)
			}
			if n > limit {
				over(fmt.Sprintf("memory: the browser held %d bytes, limit %d", n, limit))
				killTree(pid)
				return
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() int64 {
		close(done)
		<-finished
		return peak.Load()
	}
}

// killTree kills the browser's process group and any descendant that left
// it. ESRCH (gone already) is what is wanted.
func killTree(pid int) {
	if pid <= 0 {
		return
	}
	for _, p := range tree(pid) {
		_ = syscall.Kill(p, syscall.SIGKILL)
	}
	_ = syscall.Kill(-pid, syscall.SIGKILL)
}

// procAttr puts the browser in a process group of its own (killed whole
// after) and has the kernel kill it if Vigil dies first.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
