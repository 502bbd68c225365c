package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"

	"golang.org/x/term"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/auth"
)

const userUsage = `Usage: vigil user add --role ROLE NAME   (password read from the terminal, or one line of stdin)
       vigil user list`

// runUser manages staff accounts.
func runUser(ctx context.Context, env *Env, args []string) error {
	if len(args) == 0 {
		return usageError("%s", userUsage)
	}
	switch args[0] {
	case "add":
		return runUserAdd(ctx, env, args[1:])
	case "list":
		return runUserList(ctx, env, args[1:])
	}
	return usageError("user: unknown subcommand %q\n%s", args[0], userUsage)
}

func runUserAdd(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "user add", "Usage: vigil user add --role admin|supervisor|analyst|auditor NAME")
	cfg := storeFlags(fs, env)
	role := fs.String("role", "", "the user's role: admin, supervisor, analyst or auditor")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError("user add: give exactly one NAME")
	}
	r, err := vigil.ParseRole(*role)
	if err != nil {
		return usageError("user add: %v", vigil.ErrorMessage(err))
	}
	password, err := readPassword(env)
	if err != nil {
		return err
	}
	hash, err := auth.HashPassword(password, auth.DefaultArgon2)
	if err != nil {
		return err
	}
	db, err := openStore(ctx, cfg, env.Logger)
	if err != nil {
		return err
	}
	defer db.Close()
	u := &vigil.User{Name: fs.Arg(0), Role: r, PasswordHash: hash}
	if err := db.CreateUser(ctx, u); err != nil {
		return errors.New(vigil.ErrorMessage(err))
	}
	fmt.Fprintf(env.Stdout, "user %s added with role %s\n", u.Name, u.Role)
	return nil
}

// readPassword asks twice on a terminal, or reads one line from stdin
// (for scripts: echo "$PW" | vigil user add …).
func readPassword(env *Env) (string, error) {
	if f, ok := env.Stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(env.Stderr, "Password: ")
		p1, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(env.Stderr)
		if err != nil {
			return "", err
		}
		fmt.Fprint(env.Stderr, "Again: ")
		p2, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(env.Stderr)
		if err != nil {
			return "", err
		}
		if string(p1) != string(p2) {
			return "", errors.New("the passwords differ")
		}
		return string(p1), nil
	}
	line, err := bufio.NewReader(env.Stdin).ReadString('\n')
	if err != nil && line == "" {
		return "", errors.New("no password on standard input")
	}
	return strings.TrimRight(line, "\r\n"), nil
}

func runUserList(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "user list", "Usage: vigil user list")
	cfg := storeFlags(fs, env)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	db, err := openStore(ctx, cfg, env.Logger)
	if err != nil {
		return err
	}
	defer db.Close()
	users, err := db.ListUsers(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tROLE\tCREATED\tDISABLED")
	for _, u := range users {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%v\n", u.Name, u.Role, u.CreatedAt.Format("2006-01-02"), u.Disabled)
	}
	return tw.Flush()
}
