package store

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// Secrets at rest: TOTP secrets and reporters' contact addresses are sealed
// with AES-256-GCM under a key kept outside the database (the data
// folder's keys/, see cmd/vigil), so that a copy of the database, its WAL
// or a backup gives neither a second factor nor a reporter's address. The
// kind of secret is the associated data (see sealContext): a sealed value
// moved to a column of another kind does not open.

// sealPrefix marks a sealed value; the version lets the scheme change.
const sealPrefix = "enc1:"

type sealer struct{ aead cipher.AEAD }

// sealContext is the associated data of a column's values: both TOTP
// columns share one, since enrolment moves the pending secret into
// totp_secret as it is.
func sealContext(column string) []byte {
	if strings.HasPrefix(column, "totp_") {
		return []byte("totp")
	}
	return []byte(column)
}

// SetSecretsKey makes the store seal secrets under a key derived from key
// (32 bytes or more). Without one, sealed values cannot be read and new
// secrets are refused.
func (db *DB) SetSecretsKey(key []byte) error {
	if len(key) < 32 {
		return errors.New("store: the secrets key must be at least 32 bytes")
	}
	derived := sha256.Sum256(append([]byte("vigil secrets at rest v1\x00"), key...))
	block, err := aes.NewCipher(derived[:])
	if err != nil {
		return fmt.Errorf("store: secrets key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return fmt.Errorf("store: secrets key: %w", err)
	}
	db.seal = &sealer{aead: aead}
	return nil
}

// sealValue seals a secret for column; "" stays "" (no secret).
func (db *DB) sealValue(column, plain string) (string, error) {
	if plain == "" {
		return "", nil
	}
	if db.seal == nil {
		return "", errors.New("store: no secrets key configured: secrets are never stored in plain text")
	}
	nonce := make([]byte, db.seal.aead.NonceSize())
	_, _ = rand.Read(nonce)
	ct := db.seal.aead.Seal(nonce, nonce, []byte(plain), sealContext(column))
	return sealPrefix + base64.RawStdEncoding.EncodeToString(ct), nil
}

// openValue opens a sealed value. A plain one (a row from before sealing,
// until SealPlaintext has run) is returned as it is.
func (db *DB) openValue(column, stored string) (string, error) {
	if !strings.HasPrefix(stored, sealPrefix) {
		return stored, nil
	}
	if db.seal == nil {
		return "", errors.New("store: a sealed secret but no secrets key configured")
	}
	ct, err := base64.RawStdEncoding.DecodeString(stored[len(sealPrefix):])
	n := db.seal.aead.NonceSize()
	if err != nil || len(ct) < n {
		return "", fmt.Errorf("store: %s: malformed sealed value", column)
	}
	pt, err := db.seal.aead.Open(nil, ct[:n], ct[n:], sealContext(column))
	if err != nil {
		return "", fmt.Errorf("store: %s: the sealed value does not open with this key: %w", column, err)
	}
	return string(pt), nil
}

// SealPlaintext seals the secrets of rows written before sealing existed,
// so that an upgrade encrypts them on first start instead of breaking. It
// returns how many values it sealed.
func (db *DB) SealPlaintext(ctx context.Context) (int, error) {
	if db.seal == nil {
		return 0, errors.New("store: no secrets key configured")
	}
	type plainRow struct {
		table, column string
		id            int64
		value         string
	}
	var todo []plainRow
	for _, c := range []struct{ table, column string }{
		{"users", "totp_secret"}, {"users", "totp_pending"}, {"reports", "contact"},
	} {
		rows, err := db.drv.Reader().Query(ctx, `SELECT id, `+c.column+` FROM `+c.table+`
			WHERE `+c.column+` IS NOT NULL AND `+c.column+` <> '' AND `+c.column+` NOT LIKE 'enc1:%'`)
		if err != nil {
			return 0, fmt.Errorf("seal %s.%s: %w", c.table, c.column, err)
		}
		for rows.Next() {
			r := plainRow{table: c.table, column: c.column}
			if err := rows.Scan(&r.id, &r.value); err != nil {
				rows.Close()
				return 0, fmt.Errorf("seal %s.%s: %w", c.table, c.column, err)
			}
			todo = append(todo, r)
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return 0, fmt.Errorf("seal %s.%s: %w", c.table, c.column, err)
		}
	}
	if len(todo) == 0 {
		return 0, nil
	}
	err := db.drv.WithTx(ctx, func(tx Tx) error {
		for _, r := range todo {
			sealed, err := db.sealValue(r.column, r.value)
			if err != nil {
				return err
			}
			// Only if still plain: another process may have sealed it.
			if _, err := tx.Exec(ctx, `UPDATE `+r.table+` SET `+r.column+` = $2 WHERE id = $1 AND `+r.column+` = $3`,
				r.id, sealed, r.value); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("seal plain secrets: %w", err)
	}
	// The plain values may linger in the write-ahead log until the next
	// checkpoint; SQLite's driver truncates it now.
	if c, ok := db.drv.(interface{ Checkpoint(context.Context) error }); ok {
		if err := c.Checkpoint(ctx); err != nil {
			return len(todo), fmt.Errorf("seal plain secrets: %w", err)
		}
	}
	return len(todo), nil
}
