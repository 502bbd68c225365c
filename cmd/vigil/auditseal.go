package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/vigil-hotline/vigil/internal/auditseal"
	"github.com/vigil-hotline/vigil/internal/blob"
	"github.com/vigil-hotline/vigil/internal/store"
)

// auditKeyFile is where the audit chain's key is: the configured file, or
// keys/ in the data folder beside the media key.
func (c *config) auditKeyFile() string {
	if c.AuditKeyFile != "" {
		return c.AuditKeyFile
	}
	return filepath.Join(c.DataDir, "keys", "audit.key")
}

// loadAuditKey reads the audit chain's key. Only the commands that may
// create the data folder (serve, migrate, demo) make it when it is
// missing; the others go on without it, which the store refuses as soon as
// they would append to or verify a keyed chain, naming the key.
func loadAuditKey(c *config) ([]byte, error) {
	path := c.auditKeyFile()
	if !c.create {
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
	}
	key, err := blob.LoadOrCreateKey(path)
	if err != nil {
		return nil, fmt.Errorf("audit key: %w", err)
	}
	return key, nil
}

// keyAudit gives the store the audit chain's key.
func keyAudit(c *config, db *store.DB) error {
	key, err := loadAuditKey(c)
	if err != nil || key == nil {
		return err
	}
	return db.SetAuditKey(key)
}

// auditSeal returns the signer and the logs of the audit checkpoints: the
// file in the data folder, and the object store when one is configured,
// so that every process of a scaled-out deployment anchors to one place.
// Without an audit key there is nothing to sign with: nil, nil.
func auditSeal(env *Env, c *config) (*auditseal.Signer, []auditseal.Log, error) {
	key, err := loadAuditKey(c)
	if err != nil || key == nil {
		return nil, nil, err
	}
	logs := []auditseal.Log{auditseal.NewFile(filepath.Join(c.DataDir, auditseal.FileName))}
	if env.Getenv("VIGIL_S3_ENDPOINT") != "" {
		bs, err := openBlobStore(env, c.DataDir, "")
		if err != nil {
			return nil, nil, err
		}
		logs = append(logs, &auditseal.Objects{Store: bs, IsNotFound: func(err error) bool { return errors.Is(err, blob.ErrNotFound) }})
	}
	return auditseal.NewSigner(key), logs, nil
}

// startAuditCheckpoints anchors the audit chain every interval until the
// returned stop is called (which writes a last checkpoint).
func startAuditCheckpoints(ctx context.Context, env *Env, c *config, db *store.DB, every time.Duration) (stop func(), err error) {
	if every <= 0 {
		return func() {}, nil
	}
	signer, logs, err := auditSeal(env, c)
	if err != nil {
		return nil, err
	}
	if signer == nil {
		// A process without the deployment's audit key cannot append to a
		// keyed log, so say so now rather than at the first entry.
		env.Logger.Warn("no audit key: the audit log is neither keyed nor checkpointed by this process",
			"key_file", c.auditKeyFile())
		return func() {}, nil
	}
	cp := &auditseal.Checkpointer{Head: db, Signer: signer, Logs: logs, Now: db.Now, Logger: env.Logger}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		cp.Run(ctx, every)
	}()
	return func() { cancel(); <-done }, nil
}
