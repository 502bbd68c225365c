package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
)

func benchMatchEnv() (*Env, *bytes.Buffer, *bytes.Buffer) {
	var out, errb bytes.Buffer
	return &Env{
		Stdin:  strings.NewReader(""),
		Stdout: &out,
		Stderr: &errb,
		Getenv: func(string) string { return "" },
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}, &out, &errb
}

func TestBenchMatchJSON(t *testing.T) {
	for _, data := range []string{"uniform", "clustered"} {
		env, out, errb := benchMatchEnv()
		err := run(context.Background(), env, []string{"bench", "match", "--n", "20000", "--queries", "200",
			"--data", data, "--threshold", "31", "--json", "--min-seconds", "0"})
		if err != nil {
			t.Fatalf("%s: %v\n%s", data, err, errb)
		}
		var obj map[string]any
		if err := json.Unmarshal(out.Bytes(), &obj); err != nil {
			t.Fatalf("%s: not one JSON object: %v\n%s", data, err, out)
		}
		for _, k := range []string{"n", "build_seconds", "bytes_per_entry", "qps_one_core", "qps_all_cores", "recall"} {
			if _, ok := obj[k]; !ok {
				t.Errorf("%s: key %q missing", data, k)
			}
		}
		if obj["recall"] != 1.0 || obj["n"] != 20000.0 || obj["data"] != data {
			t.Errorf("%s: %s", data, out)
		}
		if obj["neighbours"].(float64) < 100 {
			t.Errorf("%s: only %v neighbours: the near-duplicate queries are not near", data, obj["neighbours"])
		}
	}
}

func TestBenchMatchText(t *testing.T) {
	env, out, errb := benchMatchEnv()
	if err := run(context.Background(), env, []string{"bench", "match", "--n", "3000", "--queries", "50", "--min-seconds", "0", "--threshold", "64"}); err != nil {
		t.Fatalf("%v\n%s", err, errb)
	}
	if !strings.Contains(out.String(), "recall           1.000000") {
		t.Errorf("output:\n%s", out)
	}
}

func TestBenchMatchBadFlags(t *testing.T) {
	for _, args := range [][]string{{"--data", "zipf"}, {"--n", "0"}, {"--threshold", "300"}, {"extra"}, {"--nope"}} {
		env, _, _ := benchMatchEnv()
		err := run(context.Background(), env, append([]string{"bench", "match"}, args...))
		var ee *exitError
		if !errors.As(err, &ee) || ee.code != 2 {
			t.Errorf("%v: %v, want exit status 2", args, err)
		}
	}
}
