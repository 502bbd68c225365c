package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"

	"golang.org/x/term"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/auth"
	"github.com/vigil-hotline/vigil/internal/store"
)

const userUsage = `Usage: vigil user add --role ROLE NAME   (password read from the terminal, or one line of stdin)
       vigil user list
       vigil user disable NAME | enable NAME
       vigil user passwd NAME                (new password as for add; also lifts a lockout)
       vigil user reset-totp NAME            (the user enrols a second factor again at the next sign-in)
       vigil user set-role ROLE NAME
Roles: admin, supervisor, analyst, auditor, or several comma-separated
(--role admin,analyst): four eyes still needs two different people. Every change ends the user's sessions
and is written to the audit log.`

// runUser manages staff accounts.
func runUser(ctx context.Context, env *Env, args []string) error {
	subs := []subcommand{{"add", runUserAdd}, {"list", runUserList}}
	for _, name := range []string{"disable", "enable", "passwd", "reset-totp", "set-role"} {
		subs = append(subs, subcommand{name, func(ctx context.Context, env *Env, args []string) error {
			return runUserUpdate(ctx, env, name, args)
		}})
	}
	return dispatch(ctx, env, "user", userUsage, args, subs)
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
	hash, err := readNewPassword(env)
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
	if err := cliAudit(ctx, db, "user.create", u, map[string]any{"name": u.Name, "role": u.Role}); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "user %s added with role %s\n", u.Name, u.Role)
	return nil
}

// runUserUpdate changes an existing account.
func runUserUpdate(ctx context.Context, env *Env, sub string, args []string) error {
	fs := newFlagSet(env, "user "+sub, userUsage)
	cfg := storeFlags(fs, env)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	want := 1
	if sub == "set-role" {
		want = 2
	}
	if fs.NArg() != want {
		return usageError("%s", userUsage)
	}
	name := fs.Arg(want - 1)
	var up vigil.UserUpdate
	var action, done string
	detail := map[string]any{"name": name}
	switch sub {
	case "disable", "enable":
		d := sub == "disable"
		up.Disabled, action, done = &d, "user."+sub, sub+"d"
	case "reset-totp":
		up.ResetTOTP, action, done = true, "user.totp_reset", "must enrol two-factor authentication again"
	case "set-role":
		r, err := vigil.ParseRole(fs.Arg(0))
		if err != nil {
			return usageError("user set-role: %v", vigil.ErrorMessage(err))
		}
		up.Role, action, done = &r, "user.role", "now has role "+string(r)
		detail["to"] = r
	case "passwd":
		hash, err := readNewPassword(env)
		if err != nil {
			return err
		}
		up.PasswordHash, action, done = &hash, "user.password", "has a new password"
	}
	db, err := openStore(ctx, cfg, env.Logger)
	if err != nil {
		return err
	}
	defer db.Close()
	before, err := db.FindUserByName(ctx, name)
	if err != nil {
		return errors.New(vigil.ErrorMessage(err))
	}
	if up.Role != nil {
		detail["from"] = before.Role
	}
	if _, err := db.UpdateUser(ctx, before.ID, up); err != nil {
		return errors.New(vigil.ErrorMessage(err))
	}
	if err := cliAudit(ctx, db, action, before, detail); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "user %s %s\n", name, done)
	return nil
}

// cliAudit records an operator's change; the actor is the system, since a
// shell on the server is not a staff account.
func cliAudit(ctx context.Context, db *store.DB, action string, u *vigil.User, detail map[string]any) error {
	detail["via"] = "vigil user"
	b, err := json.Marshal(detail)
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	e := &vigil.AuditEntry{Actor: "system", Action: action, Object: fmt.Sprintf("user:%d", u.ID), Detail: string(b)}
	if err := db.AppendAudit(ctx, e); err != nil {
		return fmt.Errorf("the change was made but not written to the audit log: %w", err)
	}
	return nil
}

// readNewPassword reads a password, checks it and returns its hash.
func readNewPassword(env *Env) (string, error) {
	password, err := readPassword(env)
	if err != nil {
		return "", err
	}
	if err := vigil.ValidatePassword(password); err != nil {
		return "", errors.New(vigil.ErrorMessage(err))
	}
	return auth.HashPassword(password, auth.DefaultArgon2)
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
	db, err := parseAndOpen(ctx, env, fs, cfg, args)
	if err != nil {
		return err
	}
	defer db.Close()
	users, err := db.ListUsers(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tROLE\tCREATED\tDISABLED\tTWO-FACTOR\tFAILED-LOGINS")
	for _, u := range users {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%v\t%v\t%d\n", u.Name, u.Role, u.CreatedAt.Format("2006-01-02"), u.Disabled,
			u.HasTOTP(), u.FailedLogins)
	}
	return tw.Flush()
}
