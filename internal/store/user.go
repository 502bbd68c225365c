package store

import (
	"context"
	"fmt"
	"time"

	"github.com/vigil-hotline/vigil"
)

// CreateUser stores a new staff account.
func (db *DB) CreateUser(ctx context.Context, u *vigil.User) error {
	if err := u.Validate(); err != nil {
		return err
	}
	if u.CreatedAt.IsZero() {
		u.CreatedAt = db.Now()
	}
	secret, err := db.sealValue("totp_secret", u.TOTPSecret)
	if err != nil {
		return err
	}
	err = db.drv.WithTx(ctx, func(tx Tx) error {
		return tx.QueryRow(ctx, `INSERT INTO users (name, role, password_hash, created_at, disabled, totp_secret)
			VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
			u.Name, string(u.Role), u.PasswordHash, u.CreatedAt, u.Disabled, secret).Scan(&u.ID)
	})
	if db.drv.IsUniqueViolation(err) {
		return vigil.Errorf(vigil.ECONFLICT, "a user named %q exists already", u.Name)
	}
	return wrap(err, "create user")
}

const userColumns = `id, name, role, password_hash, created_at, disabled,
	totp_secret, totp_pending, totp_last_step, failed_logins, locked_until, language`

func (db *DB) scanUser(row Row) (*vigil.User, error) {
	u := &vigil.User{}
	var role, lang string
	var locked *time.Time
	err := row.Scan(&u.ID, &u.Name, &role, &u.PasswordHash, &u.CreatedAt, &u.Disabled,
		&u.TOTPSecret, &u.TOTPPending, &u.TOTPLastStep, &u.FailedLogins, &locked, &lang)
	u.Role, u.Language = vigil.Role(role), vigil.Language(lang)
	if locked != nil {
		u.LockedUntil = *locked
	}
	if err != nil {
		return u, err
	}
	if u.TOTPSecret, err = db.openValue("totp_secret", u.TOTPSecret); err != nil {
		return u, err
	}
	u.TOTPPending, err = db.openValue("totp_pending", u.TOTPPending)
	return u, err
}

// FindUserByName returns a staff account by name.
func (db *DB) FindUserByName(ctx context.Context, name string) (*vigil.User, error) {
	u, err := db.scanUser(db.drv.Reader().QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE name = $1`, name))
	if err != nil {
		return nil, wrap(notFound(err, "no user named %q", name), "find user")
	}
	return u, nil
}

// FindUserByID returns a staff account by ID.
func (db *DB) FindUserByID(ctx context.Context, id int64) (*vigil.User, error) {
	u, err := db.scanUser(db.drv.Reader().QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE id = $1`, id))
	if err != nil {
		return nil, wrap(notFound(err, "no user %d", id), "find user")
	}
	return u, nil
}

// ListUsers returns every staff account by name.
func (db *DB) ListUsers(ctx context.Context) ([]*vigil.User, error) {
	rows, err := db.drv.Reader().Query(ctx, `SELECT `+userColumns+` FROM users ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	defer rows.Close()
	var out []*vigil.User
	for rows.Next() {
		u, err := db.scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("list users: %w", err)
		}
		out = append(out, u)
	}
	return out, wrap(rows.Err(), "list users")
}

// CreateSession stores a new session.
func (db *DB) CreateSession(ctx context.Context, s *vigil.Session) error {
	return wrap(db.drv.WithTx(ctx, func(tx Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO sessions (token_hash, user_id, created_at, last_seen_at, expires_at, two_factor)
			VALUES ($1, $2, $3, $4, $5, $6)`, s.TokenHash, s.UserID, s.CreatedAt, s.LastSeenAt, s.ExpiresAt, s.TwoFactor)
		return err
	}), "create session")
}

// FindSession returns the unexpired, recently seen session with this token
// hash and marks it seen now.
func (db *DB) FindSession(ctx context.Context, tokenHash []byte, now time.Time, idle time.Duration) (*vigil.Session, error) {
	s := &vigil.Session{}
	err := db.drv.WithTx(ctx, func(tx Tx) error {
		return tx.QueryRow(ctx, `UPDATE sessions SET last_seen_at = $2
			WHERE token_hash = $1 AND expires_at > $2 AND last_seen_at > $3
			RETURNING token_hash, user_id, created_at, last_seen_at, expires_at, two_factor`, tokenHash, now, now.Add(-idle)).
			Scan(&s.TokenHash, &s.UserID, &s.CreatedAt, &s.LastSeenAt, &s.ExpiresAt, &s.TwoFactor)
	})
	if err != nil {
		return nil, wrap(notFound(err, "no such session"), "find session")
	}
	return s, nil
}

// DeleteSession ends a session.
func (db *DB) DeleteSession(ctx context.Context, tokenHash []byte) error {
	return wrap(db.drv.WithTx(ctx, func(tx Tx) error {
		_, err := tx.Exec(ctx, `DELETE FROM sessions WHERE token_hash = $1`, tokenHash)
		return err
	}), "delete session")
}
