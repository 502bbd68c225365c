//go:build !linux

package video

import (
	"errors"
	"os"
)

// memFile is Linux-only; elsewhere bytes go to ffmpeg on a pipe.
func memFile([]byte) (*os.File, error) {
	return nil, errors.New("video: no memory files on this system")
}
