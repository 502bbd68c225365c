package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vigil-hotline/vigil/internal/route"
	"github.com/vigil-hotline/vigil/internal/storetest"
)

// runIn runs a command in-process with the given environment variables and
// returns its stdout, stderr and exit status.
func runIn(t *testing.T, vars map[string]string, stdin string, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	env := &Env{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errb, Getenv: func(k string) string { return vars[k] }}
	code := exitStatus(env, run(context.Background(), env, args))
	return out.String(), errb.String(), code
}

// TestReadCommandsNeverCreate: a command that reads state, run on a data
// folder that does not exist (or holds no database), fails naming it and
// creates nothing, where it used to answer from an empty database made on
// the spot ("no match", exit 0).
func TestReadCommandsNeverCreate(t *testing.T) {
	list := filepath.Join(t.TempDir(), "list.csv")
	if err := os.WriteFile(list, []byte("type,value\nmd5,"+strings.Repeat("0", 32)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	reads := [][]string{
		{"match", "pdq:" + strings.Repeat("ab", 32)},
		{"bank", "list"}, {"bank", "export", "x"}, {"bank", "import", "x", list},
		{"bank", "create", "x", "--source", "iwf"},
		{"user", "list"}, {"user", "add", "--role", "admin", "root"},
		{"audit", "verify"}, {"audit", "list"}, {"jobs"}, {"apikey", "list"},
		{"work", "--allow-example-routing"},
	}
	parent := t.TempDir()
	missing := filepath.Join(parent, "no-such-folder")
	empty := filepath.Join(parent, "empty")
	if err := os.Mkdir(empty, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{missing, empty} {
		for _, args := range reads {
			_, stderr, code := runIn(t, map[string]string{"VIGIL_DATA": dir}, "a long enough password\n", args...)
			if code == 0 || !strings.Contains(stderr, dir) {
				t.Errorf("vigil %v on %s: status %d, stderr %q: want a failure naming the folder", args, dir, code, stderr)
			}
		}
	}
	if _, err := os.Stat(missing); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a read-only command created %s", missing)
	}
	if ents, _ := os.ReadDir(empty); len(ents) != 0 {
		t.Errorf("a read-only command wrote into %s: %v", empty, ents)
	}

	// PostgreSQL: a database without Vigil's schema is not given one.
	if os.Getenv(storetest.PostgresEnv) == "" {
		return
	}
	dbURL := storetest.PostgresURL(t)
	for _, args := range [][]string{{"user", "list"}, {"bank", "list"}, {"jobs"}} {
		_, stderr, code := runIn(t, map[string]string{"VIGIL_DATABASE_URL": dbURL}, "", args...)
		if code == 0 || !strings.Contains(stderr, "no Vigil schema") {
			t.Errorf("vigil %v on an empty PostgreSQL schema: status %d, %q", args, code, stderr)
		}
	}
	conn, err := pgx.Connect(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var n int
	if err := conn.QueryRow(context.Background(), `SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema()`).Scan(&n); err != nil || n != 0 {
		t.Errorf("tables made in the empty schema: %d (%v)", n, err)
	}
}

// TestFlagsAnywhere: flags before, between and after positional arguments,
// and before the command and subcommand names.
func TestFlagsAnywhere(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	vars := map[string]string{}
	ok := func(stdin string, args ...string) string {
		t.Helper()
		out, stderr, code := runIn(t, vars, stdin, args...)
		if code != 0 {
			t.Fatalf("vigil %v: status %d\n%s", args, code, stderr)
		}
		return out
	}
	ok("", "migrate", "--data", data)
	ok("a long analyst password\n", "user", "add", "dave", "--role", "analyst", "--data", data)
	ok("a long admin password\n", "--data", data, "user", "--role", "admin", "add", "erin")
	ok("", "user", "set-role", "supervisor", "dave", "--data="+data)
	if out := ok("", "user", "--data", data, "list"); !regexp.MustCompile(`(?m)^dave\s+supervisor`).MatchString(out) ||
		!strings.Contains(out, "erin") {
		t.Errorf("user list:\n%s", out)
	}
	ok("", "bank", "create", "iwf-list", "--source", "iwf", "--data", data)
	if out := ok("", "bank", "list", "--data", data); !strings.Contains(out, "iwf-list") {
		t.Errorf("bank list:\n%s", out)
	}
	dir := writeHashTestTree(t)
	if out := ok("", "hash", filepath.Join(dir, "a.png"), "--format", "reference"); strings.Contains(out, "{") ||
		strings.Count(out, ",") != 2 {
		t.Errorf("hash FILE --format reference: %q", out)
	}
	if _, _, code := runIn(t, vars, "", "user", "add", "frank", "--data", data, "--role"); code != 2 {
		t.Errorf("a flag without its value: status %d, want 2", code)
	}
	// "--" ends the flags: what follows is positional even if it looks like one.
	if out, _, _ := runIn(t, vars, "", "hash", "--", "--format"); !strings.Contains(out, "--format") {
		t.Errorf("hash -- --format: %q", out)
	}
}

// TestHelpEverywhere: -h and --help answer every command and subcommand
// with its usage and exit status 0.
func TestHelpEverywhere(t *testing.T) {
	groups := map[string][]string{
		"user":   {"add", "list", "disable", "enable", "passwd", "reset-totp", "set-role"},
		"bank":   {"create", "list", "import", "export", "enable", "disable", "threshold", "remove-entry"},
		"audit":  {"verify", "list"},
		"apikey": {"create", "list", "revoke"},
		"bench":  {"intake", "hash", "match", "crawl"},
		"report": {"annual"},
	}
	for _, c := range commands() {
		for _, h := range []string{"-h", "--help"} {
			lines := [][]string{{c.name, h}}
			for _, sub := range groups[c.name] {
				lines = append(lines, []string{c.name, sub, h})
			}
			for _, args := range lines {
				out, stderr, code := runIn(t, nil, "", args...)
				if code != 0 || !strings.Contains(out+stderr, "Usage") {
					t.Errorf("vigil %v: status %d, output %q", args, code, out+stderr)
				}
			}
		}
	}
	out, _, code := runIn(t, nil, "", "-h")
	if code != 0 || !strings.Contains(out, "vigil serve") {
		t.Errorf("vigil -h: status %d, %q", code, out)
	}
}

// TestUsageMatchesREADME: `vigil` alone lists every command, and the
// README's command list names the same ones.
func TestUsageMatchesREADME(t *testing.T) {
	_, stderr, code := runIn(t, nil, "")
	if code != 2 {
		t.Errorf("vigil alone: status %d, want 2", code)
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, block, _ := strings.Cut(string(readme), "## Commands\n\n```\n")
	block, _, _ = strings.Cut(block, "```")
	inREADME := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^vigil ([a-z-]+)`).FindAllStringSubmatch(block, -1) {
		inREADME[m[1]] = true
	}
	for _, c := range commands() {
		if !strings.Contains(stderr, "vigil "+c.name) {
			t.Errorf("vigil alone does not list %q", c.name)
		}
		if !inREADME[c.name] {
			t.Errorf("the README's command list lacks %q", c.name)
		}
		delete(inREADME, c.name)
	}
	for name := range inREADME {
		t.Errorf("the README lists %q, which vigil does not have", name)
	}
}

// TestServeRefusesExampleRouting: without a routing configuration, or with
// one that still holds the example's recipients, serve exits naming the
// example routing, before it creates anything.
func TestServeRefusesExampleRouting(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	_, stderr, code := runIn(t, map[string]string{"VIGIL_DATA": data}, "", "serve", "--addr", "127.0.0.1:0")
	if code == 0 || !strings.Contains(stderr, "example routing") || !strings.Contains(stderr, "--allow-example-routing") {
		t.Errorf("serve without routing: status %d, %q", code, stderr)
	}
	if _, err := os.Stat(data); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("serve made %s before refusing", data)
	}
	example := filepath.Join(t.TempDir(), "routing.json")
	if err := os.WriteFile(example, route.DefaultJSON(), 0o600); err != nil {
		t.Fatal(err)
	}
	_, stderr, code = runIn(t, map[string]string{"VIGIL_DATA": data}, "", "serve", "--routing-config", example)
	if code == 0 || !strings.Contains(stderr, "example routing") || !strings.Contains(stderr, "fccu@example.invalid") {
		t.Errorf("serve with the example file: status %d, %q", code, stderr)
	}
	_, stderr, code = runIn(t, map[string]string{"VIGIL_DATA": data}, "", "work")
	if code == 0 || !strings.Contains(stderr, "example routing") {
		t.Errorf("work without routing: status %d, %q", code, stderr)
	}
}

// TestServeStartupLines: serve says, one line each, that it has no SMTP
// server, no hash bank and no staff account.
func TestServeStartupLines(t *testing.T) {
	data := t.TempDir()
	logs := &syncBuffer{}
	env := &Env{Stdin: strings.NewReader(""), Stdout: logs, Stderr: logs, Getenv: func(k string) string {
		if k == "VIGIL_DATA" {
			return data
		}
		return ""
	}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, env, []string{"serve", "--addr", "127.0.0.1:0", "--workers=false", "--allow-example-routing"})
	}()
	deadline := time.Now().Add(60 * time.Second)
	for !strings.Contains(logs.String(), "vigil is serving") {
		select {
		case err := <-done:
			cancel()
			t.Fatalf("serve ended: %v\n%s", err, logs.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("serve did not start within 60 s:\n%s", logs.String())
		}
	}
	cancel()
	if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
		t.Errorf("serve: %v", err)
	}
	out := logs.String()
	for _, want := range []string{"no SMTP server", "no hash bank", "no staff account", "example routing"} {
		if n := strings.Count(out, want); n != 1 {
			t.Errorf("%q said %d times at start-up:\n%s", want, n, out)
		}
	}
	// Quiet by default: the migrator and River say nothing at info level.
	if strings.Contains(strings.ToLower(out), "migrat") {
		t.Errorf("migration lines at the default log level:\n%s", out)
	}
}
