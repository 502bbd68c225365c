// Package fuzz holds the fuzz targets of the bank-file parsers, apart from
// package bankfile's own tests so that a fuzzing build instruments the
// parsers alone, not the databases those tests use.
package fuzz

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/bankfile"
)

// Fuzz targets for the bank-file parsers: `go test -fuzz FuzzCSV
// ./internal/bankfile/fuzz` (and FuzzTSV, FuzzLines, FuzzJSONL). Seed
// corpora are in testdata/fuzz. Whatever the input, a reader must end,
// keep every record valid, and quote no more than a short prefix in its
// errors.
func FuzzCSV(f *testing.F)   { fuzzFormat(f, bankfile.CSV) }
func FuzzTSV(f *testing.F)   { fuzzFormat(f, bankfile.TSV) }
func FuzzLines(f *testing.F) { fuzzFormat(f, bankfile.Lines) }
func FuzzJSONL(f *testing.F) { fuzzFormat(f, bankfile.JSONL) }

// maxErrorBytes is a generous bound on an error's length: a message, a
// line number and a quoted prefix.
const maxErrorBytes = 400

func fuzzFormat(f *testing.F, format bankfile.Format) {
	f.Fuzz(func(t *testing.T, data []byte, typed bool) {
		opts := bankfile.Options{Format: format}
		if typed || format == bankfile.Lines {
			opts.Type = vigil.SignalMD5
		}
		rd, err := bankfile.NewReader(bytes.NewReader(data), opts)
		if err != nil {
			if len(err.Error()) > maxErrorBytes {
				t.Fatalf("header error of %d bytes", len(err.Error()))
			}
			return
		}
		// Every call consumes input or ends, so this many calls is more
		// than enough; more means the reader is stuck.
		for range len(data) + 2 {
			rec, err := rd.Next()
			if err == io.EOF {
				return
			}
			var le *bankfile.LineError
			if errors.As(err, &le) {
				if len(le.Error()) > maxErrorBytes {
					t.Fatalf("line error of %d bytes", len(le.Error()))
				}
				continue
			}
			if err != nil {
				if len(err.Error()) > maxErrorBytes {
					t.Fatalf("error of %d bytes", len(err.Error()))
				}
				return
			}
			if n := rec.Signal.HexLen(); n == 0 || len(rec.Value) != n {
				t.Fatalf("record of type %q with value %q", rec.Signal, rec.Value)
			}
			if opts.Type != "" && rec.Signal != opts.Type {
				t.Fatalf("record of type %s under --type %s", rec.Signal, opts.Type)
			}
			if _, err := vigil.NormalizeSignalValue(rec.Signal, rec.Value); err != nil {
				t.Fatalf("record value not normalised: %v", err)
			}
		}
		t.Fatal("the reader does not end")
	})
}
