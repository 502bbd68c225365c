// Command vigil is the whole of Vigil in one binary: the server, the workers,
// and the tools that operators and analysts run by hand.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

// Env is what a subcommand gets from the outside world. Tests build one with
// buffers and a fake environment; main builds it from the process.
type Env struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	Getenv func(string) string
	// IsTerminal reports whether Stderr is a terminal (for progress bars).
	IsTerminal bool
	Logger     *slog.Logger
}

// exitError carries a chosen exit status out of a subcommand.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

const usage = `vigil: the hotline platform

Usage: vigil COMMAND [flags]

Commands:
  serve     run the reporting point, the API, the staff pages and the workers
  work      run the background workers only (crawl, hash, match)
  demo      run Vigil with a simulated internet and demo reports (offline)
  migrate   bring the database schema up to date
  user      manage staff accounts (user add|list|disable|enable|passwd|reset-totp|set-role)
  audit     check and read the audit log (audit verify, audit list)
  apikey    manage API keys for partners (apikey create NAME)
  jobs      list queued background jobs
  hash      hash image files (PDQ, MD5, SHA-1, SHA-256)
  bank      manage hash banks
  match     match files or hashes against the hash banks
  bench     measure Vigil (bench intake|hash|match)
  version   print the version

Run "vigil COMMAND -h" for a command's flags.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	env := &Env{
		Stdin:      os.Stdin,
		Stdout:     os.Stdout,
		Stderr:     os.Stderr,
		Getenv:     os.Getenv,
		IsTerminal: isTerminal(os.Stderr),
	}
	env.Logger = newLogger(env.Stderr, os.Getenv("VIGIL_LOG_LEVEL"), os.Getenv("VIGIL_LOG_FORMAT"))
	err := run(ctx, env, os.Args[1:])
	stop()
	os.Exit(exitStatus(env, err))
}

func exitStatus(env *Env, err error) int {
	var ee *exitError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &ee):
		if ee.err != nil && ee.err.Error() != "" {
			fmt.Fprintln(env.Stderr, "vigil:", ee.err)
		}
		return ee.code
	default:
		fmt.Fprintln(env.Stderr, "vigil:", err)
		return 1
	}
}

// run dispatches to a subcommand. Each lives in a file of its own.
func run(ctx context.Context, env *Env, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(env.Stderr, usage)
		return &exitError{code: 2, err: errors.New("")}
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		return runServe(ctx, env, rest)
	case "demo":
		return runDemo(ctx, env, rest)
	case "work":
		return runWork(ctx, env, rest)
	case "migrate":
		return runMigrate(ctx, env, rest)
	case "user":
		return runUser(ctx, env, rest)
	case "audit":
		return runAudit(ctx, env, rest)
	case "apikey":
		return runAPIKey(ctx, env, rest)
	case "jobs":
		return runJobs(ctx, env, rest)
	case "hash":
		return runHash(ctx, env, rest)
	case "bank":
		return runBank(ctx, env, rest)
	case "match":
		return runMatch(ctx, env, rest)
	case "bench":
		return runBench(ctx, env, rest)
	case "version", "-version", "--version":
		fmt.Fprintln(env.Stdout, "vigil", version())
		line, _ := videoSupport(ctx)
		fmt.Fprintln(env.Stdout, line)
		return nil
	case "help", "-h", "-help", "--help":
		fmt.Fprint(env.Stdout, usage)
		return nil
	}
	fmt.Fprint(env.Stderr, usage)
	return &exitError{code: 2, err: fmt.Errorf("unknown command %q", cmd)}
}

func newLogger(w io.Writer, level, format string) *slog.Logger {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil || level == "" {
		lv = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: lv}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
