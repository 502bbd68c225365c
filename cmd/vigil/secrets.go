package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/vigil-hotline/vigil/internal/blob"
	"github.com/vigil-hotline/vigil/internal/store"
)

// Secrets at rest and file modes (issue 12 item 7). Every file Vigil
// writes is readable by its owner only, whatever the data folder's mode:
// the process's umask is narrowed at start (restrictUmask), files made
// before that are narrowed when opened (protectDatabaseFiles), and a data
// folder others can read is warned about (warnOpenDataFolder).

// sealStore gives the store the key its secrets are sealed with, kept with
// the other keys in the data folder (never in the database), and seals
// what an older version left in plain text.
func sealStore(ctx context.Context, c *config, db *store.DB, logger *slog.Logger) (*store.DB, error) {
	path := c.SecretsKeyFile
	if path == "" {
		path = filepath.Join(c.DataDir, "keys", "secrets.key")
	}
	fail := func(err error) (*store.DB, error) { return nil, errors.Join(err, db.Close()) }
	key, err := blob.LoadOrCreateKey(path)
	if err != nil {
		return fail(fmt.Errorf("secrets key: %w", err))
	}
	if err := db.SetSecretsKey(key); err != nil {
		return fail(err)
	}
	n, err := db.SealPlaintext(ctx)
	if err != nil {
		return fail(err)
	}
	if n > 0 {
		logger.Info("sealed secrets an older version stored in plain text", "count", n)
	}
	warnOpenDataFolder(c.DataDir, logger)
	return db, nil
}

// protectDatabaseFiles narrows the SQLite database and its companions to
// the owner, for files made by an older version or under a wider umask.
func protectDatabaseFiles(path string) error {
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		if err := os.Chmod(p, 0o600); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("protect %s: %w", p, err)
		}
	}
	return nil
}

// warnOpenDataFolder warns when other users may read or enter the data
// folder: its files are the owner's only, but names and sizes still show,
// and a file copied in by hand may not be.
func warnOpenDataFolder(dir string, logger *slog.Logger) {
	fi, err := os.Stat(dir)
	if err != nil || !fi.IsDir() {
		return
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		logger.Warn("the data folder is open to other users: make it the owner's only (chmod 700)",
			"folder", dir, "mode", fmt.Sprintf("%#o", perm))
	}
}
