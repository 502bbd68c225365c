package store

import (
	"context"
	"fmt"

	"github.com/vigil-hotline/vigil"
)

// CreateAPIKey stores a new API key (its hash only).
func (db *DB) CreateAPIKey(ctx context.Context, k *vigil.APIKey) error {
	if err := k.Validate(); err != nil {
		return err
	}
	if k.CreatedAt.IsZero() {
		k.CreatedAt = db.Now()
	}
	err := db.drv.WithTx(ctx, func(tx Tx) error {
		return tx.QueryRow(ctx, `INSERT INTO api_keys (name, key_hash, created_at, revoked)
			VALUES ($1, $2, $3, $4) RETURNING id`, k.Name, k.Hash, k.CreatedAt, k.Revoked).Scan(&k.ID)
	})
	if db.drv.IsUniqueViolation(err) {
		return vigil.Errorf(vigil.ECONFLICT, "an API key named %q exists already", k.Name)
	}
	return wrap(err, "create api key")
}

const apiKeyColumns = `id, name, key_hash, created_at, revoked`

func scanAPIKey(row Row) (*vigil.APIKey, error) {
	k := &vigil.APIKey{}
	err := row.Scan(&k.ID, &k.Name, &k.Hash, &k.CreatedAt, &k.Revoked)
	return k, err
}

// FindAPIKeyByHash returns the unrevoked key with this hash.
func (db *DB) FindAPIKeyByHash(ctx context.Context, hash []byte) (*vigil.APIKey, error) {
	k, err := scanAPIKey(db.drv.Reader().QueryRow(ctx,
		`SELECT `+apiKeyColumns+` FROM api_keys WHERE key_hash = $1 AND NOT revoked`, hash))
	if err != nil {
		return nil, wrap(notFound(err, "unknown API key"), "find api key")
	}
	return k, nil
}

// ListAPIKeys returns every key, revoked ones included, by name.
func (db *DB) ListAPIKeys(ctx context.Context) ([]*vigil.APIKey, error) {
	rows, err := db.drv.Reader().Query(ctx, `SELECT `+apiKeyColumns+` FROM api_keys ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list api keys: %w", err)
	}
	defer rows.Close()
	var out []*vigil.APIKey
	for rows.Next() {
		k, err := scanAPIKey(rows)
		if err != nil {
			return nil, fmt.Errorf("list api keys: %w", err)
		}
		out = append(out, k)
	}
	return out, wrap(rows.Err(), "list api keys")
}

// RevokeAPIKey revokes a key by name.
func (db *DB) RevokeAPIKey(ctx context.Context, name string) error {
	var n int64
	err := db.drv.WithTx(ctx, func(tx Tx) error {
		var err error
		n, err = tx.Exec(ctx, `UPDATE api_keys SET revoked = $2 WHERE name = $1`, name, true)
		return err
	})
	if err == nil && n == 0 {
		return vigil.Errorf(vigil.ENOTFOUND, "no API key named %q", name)
	}
	return wrap(err, "revoke api key")
}
