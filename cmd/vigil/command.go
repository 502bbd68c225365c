package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"github.com/vigil-hotline/vigil/internal/hashing"
	"strings"
)

// command is one line of vigil's command table: its name, how it is called
// and what it does (the usage text and the README's command list are made
// from the same table), and the function in its own file that runs it.
type command struct {
	name    string
	args    string
	summary string
	run     func(ctx context.Context, env *Env, args []string) error
}

// commands lists every subcommand, in the order the usage shows them. To
// add one: write runX in a file of its own and add a line here.
func commands() []command {
	return []command{
		{"serve", "", "the web server and, by default, the workers", runServe},
		{"work", "", "the background workers only (crawl, hash, match, trace, send, recheck)", runWork},
		{"demo", "[--check]", "Vigil with a simulated internet; --check exits after the summary (CI)", runDemo},
		{"migrate", "", "create the database or bring its schema up to date", runMigrate},
		{"backup", "TARGET", "back up while Vigil runs: a SQLite data folder (database, keys, media), or a pg_dump of PostgreSQL with the keys", runBackup},
		{"config", "check|example", "check a configuration, or print a commented example file", runConfig},
		{"user", "add|list|disable|enable|passwd|reset-totp|set-role", "staff accounts", runUser},
		{"apikey", "create|list|revoke", "API keys for partners, printed once, stored hashed", runAPIKey},
		{"partner", "add|list|remove|key", "partner hotlines: where referrals go, whose are accepted, our signing key", runPartner},
		{"package", "open FILE", "read a package received from another hotline by e-mail", runPackage},
		{"jobs", "[--state available]", "the job queue", runJobs},
		{"hash", "PATH...", "PDQ, MD5, SHA-1 and SHA-256 of image files or folders", runHash},
		{"bank", "create|list|import|export|enable|disable|threshold|remove-entry", "hash banks", runBank},
		{"match", "FILE|HASH...", "match files or hashes against the banks", runMatch},
		{"exchange", "add|list|fetch|status|remove|trust|suppressed", "hash exchanges: NCMEC, ThreatExchange, StopNCII, HTTP lists, fetched into banks", runExchange},
		{"audit", "verify|list|checkpoint", "check, read and anchor the hash-chained audit log", runAudit},
		{"purge", "[--dry-run]", "remove what the retention policy no longer keeps (cases on legal hold spared)", runPurge},
		{"hold", "set|lift|list", "legal holds: cases the purge must keep", runHold},
		{"evidence", "export|verify|key", "signed evidence packages of a case for the police", runEvidence},
		{"map", "clusters|leads|export", "the network map: cases linked by shared media and infrastructure, leads, exports", runMap},
		{"report", "annual --year YYYY", "the annual report as PDF, HTML or CSV", runReport},
		{"bench", "intake|hash|match|crawl|lookup|video|stats|map|exchange", "measurements", runBench},
		{"version", "", "print the version", runVersion},
	}
}

// usage is what `vigil` alone and `vigil -h` print.
func usage() string {
	var b strings.Builder
	b.WriteString("vigil: the hotline platform\n\nUsage: vigil COMMAND [arguments] [flags]\n\nCommands:\n")
	for _, c := range commands() {
		line := "  vigil " + c.name
		if c.args != "" {
			line += " " + c.args
		}
		if len(line) < 34 {
			line += strings.Repeat(" ", 34-len(line))
		} else {
			line += "\n" + strings.Repeat(" ", 34)
		}
		b.WriteString(line + c.summary + "\n")
	}
	b.WriteString("\nFlags go before or after the arguments. Run \"vigil COMMAND -h\" for a command's flags.\n" +
		"Global flags: --config FILE (VIGIL_CONFIG), --log-level debug|info|warn|error, --log-format text|json.\n")
	return b.String()
}

func runVersion(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "version", "Usage: vigil version")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	fmt.Fprintln(env.Stdout, "vigil", version())
	fmt.Fprintln(env.Stdout, "jpeg decoder:", hashing.JPEGDecoderInfo())
	line, _ := videoSupport(ctx)
	fmt.Fprintln(env.Stdout, line)
	return nil
}

// isFlagValue reports whether args[i] may be the value of the flag before
// it ("--data DIR"), so that a command's name is looked for after it.
func isFlagValue(args []string, i int) bool {
	return i > 0 && strings.HasPrefix(args[i-1], "-") && !strings.Contains(args[i-1], "=") && args[i-1] != "--"
}

func isHelp(arg string) bool {
	switch arg {
	case "-h", "-help", "--help", "help":
		return true
	}
	return false
}

// subcommand is one entry of a command group such as `vigil user`.
type subcommand struct {
	name string
	run  func(ctx context.Context, env *Env, args []string) error
}

// dispatch runs the subcommand of a group. The subcommand's name is the
// first argument that names one, so flags may come before it too
// (`vigil user --data DIR list`); -h anywhere before it prints the usage.
func dispatch(ctx context.Context, env *Env, group, groupUsage string, args []string, subs []subcommand) error {
	for i, a := range args {
		if isHelp(a) {
			fmt.Fprintln(env.Stdout, groupUsage)
			return nil
		}
		for _, s := range subs {
			if a == s.name {
				rest := append(append([]string{}, args[:i]...), args[i+1:]...)
				return s.run(ctx, env, rest)
			}
		}
		if !strings.HasPrefix(a, "-") && !isFlagValue(args, i) {
			fmt.Fprintln(env.Stderr, groupUsage)
			return usageError("%s: unknown subcommand %q", group, a)
		}
	}
	fmt.Fprintln(env.Stderr, groupUsage)
	return usageError("%s: which subcommand?", group)
}

// parseFlags parses a command's flags wherever they stand on the line:
// flags may come before, between and after positional arguments ("--"
// ends the flags). Afterwards fs.Args() holds the positional arguments in
// their order. A flag error becomes a usage error (exit status 2).
func parseFlags(fs *flag.FlagSet, args []string) error {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return err
			}
			return &exitError{code: 2, err: errors.New("")}
		}
		rest := fs.Args()
		if len(rest) == 0 {
			break
		}
		// The flag package stops at the first positional argument, and
		// consumes a "--" it stops at.
		if len(args) > len(rest) && args[len(args)-len(rest)-1] == "--" {
			pos = append(pos, rest...)
			break
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
	// Parse once more so that fs.Args() answers the positional arguments.
	return fs.Parse(append([]string{"--"}, pos...))
}

// interleave parses flags anywhere and returns the positional arguments.
func interleave(fs *flag.FlagSet, args []string) ([]string, error) {
	if err := parseFlags(fs, args); err != nil {
		return nil, err
	}
	return fs.Args(), nil
}

// globalFlags takes --log-level and --log-format from anywhere on the line
// (every command logs), and rebuilds the logger when they are given.
func globalFlags(env *Env, args []string) ([]string, error) {
	level, format := "", ""
	var rest []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			rest = append(rest, args[i:]...)
			break
		}
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !strings.HasPrefix(a, "-") || (name != "log-level" && name != "log-format") {
			rest = append(rest, a)
			continue
		}
		if !hasValue {
			if i+1 == len(args) {
				return nil, usageError("--%s needs a value", name)
			}
			i++
			value = args[i]
		}
		if name == "log-level" {
			level = value
		} else {
			format = value
		}
	}
	if level == "" && format == "" && env.ConfigFile == "" {
		return rest, nil
	}
	if level == "" {
		level = env.Getenv("VIGIL_LOG_LEVEL")
	}
	if format == "" {
		format = env.Getenv("VIGIL_LOG_FORMAT")
	}
	l, err := newLoggerChecked(env.Stderr, level, format)
	if err != nil {
		return nil, usageError("%v", err)
	}
	env.Logger = l
	return rest, nil
}
