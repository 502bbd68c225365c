package index

import (
	"syscall"
	"unsafe"
)

// adviseHuge asks the kernel to back a large array with 2 MiB pages
// (transparent huge pages in "madvise" mode). Probes hit random places in
// arrays of hundreds of megabytes, so with 4 KiB pages nearly every access
// also misses the TLB. The memory stays in the Go heap; this only changes
// how the kernel maps it, and failure is harmless.
func adviseHuge(p unsafe.Pointer, size uintptr) {
	const huge = 2 << 20
	if size < 2*huge {
		return
	}
	addr := uintptr(p)
	skip := (huge - addr%huge) % huge
	length := (size - skip) &^ (huge - 1)
	if skip >= size || length == 0 {
		return
	}
	_ = syscall.Madvise(unsafe.Slice((*byte)(unsafe.Add(p, skip)), length), 14 /* MADV_HUGEPAGE */)
}
