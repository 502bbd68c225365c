package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

const backupUsage = `Usage: vigil backup [--data DIR] [--database-url URL] TARGET

Copies a SQLite deployment's data folder to TARGET (a new folder), safely
while Vigil runs: a consistent snapshot of the database (VACUUM INTO), the
keys (secret.key, keys/) and the encrypted media (blobs/). To restore, stop
Vigil and use TARGET as the data folder (--data TARGET, or move it into
place). The backup holds the media key beside the media: keep it as safe
as the server itself.

On PostgreSQL (--database-url or VIGIL_DATABASE_URL), TARGET gets a
pg_dump of the database (custom format, one consistent snapshot; only the
schema the URL's search_path names, if it names one) as vigil.pgdump,
with the data folder's keys and local media. Restore it with pg_restore
into an empty database (the command says how). pg_dump must be installed.
S3 buckets are backed up with the storage's own versioning or replication.`

// runBackup copies the data folder of a SQLite deployment.
func runBackup(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "backup", backupUsage)
	cfg := storeFlags(fs, env)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError("backup: give one TARGET folder")
	}
	if cfg.DatabaseURL != "" {
		return backupPostgres(ctx, env, cfg, fs.Arg(0))
	}
	dbPath := filepath.Join(cfg.DataDir, "vigil.db")
	if err := requireDataFolder(cfg.DataDir, dbPath); err != nil {
		return err
	}
	target := fs.Arg(0)
	if err := os.Mkdir(target, 0o700); err != nil {
		return fmt.Errorf("backup: target must be a new folder: %w", err)
	}
	// VACUUM INTO writes a consistent copy from one read transaction, so
	// a serving Vigil (WAL mode) goes on undisturbed.
	db, err := sql.Open("sqlite", dbPath)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	_, err = db.ExecContext(ctx, `VACUUM INTO ?`, filepath.Join(target, "vigil.db"))
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("backup: database: %w", err)
	}
	var files int
	for _, name := range []string{"secret.key", "keys", "blobs"} {
		n, err := copyTree(filepath.Join(cfg.DataDir, name), filepath.Join(target, name))
		if err != nil {
			return fmt.Errorf("backup: %s: %w", name, err)
		}
		files += n
	}
	fmt.Fprintf(env.Stdout, "backup of %s written to %s: the database and %d files (keys and encrypted media)\n",
		cfg.DataDir, target, files)
	warnOutside(env)
	return nil
}

// warnOutside says when media or keys live where a backup does not look.
func warnOutside(env *Env) {
	if env.Getenv("VIGIL_BLOB_DIR") != "" || env.Getenv("VIGIL_S3_ENDPOINT") != "" || env.Getenv("VIGIL_MEDIA_KEY_FILE") != "" ||
		env.Getenv("VIGIL_SECRETS_KEY_FILE") != "" || env.Getenv("VIGIL_AUDIT_KEY_FILE") != "" {
		fmt.Fprintln(env.Stderr, "vigil: media or keys live outside the data folder (VIGIL_BLOB_DIR, VIGIL_S3_ENDPOINT, "+
			"VIGIL_MEDIA_KEY_FILE, VIGIL_SECRETS_KEY_FILE, VIGIL_AUDIT_KEY_FILE): back them up too")
	}
}

// copyTree copies a file or a folder; a missing source copies nothing.
func copyTree(src, dst string) (int, error) {
	n := 0
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) && path == src {
			return filepath.SkipAll
		}
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		to := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(to, 0o700)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		n++
		return copyFile(path, to)
	})
	return n, err
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close() //nolint:errcheck // read only
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		_ = out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		_ = out.Close()
		return err
	}
	return out.Close()
}
