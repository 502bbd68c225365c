package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/vigil-hotline/vigil/internal/postgres"
	"github.com/vigil-hotline/vigil/internal/sqlite"
	"github.com/vigil-hotline/vigil/internal/store"
)

// config is parsed once here and passed down; nothing below cmd/ reads the
// environment.
type config struct {
	Addr          string
	DataDir       string
	DatabaseURL   string
	SecureCookies bool
	// TrustedProxies lists the reverse proxies believed about the client
	// address (serve only).
	TrustedProxies string
	// SecretsKeyFile holds the key that seals TOTP secrets and contact
	// addresses (default DataDir/keys/secrets.key) [VIGIL_SECRETS_KEY_FILE].
	SecretsKeyFile string
	// create lets openStore make the data folder and the database: only
	// serve, migrate and demo do; every other command needs them to exist,
	// so that a forgotten --data fails instead of answering from an empty
	// database made on the spot.
	create bool
	// AuditKeyFile holds the key of the audit chain's HMAC, apart from the
	// database (default DATA/keys/audit.key).
	AuditKeyFile string
}

// storeFlags registers the flags every command that opens the store takes,
// with defaults from the environment: flags win over the environment.
func storeFlags(fs *flag.FlagSet, env *Env) *config {
	c := &config{}
	fs.StringVar(&c.DataDir, "data", envOr(env, "VIGIL_DATA", "data"), "data folder (SQLite database, keys, blobs) [VIGIL_DATA]")
	fs.StringVar(&c.DatabaseURL, "database-url", env.Getenv("VIGIL_DATABASE_URL"),
		"postgres://… to use PostgreSQL; empty for SQLite in the data folder [VIGIL_DATABASE_URL]")
	fs.StringVar(&c.AuditKeyFile, "audit-key-file", env.Getenv("VIGIL_AUDIT_KEY_FILE"),
		"key of the audit chain, kept apart from the database; every process of a deployment needs the same (default DATA/keys/audit.key) [VIGIL_AUDIT_KEY_FILE]")
	c.SecretsKeyFile = env.Getenv("VIGIL_SECRETS_KEY_FILE")
	return c
}

func envOr(env *Env, key, def string) string {
	if v := env.Getenv(key); v != "" {
		return v
	}
	return def
}

func envBool(env *Env, key string) bool {
	switch strings.ToLower(env.Getenv(key)) {
	case "1", "true", "yes", "on":
		return true
	}
	return false
}

// openStore opens the configured database and brings its schema up to
// date. Migrations are idempotent and, on PostgreSQL, serialised by an
// advisory lock, so every process may run them at start-up.
func openStore(ctx context.Context, c *config, logger *slog.Logger) (*store.DB, error) {
	db, err := openDatabase(ctx, c, logger)
	if err != nil {
		return nil, err
	}
	if err := keyAudit(c, db); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

func openDatabase(ctx context.Context, c *config, logger *slog.Logger) (*store.DB, error) {
	logger = quietLogger(logger)
	if strings.HasPrefix(c.DatabaseURL, "postgres://") || strings.HasPrefix(c.DatabaseURL, "postgresql://") {
		drv, err := postgres.Open(ctx, postgres.Config{URL: c.DatabaseURL, Logger: logger})
		if err != nil {
			return nil, err
		}
		if !c.create {
			if err := requireSchema(ctx, drv.Reader(), redactURL(c.DatabaseURL)); err != nil {
				return nil, errors.Join(err, drv.Close())
			}
		}
		if err := drv.Migrate(ctx); err != nil {
			return nil, errors.Join(err, drv.Close())
		}
		return sealStore(ctx, c, store.New(drv), logger)
	}
	if c.DatabaseURL != "" {
		return nil, fmt.Errorf("VIGIL_DATABASE_URL must start with postgres:// (or be empty for SQLite)")
	}
	path := filepath.Join(c.DataDir, "vigil.db")
	if c.create {
		if err := os.MkdirAll(c.DataDir, 0o700); err != nil {
			return nil, fmt.Errorf("data folder: %w", err)
		}
	} else if err := requireDataFolder(c.DataDir, path); err != nil {
		return nil, err
	}
	drv, err := sqlite.Open(sqlite.Config{Path: path, Logger: logger})
	if err != nil {
		return nil, err
	}
	if err := drv.Migrate(ctx); err != nil {
		return nil, errors.Join(err, drv.Close())
	}
	if err := protectDatabaseFiles(path); err != nil {
		return nil, errors.Join(err, drv.Close())
	}
	return sealStore(ctx, c, store.New(drv), logger)
}

// requireDataFolder fails, naming what is missing, unless the data folder
// and its database exist.
func requireDataFolder(dir, db string) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		abs = dir
	}
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("data folder %s does not exist: give --data (or VIGIL_DATA), or create it with `vigil migrate --data %s`", abs, dir)
	} else if err != nil {
		return fmt.Errorf("data folder %s: %w", abs, err)
	}
	if _, err := os.Stat(db); errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("data folder %s has no database (%s): give --data (or VIGIL_DATA), or create it with `vigil migrate --data %s`",
			abs, filepath.Base(db), dir)
	} else if err != nil {
		return fmt.Errorf("database %s: %w", db, err)
	}
	return nil
}

// requireSchema fails unless the database holds Vigil's schema: a command
// that only reads must not create one in a database named by mistake.
func requireSchema(ctx context.Context, q store.Querier, name string) error {
	var n int
	if err := q.QueryRow(ctx, `SELECT count(*) FROM vigil_migrations`).Scan(&n); err != nil || n == 0 {
		return fmt.Errorf("database %s has no Vigil schema: check --database-url (or VIGIL_DATABASE_URL), or create it with `vigil migrate`", name)
	}
	return nil
}

// redactURL drops the password from a database URL shown in a message.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparseable URL)"
	}
	return u.Redacted()
}

// parseAndOpen parses a command's flags and opens the store they name.
func parseAndOpen(ctx context.Context, env *Env, fs *flag.FlagSet, c *config, args []string) (*store.DB, error) {
	if err := parseFlags(fs, args); err != nil {
		return nil, err
	}
	return openStore(ctx, c, env.Logger)
}

// loadSecret returns the deployment's secret: VIGIL_SECRET (64 hex digits
// or more) when set, which every server of a scaled-out deployment must
// share, else a key file in the data folder, made on first use.
func loadSecret(env *Env, dataDir string) ([]byte, error) {
	if v := env.Getenv("VIGIL_SECRET"); v != "" {
		b, err := hex.DecodeString(v)
		if err != nil || len(b) < 32 {
			return nil, errors.New("VIGIL_SECRET must be at least 64 hexadecimal digits")
		}
		return b, nil
	}
	path := filepath.Join(dataDir, "secret.key")
	b, err := os.ReadFile(path)
	if err == nil {
		k, err := hex.DecodeString(strings.TrimSpace(string(b)))
		if err != nil || len(k) < 32 {
			return nil, fmt.Errorf("%s is not a valid key", path)
		}
		return k, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, err
	}
	k := make([]byte, 32)
	_, _ = rand.Read(k)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return loadSecret(env, dataDir) // another process made it first
	}
	if err != nil {
		return nil, err
	}
	_, err = fmt.Fprintln(f, hex.EncodeToString(k))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return k, err
}

// usageError is a command-line mistake: exit status 2.
func usageError(format string, args ...any) error {
	return &exitError{code: 2, err: fmt.Errorf(format, args...)}
}

func newFlagSet(env *Env, name, usage string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.Usage = func() {
		fmt.Fprintln(env.Stderr, usage)
		fs.PrintDefaults()
	}
	return fs
}
