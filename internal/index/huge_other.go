//go:build !linux

package index

import "unsafe"

func adviseHuge(p unsafe.Pointer, size uintptr) {}
