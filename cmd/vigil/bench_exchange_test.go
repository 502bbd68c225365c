//go:build !nodemo

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"testing"
)

// TestBenchExchange runs the bench on a small list: every entry fetched
// and matched, the figures filled in.
func TestBenchExchange(t *testing.T) {
	var out bytes.Buffer
	env := &Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: io.Discard, Getenv: func(string) string { return "" },
		Logger: slog.New(slog.DiscardHandler)}
	if err := runBenchExchange(context.Background(), env, []string{"--entries", "3000", "--page-size", "500", "--json",
		"--data", t.TempDir()}); err != nil {
		t.Fatal(err)
	}
	var r benchExchangeResult
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatalf("%v: %s", err, out.String())
	}
	if r.Entries != 3000 || r.BankEntries != 4000 || r.Pages != 6 || r.EntriesPerSecond <= 0 || r.PeakHeapBytes == 0 {
		t.Errorf("result: %+v", r)
	}
}
