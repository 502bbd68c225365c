package video

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// memFile returns an anonymous in-memory file holding data, for a child to
// read (and seek) as /dev/fd/N: the bytes never reach a file system.
func memFile(data []byte) (*os.File, error) {
	fd, err := unix.MemfdCreate("vigil-video", unix.MFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("video: memfd: %w", err)
	}
	f := os.NewFile(uintptr(fd), "vigil-video")
	for rest := data; len(rest) > 0; {
		n, err := f.Write(rest)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("video: memfd: %w", err)
		}
		rest = rest[n:]
	}
	if _, err := f.Seek(0, 0); err != nil {
		f.Close()
		return nil, fmt.Errorf("video: memfd: %w", err)
	}
	return f, nil
}
