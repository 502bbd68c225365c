package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/vigil-hotline/vigil"
)

// CreateAPIKey stores a new API key (its hash only). A key given no scopes
// gets vigil.DefaultAPIScopes.
func (db *DB) CreateAPIKey(ctx context.Context, k *vigil.APIKey) error {
	if k.Scopes == nil {
		k.Scopes = append([]vigil.APIScope(nil), vigil.DefaultAPIScopes...)
	}
	if err := k.Validate(); err != nil {
		return err
	}
	if k.CreatedAt.IsZero() {
		k.CreatedAt = db.Now()
	}
	err := db.drv.WithTx(ctx, func(tx Tx) error {
		var partner *int64
		if k.Partner != "" {
			id, err := partnerIDByName(ctx, tx, k.Partner)
			if err != nil {
				return err
			}
			partner, k.PartnerID = &id, id
		}
		return tx.QueryRow(ctx, `INSERT INTO api_keys (name, key_hash, created_at, revoked, scopes, rate_per_minute, daily_quota, partner_id)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`, k.Name, k.Hash, k.CreatedAt, k.Revoked,
			vigil.FormatAPIScopes(k.Scopes), k.RatePerMinute, k.DailyQuota, partner).Scan(&k.ID)
	})
	if db.drv.IsUniqueViolation(err) {
		return vigil.Errorf(vigil.ECONFLICT, "an API key named %q exists already", k.Name)
	}
	return wrap(err, "create api key")
}

const apiKeyColumns = `id, name, key_hash, created_at, revoked, scopes, rate_per_minute, daily_quota, last_used_at,
	COALESCE(partner_id, 0), COALESCE((SELECT p.name FROM partners p WHERE p.id = api_keys.partner_id), '')`

func scanAPIKey(row Row, extra ...any) (*vigil.APIKey, error) {
	k := &vigil.APIKey{}
	var scopes string
	err := row.Scan(append([]any{&k.ID, &k.Name, &k.Hash, &k.CreatedAt, &k.Revoked, &scopes,
		&k.RatePerMinute, &k.DailyQuota, &k.LastUsedAt, &k.PartnerID, &k.Partner}, extra...)...)
	if err != nil {
		return nil, err
	}
	// Scopes are checked when written; one unknown here (written by a
	// newer version) is dropped rather than locking the key out.
	for _, f := range strings.Split(scopes, ",") {
		if sc := vigil.APIScope(f); slices.Contains(vigil.APIScopes, sc) {
			k.Scopes = append(k.Scopes, sc)
		}
	}
	return k, nil
}

// FindAPIKeyByHash returns the unrevoked key with this hash, with the calls
// recorded for it today. It reads the store on every request so that a
// revocation holds at once in every process.
func (db *DB) FindAPIKeyByHash(ctx context.Context, hash []byte) (*vigil.APIKey, error) {
	var used int64
	k, err := scanAPIKey(db.drv.Reader().QueryRow(ctx,
		`SELECT `+apiKeyColumns+`, COALESCE((SELECT requests FROM api_key_usage u
			WHERE u.api_key_id = api_keys.id AND u.day = $2), 0)
		FROM api_keys WHERE key_hash = $1 AND NOT revoked`, hash, vigil.APIKeyDay(db.Now())), &used)
	if err != nil {
		return nil, wrap(notFound(err, "unknown API key"), "find api key")
	}
	k.UsedToday = used
	return k, nil
}

// APIKeyGeneration returns a number that changes whenever any key is
// created, changed, revoked or removed (triggers keep it, whoever writes):
// one indexed read of one integer, so that processes may keep keys in
// memory and still see a revocation on the next request.
func (db *DB) APIKeyGeneration(ctx context.Context) (int64, error) {
	var gen int64
	// An argument, so that the SQLite driver prepares it once.
	err := db.drv.Reader().QueryRow(ctx, `SELECT generation FROM api_key_generation WHERE one = $1`, 1).Scan(&gen)
	return gen, wrap(err, "api key generation")
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

// UpdateAPIKey changes a key's scopes, rate and quota, found by name.
func (db *DB) UpdateAPIKey(ctx context.Context, k *vigil.APIKey) error {
	if len(k.Hash) == 0 {
		k.Hash = make([]byte, 32) // not written; only for Validate
	}
	if err := k.Validate(); err != nil {
		return err
	}
	var n int64
	err := db.drv.WithTx(ctx, func(tx Tx) error {
		var err error
		n, err = tx.Exec(ctx, `UPDATE api_keys SET scopes = $2, rate_per_minute = $3, daily_quota = $4 WHERE name = $1`,
			k.Name, vigil.FormatAPIScopes(k.Scopes), k.RatePerMinute, k.DailyQuota)
		return err
	})
	if err == nil && n == 0 {
		return vigil.Errorf(vigil.ENOTFOUND, "no API key named %q", k.Name)
	}
	return wrap(err, "update api key")
}

// BindAPIKey makes the key named name the key of the partner named
// partner, or of no partner when partner is "". The generation moves
// (the trigger watches partner_id), so servers drop the key they hold.
func (db *DB) BindAPIKey(ctx context.Context, name, partner string) error {
	var n int64
	err := db.drv.WithTx(ctx, func(tx Tx) error {
		var id *int64
		if partner != "" {
			pid, err := partnerIDByName(ctx, tx, partner)
			if err != nil {
				return err
			}
			id = &pid
		}
		var err error
		n, err = tx.Exec(ctx, `UPDATE api_keys SET partner_id = $2 WHERE name = $1`, name, id)
		return err
	})
	if err == nil && n == 0 {
		return vigil.Errorf(vigil.ENOTFOUND, "no API key named %q", name)
	}
	return wrap(err, "bind api key")
}

// partnerIDByName returns the ID of the partner named name, inside tx.
func partnerIDByName(ctx context.Context, tx Tx, name string) (int64, error) {
	var id int64
	err := tx.QueryRow(ctx, `SELECT id FROM partners WHERE name = $1`, name).Scan(&id)
	return id, notFound(err, "no partner named %q", name)
}

// RecordAPIKeyUse adds each use to its key's day and moves the key's
// last-used time forward.
func (db *DB) RecordAPIKeyUse(ctx context.Context, uses []vigil.APIKeyUse) error {
	if len(uses) == 0 {
		return nil
	}
	err := db.drv.WithTx(ctx, func(tx Tx) error {
		for _, u := range uses {
			if _, err := tx.Exec(ctx, `INSERT INTO api_key_usage (api_key_id, day, requests, lookups, matches)
				VALUES ($1, $2, $3, $4, $5)
				ON CONFLICT (api_key_id, day) DO UPDATE SET requests = api_key_usage.requests + excluded.requests,
					lookups = api_key_usage.lookups + excluded.lookups, matches = api_key_usage.matches + excluded.matches`,
				u.KeyID, u.Day, u.Requests, u.Lookups, u.Matches); err != nil {
				return err
			}
			if u.LastUsed.IsZero() {
				continue
			}
			if _, err := tx.Exec(ctx, `UPDATE api_keys SET last_used_at = $2
				WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < $2)`, u.KeyID, u.LastUsed.UTC().Truncate(time.Millisecond)); err != nil {
				return err
			}
		}
		return nil
	})
	return wrap(err, "record api key use")
}

// APIKeyUsage returns every key's recorded use since sinceDay, by day and
// name.
func (db *DB) APIKeyUsage(ctx context.Context, sinceDay string) ([]vigil.APIKeyUsage, error) {
	rows, err := db.drv.Reader().Query(ctx, `SELECT k.name, u.day, u.requests, u.lookups, u.matches
		FROM api_key_usage u JOIN api_keys k ON k.id = u.api_key_id
		WHERE u.day >= $1 ORDER BY u.day, k.name`, sinceDay)
	if err != nil {
		return nil, fmt.Errorf("api key usage: %w", err)
	}
	defer rows.Close()
	var out []vigil.APIKeyUsage
	for rows.Next() {
		var u vigil.APIKeyUsage
		if err := rows.Scan(&u.Name, &u.Day, &u.Requests, &u.Lookups, &u.Matches); err != nil {
			return nil, fmt.Errorf("api key usage: %w", err)
		}
		out = append(out, u)
	}
	return out, wrap(rows.Err(), "api key usage")
}
