package main

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
)

// lineless is an endless stream of one byte, never a newline.
type lineless struct{ left int64 }

func (l *lineless) Read(p []byte) (int, error) {
	if l.left <= 0 {
		return 0, io.EOF
	}
	n := int(min(int64(len(p)), l.left))
	for i := range p[:n] {
		p[i] = 'h'
	}
	l.left -= int64(n)
	return n, nil
}

// TestBankImportLinelessStdin: `vigil bank import` of a 1 GB line-less
// CSV on standard input gives up early with a short error; before, it
// grew to 19 GB and wrote the whole header to stderr.
func TestBankImportLinelessStdin(t *testing.T) {
	data := t.TempDir()
	run1 := func(stdin io.Reader, args ...string) (string, error) {
		var out, errb bytes.Buffer
		env := &Env{Stdin: stdin, Stdout: &out, Stderr: &errb, Getenv: func(k string) string {
			if k == "VIGIL_DATA" {
				return data
			}
			return ""
		}}
		err := run(context.Background(), env, args)
		return out.String() + errb.String(), err
	}
	if _, err := run1(strings.NewReader(""), "migrate"); err != nil {
		t.Fatal(err)
	}
	if _, err := run1(strings.NewReader(""), "bank", "create", "partner", "--source", "iwf"); err != nil {
		t.Fatal(err)
	}
	for _, format := range []string{"csv", "tsv", "lines", "jsonl"} {
		src := &lineless{left: 1 << 30}
		out, err := run1(src, "bank", "import", "partner", "-", "--format", format, "--type", "md5")
		if err == nil {
			t.Fatalf("%s: a line-less gigabyte was imported", format)
		}
		if msg := out + err.Error(); len(msg) > 1000 {
			t.Errorf("%s: %d bytes of output and error", format, len(msg))
		}
		if read := int64(1<<30) - src.left; read > 8<<20 {
			t.Errorf("%s: read %d MiB before giving up", format, read>>20)
		}
	}
}
