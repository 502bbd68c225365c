//go:build unix

package main

import "syscall"

// restrictUmask makes every file and folder this process creates its
// owner's only (the SQLite database, its WAL and shared memory, keys,
// blobs, the outbox), whatever the umask it was started with.
func restrictUmask() { syscall.Umask(0o077) }
