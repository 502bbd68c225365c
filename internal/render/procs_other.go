//go:build !linux

package render

import "syscall"

// Without /proc there is no memory watch: the time limit and the kill of
// the process group remain.
func watchMemory(int, int64, func(string)) func() int64 { return func() int64 { return 0 } }

func killTree(pid int) {
	if pid > 0 {
		_ = syscall.Kill(-pid, syscall.SIGKILL)
	}
}

func procAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }
