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
	"net"
	"net/netip"
	"os"
	"os/signal"
	"strings"
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
	// ConfigFile is the configuration file in use (--config or
	// VIGIL_CONFIG), empty when none: Getenv already answers its values.
	ConfigFile string
	// LookupDomain, when set, replaces DNS in `vigil config check` (tests
	// run without a network).
	LookupDomain func(ctx context.Context, domain string) error
	// Resolver answers the DNS questions that --crawl-resolve and
	// --trace-resolve do not; nil is the system's.
	Resolver Resolver
}

// Resolver looks host names up.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

func (e *Env) resolver() Resolver {
	if e.Resolver == nil {
		return net.DefaultResolver
	}
	return e.Resolver
}

// exitError carries a chosen exit status out of a subcommand.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

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

// run dispatches to a subcommand. Each lives in a file of its own and has
// a line in commands(). The command's name is the first argument that names
// one, so that flags may come first too (`vigil --data DIR user list`).
func run(ctx context.Context, env *Env, args []string) error {
	restrictUmask()
	if env.Logger == nil {
		env.Logger = newLogger(env.Stderr, env.Getenv("VIGIL_LOG_LEVEL"), env.Getenv("VIGIL_LOG_FORMAT"))
	}
	path, args, err := configPath(env, args)
	if err != nil {
		return err
	}
	if path != "" {
		if err := useConfigFile(env, path); err != nil {
			return err
		}
	}
	if args, err = globalFlags(env, args); err != nil {
		return err
	}
	for i, a := range args {
		if isHelp(a) {
			fmt.Fprint(env.Stdout, usage())
			return nil
		}
		if a == "-version" || a == "--version" {
			return runVersion(ctx, env, nil)
		}
		if strings.HasPrefix(a, "-") {
			continue
		}
		rest := append(append([]string{}, args[:i]...), args[i+1:]...)
		for _, c := range commands() {
			if c.name == a {
				return c.run(ctx, env, rest)
			}
		}
		if isFlagValue(args, i) {
			continue
		}
		fmt.Fprint(env.Stderr, usage())
		return &exitError{code: 2, err: fmt.Errorf("unknown command %q", a)}
	}
	fmt.Fprint(env.Stderr, usage())
	return &exitError{code: 2, err: errors.New("")}
}

// newLogger makes the process's logger; a bad level or format falls back to
// the defaults (the environment is read before any flag could say better).
func newLogger(w io.Writer, level, format string) *slog.Logger {
	l, err := newLoggerChecked(w, level, format)
	if err != nil {
		l, _ = newLoggerChecked(w, "", "")
	}
	return l
}

// newLoggerChecked makes a logger at level ("debug", "info", "warn",
// "error"; default info) in format ("text" or "json"; default text).
func newLoggerChecked(w io.Writer, level, format string) (*slog.Logger, error) {
	lv := slog.LevelInfo
	if level != "" {
		if err := lv.UnmarshalText([]byte(level)); err != nil {
			return nil, fmt.Errorf("log level %q: want debug, info, warn or error", level)
		}
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "", "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("log format %q: want text or json", format)
}

// quietLogger is the logger given to River and to the migrator: what they
// say below a warning is shown only at --log-level debug, so that a
// command's own output is not buried under the queue's chatter.
func quietLogger(l *slog.Logger) *slog.Logger {
	if l == nil {
		return nil
	}
	return slog.New(demoteHandler{l.Handler()})
}

// demoteHandler logs records below Warn at Debug.
type demoteHandler struct{ h slog.Handler }

func (d demoteHandler) Enabled(ctx context.Context, lv slog.Level) bool {
	if lv < slog.LevelWarn {
		lv = slog.LevelDebug
	}
	return d.h.Enabled(ctx, lv)
}

func (d demoteHandler) Handle(ctx context.Context, r slog.Record) error {
	if r.Level < slog.LevelWarn {
		r.Level = slog.LevelDebug
	}
	return d.h.Handle(ctx, r)
}

func (d demoteHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return demoteHandler{d.h.WithAttrs(as)}
}
func (d demoteHandler) WithGroup(name string) slog.Handler { return demoteHandler{d.h.WithGroup(name)} }

func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
