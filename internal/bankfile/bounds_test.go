package bankfile

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/testrig"
)

// endless yields n bytes of one character and no newline, without holding
// them: a 1 GB line-less file that never touches the disk.
type endless struct {
	left int64
	read atomic.Int64
}

func (e *endless) Read(p []byte) (int, error) {
	if e.left <= 0 {
		return 0, io.EOF
	}
	n := int(min(int64(len(p)), e.left))
	for i := range p[:n] {
		p[i] = 'a'
	}
	e.left -= int64(n)
	e.read.Add(int64(n))
	return n, nil
}

type nopAdder struct{}

func (nopAdder) AddBankEntries(_ context.Context, _ int64, es []*vigil.BankEntry) (int, error) {
	return len(es), nil
}

// TestImportLineLessGigabyte: a 1 GB file without a newline stays far
// under 256 MiB, stops after reading a little of it, and says so in a
// short error, in every format. (Before, CSV grew to 19 GB and printed
// the whole header.)
func TestImportLineLessGigabyte(t *testing.T) {
	for _, f := range []Format{CSV, TSV, Lines, JSONL} {
		t.Run(string(f), func(t *testing.T) {
			src := &endless{left: 1 << 30}
			runtime.GC()
			stop := testrig.HeapPeak()
			_, err := Import(context.Background(), nopAdder{}, 1, src, ImportOptions{
				Options: Options{Format: f, Type: vigil.SignalMD5}, Strict: true})
			peak := stop()
			if err == nil {
				t.Fatal("a line-less gigabyte was imported")
			}
			if len(err.Error()) > 300 {
				t.Errorf("error of %d bytes: %.300s…", len(err.Error()), err)
			}
			if peak > 256<<20 {
				t.Errorf("heap peaked at %d MiB, want under 256 MiB", peak>>20)
			}
			if n := src.read.Load(); n > 8<<20 {
				t.Errorf("read %d MiB before giving up, want a few at most", n>>20)
			}
			t.Logf("%s: %v (heap peak %d MiB, read %d KiB)", f, err, peak>>20, src.read.Load()>>10)
		})
	}
}

// A CSV or TSV line over MaxLineBytes is a bad line and the reader goes on
// with the next one; a record whose quote never ends stops the file.
func TestCSVLongLines(t *testing.T) {
	long := strings.Repeat("x", MaxLineBytes+10)
	for _, sep := range []string{",", "\t"} {
		f := CSV
		if sep == "\t" {
			f = TSV
		}
		src := "hash" + sep + "type\n" +
			md5A + sep + "md5\n" +
			long + sep + "md5\n" +
			sha1A + sep + "sha1\n"
		res, err := readAll(t, src, Options{Format: f})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.recs) != 2 || len(res.bad) != 1 || res.bad[0].Line != 3 {
			t.Errorf("%s: records %+v, bad lines %v", f, res.recs, badLines(res))
		}
		for _, b := range res.bad {
			if len(b.Error()) > 200 {
				t.Errorf("%s: long error %.200q", f, b.Error())
			}
		}
	}
	// A quote that never closes, over many short lines.
	var b strings.Builder
	b.WriteString("hash,type,note\n" + md5A + ",md5,\"open\n")
	for b.Len() < 2*MaxRecordBytes {
		b.WriteString("more of the same note\n")
	}
	rd, err := NewReader(strings.NewReader(b.String()), Options{Format: CSV})
	if err != nil {
		t.Fatal(err)
	}
	var fatal error
	for fatal == nil {
		_, err := rd.Next()
		var le *LineError
		if err != nil && !errors.As(err, &le) {
			fatal = err
		}
	}
	if fatal == io.EOF || !strings.Contains(fatal.Error(), "longer than") {
		t.Errorf("unterminated quote: %v", fatal)
	}
}

// Errors quote at most a short prefix of what they complain about.
func TestErrorsQuoteShortPrefix(t *testing.T) {
	huge := strings.Repeat("h", 50_000)
	_, err := NewReader(strings.NewReader(huge+",x\n"), Options{Format: CSV})
	if err == nil || len(err.Error()) > 300 {
		t.Errorf("header error: %d bytes", len(fmt.Sprint(err)))
	}
	res, err := readAll(t, "hash,type\n"+md5A+","+huge+"\n", Options{Format: CSV})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.bad) != 1 || len(res.bad[0].Error()) > 300 {
		t.Errorf("bad type: %v", res.bad)
	}
}
