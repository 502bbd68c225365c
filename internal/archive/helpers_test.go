package archive_test

import (
	"bytes"
	"compress/gzip"
	"io"
)

func gzipWriter(buf *bytes.Buffer) io.WriteCloser { return gzip.NewWriter(buf) }
