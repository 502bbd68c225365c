package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// pgDumpFile is the dump's name inside a backup folder.
const pgDumpFile = "vigil.pgdump"

// backupPostgres dumps the PostgreSQL database (Vigil's schema and River's,
// which share it) with pg_dump's custom format into target, beside the
// keys of the data folder, and says how to restore it.
func backupPostgres(ctx context.Context, env *Env, cfg *config, target string) error {
	pgDump, err := exec.LookPath("pg_dump")
	if err != nil {
		return errors.New("backup: PostgreSQL is backed up with pg_dump, which is not installed (Debian: apt-get install postgresql-client, of the server's major version or newer)")
	}
	conn, schema, err := libpqURL(cfg.DatabaseURL)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if err := os.Mkdir(target, 0o700); err != nil {
		return fmt.Errorf("backup: target must be a new folder: %w", err)
	}
	dump := filepath.Join(target, pgDumpFile)
	// One transaction, a consistent snapshot: Vigil goes on serving.
	args := []string{"--format=custom", "--no-owner", "--no-privileges", "--file=" + dump}
	if schema != "" {
		args = append(args, "--schema="+schema)
	}
	args = append(args, "--dbname="+conn)
	cmd := exec.CommandContext(ctx, pgDump, args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("backup: pg_dump: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	var files int
	for _, name := range []string{"secret.key", "keys", "blobs"} {
		n, err := copyTree(filepath.Join(cfg.DataDir, name), filepath.Join(target, name))
		if err != nil {
			return fmt.Errorf("backup: %s: %w", name, err)
		}
		files += n
	}
	where := "the database"
	if schema != "" {
		where = "the schema " + schema
	}
	fmt.Fprintf(env.Stdout, "backup of %s written to %s (%s) with %d files of %s (keys, local media)\n",
		where, target, pgDumpFile, files, cfg.DataDir)
	fmt.Fprintf(env.Stdout, "restore: createdb NEW; pg_restore --no-owner --exit-on-error --dbname=postgres://…/NEW %s; "+
		"then run Vigil with VIGIL_DATABASE_URL naming NEW%s and the keys of %s\n", dump, searchPathHint(schema), target)
	warnOutside(env)
	return nil
}

func searchPathHint(schema string) string {
	if schema == "" {
		return ""
	}
	return " (search_path=" + schema + ")"
}

// libpqParams are the connection parameters pg_dump understands; pgx's own
// (pool sizes, search_path, which is a run-time setting) are left out.
var libpqParams = map[string]bool{
	"host": true, "hostaddr": true, "port": true, "dbname": true, "user": true, "password": true, "passfile": true,
	"connect_timeout": true, "application_name": true, "options": true, "sslmode": true, "sslcert": true,
	"sslkey": true, "sslrootcert": true, "sslpassword": true, "sslcrl": true, "channel_binding": true,
	"gssencmode": true, "target_session_attrs": true, "service": true, "krbsrvname": true,
}

// libpqURL turns Vigil's database URL into one libpq accepts, and returns
// the schema its search_path names (the first), if any.
func libpqURL(raw string) (conn, schema string, err error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return "", "", errors.New("the database URL must be postgres://… (a key=value string cannot be backed up by vigil backup; use pg_dump)")
	}
	q := u.Query()
	if sp := q.Get("search_path"); sp != "" {
		schema = strings.Trim(strings.TrimSpace(strings.Split(sp, ",")[0]), `"`)
	}
	for k := range q {
		if !libpqParams[k] {
			q.Del(k)
		}
	}
	u.RawQuery = q.Encode()
	return u.String(), schema, nil
}
