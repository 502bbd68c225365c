package main

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"
)

// TestBenchLookupJSON: the last line of `vigil bench lookup --json` holds
// the fields other tools read. Tiny sizes: the figures mean nothing here.
func TestBenchLookupJSON(t *testing.T) {
	env, out, errb := benchMatchEnv()
	err := run(context.Background(), env, []string{"bench", "lookup", "--n", "2000", "--seconds", "0.2",
		"--concurrency", "2", "--json", "--data", t.TempDir()})
	if err != nil {
		t.Fatalf("%v\n%s", err, errb)
	}
	lines := bytes.Split(bytes.TrimSpace(out.Bytes()), []byte("\n"))
	var obj map[string]any
	if err := json.Unmarshal(lines[len(lines)-1], &obj); err != nil {
		t.Fatalf("last line is not a JSON object: %v\n%s", err, out)
	}
	for _, k := range []string{"n", "lookups_per_second", "p50_ms", "p99_ms", "batch_hashes_per_second", "exact_lookups_per_second",
		"startup_seconds", "file_lookups_per_second", "hash_images_per_second"} {
		if v, ok := obj[k].(float64); !ok || (k != "p50_ms" && k != "p99_ms" && v <= 0) {
			t.Errorf("key %q: %v", k, obj[k])
		}
	}
}
