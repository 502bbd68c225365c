package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/store"
	"github.com/vigil-hotline/vigil/internal/storetest"
)

// cliEnv runs vigil commands in-process against a fresh store of the given
// kind, and opens that store for the test to look at.
func cliEnv(t *testing.T, kind string) (vigilRun func(stdin string, args ...string) (string, error), open func() *store.DB) {
	t.Helper()
	data, dbURL := storeURLs(t, kind)
	vigilRun = func(stdin string, args ...string) (string, error) {
		var out, errb bytes.Buffer
		env := &Env{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errb,
			Getenv: func(k string) string {
				switch k {
				case "VIGIL_DATA":
					return data
				case "VIGIL_DATABASE_URL":
					return dbURL
				}
				return ""
			}}
		err := run(context.Background(), env, args)
		return out.String(), err
	}
	open = func() *store.DB {
		if kind == "postgres" {
			return dataKey(t, storetest.OpenPostgres(t, dbURL), data)
		}
		return dataKey(t, storetest.OpenSQLite(t, filepath.Join(data, "vigil.db")), data)
	}
	return vigilRun, open
}

func TestUserCommands(t *testing.T) {
	for _, kind := range storetest.Kinds {
		t.Run(kind, func(t *testing.T) {
			vigilRun, open := cliEnv(t, kind)
			ok := func(stdin string, args ...string) string {
				t.Helper()
				out, err := vigilRun(stdin, args...)
				if err != nil {
					t.Fatalf("vigil %v: %v", args, err)
				}
				return out
			}
			ok("a long admin password\n", "user", "add", "--role", "admin", "root-admin")
			ok("a long analyst password\n", "user", "add", "--role", "analyst", "ana")
			if _, err := vigilRun("short\n", "user", "add", "--role", "analyst", "bob"); err == nil || !strings.Contains(err.Error(), "12") {
				t.Errorf("short password: %v", err)
			}
			if _, err := vigilRun("", "user", "set-role", "root", "ana"); exitCode(err) != 2 {
				t.Errorf("bad role: %v", err)
			}
			if _, err := vigilRun("", "user", "disable", "nobody"); exitCode(err) != 1 || !strings.Contains(err.Error(), "no user") {
				t.Errorf("missing user: %v", err)
			}
			if _, err := vigilRun("", "user", "frobnicate"); exitCode(err) != 2 {
				t.Errorf("unknown subcommand: %v", err)
			}
			db := open()
			ctx := context.Background()
			ana, _ := db.FindUserByName(ctx, "ana")
			if err := db.ConfirmTOTP(ctx, ana.ID, "", 0); err == nil {
				t.Fatal("confirmed an empty pending secret")
			}
			_ = db.SetTOTPPending(ctx, ana.ID, "JBSWY3DPEHPK3PXP")
			_ = db.ConfirmTOTP(ctx, ana.ID, "JBSWY3DPEHPK3PXP", 1)

			ok("", "user", "disable", "ana")
			ok("", "user", "enable", "ana")
			ok("", "user", "set-role", "supervisor", "ana")
			ok("a new long password\n", "user", "passwd", "ana")
			if out := ok("", "user", "list"); !strings.Contains(out, "TWO-FACTOR") || !regexpLine(out, `ana\s+supervisor\s+\S+\s+false\s+true\s+0`) {
				t.Errorf("list before reset:\n%s", out)
			}
			ok("", "user", "reset-totp", "ana")
			u, err := db.FindUserByName(ctx, "ana")
			if err != nil || u.Role != vigil.RoleSupervisor || u.Disabled || u.HasTOTP() {
				t.Errorf("after the commands: %+v %v", u, err)
			}
			es, err := db.ListAudit(ctx, vigil.AuditFilter{Action: "user."})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for i := len(es) - 1; i >= 0; i-- {
				got = append(got, es[i].Action)
			}
			want := "user.create user.create user.disable user.enable user.role user.password user.totp_reset"
			if strings.Join(got, " ") != want || es[0].Actor != "system" || !strings.Contains(es[0].Detail, `"via":"vigil user"`) {
				t.Errorf("audit: %v, %+v", got, es[0])
			}
		})
	}
}
