package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/vigil-hotline/vigil"
)

// UpdateUser changes an account and ends its sessions, in one transaction.
func (db *DB) UpdateUser(ctx context.Context, id int64, up vigil.UserUpdate) (*vigil.User, error) {
	if up.Role != nil {
		if _, err := vigil.ParseRole(string(*up.Role)); err != nil {
			return nil, err
		}
	}
	if up.PasswordHash != nil && *up.PasswordHash == "" {
		return nil, vigil.Errorf(vigil.EINVALID, "user has no password")
	}
	var u *vigil.User
	err := db.drv.WithTx(ctx, func(tx Tx) error {
		var err error
		u, err = db.scanUser(tx.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE id = $1`, id))
		if err != nil {
			return notFound(err, "no user %d", id)
		}
		if up.Role != nil {
			u.Role = *up.Role
		}
		if up.Disabled != nil {
			u.Disabled = *up.Disabled
		}
		if up.PasswordHash != nil {
			u.PasswordHash = *up.PasswordHash
			// A new password also lifts a lock: the admin who set it
			// has vouched for the person.
			u.FailedLogins, u.LockedUntil = 0, time.Time{}
		}
		if up.ResetTOTP {
			u.TOTPSecret, u.TOTPPending, u.TOTPLastStep = "", "", 0
		}
		var locked *time.Time
		if !u.LockedUntil.IsZero() {
			locked = &u.LockedUntil
		}
		secret, err := db.sealValue("totp_secret", u.TOTPSecret)
		if err != nil {
			return err
		}
		pending, err := db.sealValue("totp_pending", u.TOTPPending)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE users SET role = $2, disabled = $3, password_hash = $4,
			totp_secret = $5, totp_pending = $6, totp_last_step = $7, failed_logins = $8, locked_until = $9
			WHERE id = $1`, id, string(u.Role), u.Disabled, u.PasswordHash,
			secret, pending, u.TOTPLastStep, u.FailedLogins, locked); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `DELETE FROM sessions WHERE user_id = $1`, id)
		return err
	})
	if err != nil {
		return nil, wrap(err, "update user")
	}
	return u, nil
}

// execOne runs a one-row update and reports a missing row as notFoundErr.
func (db *DB) execOne(ctx context.Context, what string, notFoundErr error, query string, args ...any) error {
	return wrap(db.drv.WithTx(ctx, func(tx Tx) error {
		n, err := tx.Exec(ctx, query, args...)
		if err == nil && n == 0 {
			return notFoundErr
		}
		return err
	}), what)
}

// SetTOTPPending stores the secret being enrolled, sealed.
func (db *DB) SetTOTPPending(ctx context.Context, id int64, secret string) error {
	sealed, err := db.sealValue("totp_pending", secret)
	if err != nil {
		return err
	}
	return db.execOne(ctx, "set pending totp", vigil.Errorf(vigil.ENOTFOUND, "no user %d", id),
		`UPDATE users SET totp_pending = $2 WHERE id = $1`, id, sealed)
}

// ConfirmTOTP turns the pending secret into the second factor, only if it
// is still the one the user confirmed a code of. Sealed values differ at
// every sealing, so the comparison is made on the opened value, in the
// transaction that moves it (on SQLite writes are serialised; on
// PostgreSQL the row is locked).
func (db *DB) ConfirmTOTP(ctx context.Context, id int64, secret string, step int64) error {
	conflict := vigil.Errorf(vigil.ECONFLICT, "enrolment was restarted; scan the new code")
	return wrap(db.drv.WithTx(ctx, func(tx Tx) error {
		q := `SELECT totp_pending FROM users WHERE id = $1`
		if db.drv.Dialect() == "postgres" {
			q += ` FOR UPDATE`
		}
		var stored string
		if err := tx.QueryRow(ctx, q, id).Scan(&stored); err != nil {
			return notFound(err, "no user %d", id)
		}
		pending, err := db.openValue("totp_pending", stored)
		if err != nil {
			return err
		}
		if pending == "" || pending != secret {
			return conflict
		}
		n, err := tx.Exec(ctx, `UPDATE users SET totp_secret = totp_pending, totp_pending = '', totp_last_step = $3
			WHERE id = $1 AND totp_pending = $2`, id, stored, step)
		if err == nil && n == 0 {
			return conflict
		}
		return err
	}), "confirm totp")
}

// UseTOTPStep moves the replay guard forward; the condition makes two
// servers that accept the same code at the same moment agree on one.
func (db *DB) UseTOTPStep(ctx context.Context, id int64, step int64) error {
	return db.execOne(ctx, "use totp step", vigil.Errorf(vigil.ECONFLICT, "this code was used already"),
		`UPDATE users SET totp_last_step = $2 WHERE id = $1 AND totp_last_step < $2`, id, step)
}

// ReserveLoginAttempt counts an attempt before it is checked. The
// conditional UPDATE is the whole guard: on SQLite writes are serialised,
// and on PostgreSQL a concurrent UPDATE of the row waits and then
// re-evaluates the condition against the committed lock, so no two
// attempts can both pass the last free reservation.
func (db *DB) ReserveLoginAttempt(ctx context.Context, id int64, now time.Time, lock func(failures int) time.Duration) (*vigil.User, error) {
	var u *vigil.User
	err := db.drv.WithTx(ctx, func(tx Tx) error {
		var n int
		err := tx.QueryRow(ctx, `UPDATE users SET failed_logins = failed_logins + 1
			WHERE id = $1 AND (locked_until IS NULL OR locked_until <= $2)
			RETURNING failed_logins`, id, now).Scan(&n)
		if errors.Is(err, sql.ErrNoRows) {
			var one int
			if err := tx.QueryRow(ctx, `SELECT 1 FROM users WHERE id = $1`, id).Scan(&one); err != nil {
				return notFound(err, "no user %d", id)
			}
			return vigil.Errorf(vigil.ERATELIMIT, "the account is locked")
		}
		if err != nil {
			return err
		}
		if d := lock(n); d > 0 {
			if _, err := tx.Exec(ctx, `UPDATE users SET locked_until = $2 WHERE id = $1`, id, now.Add(d)); err != nil {
				return err
			}
		}
		u, err = db.scanUser(tx.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE id = $1`, id))
		return err
	})
	if err != nil {
		return nil, wrap(err, "reserve login attempt")
	}
	return u, nil
}

// ReleaseLoginAttempt takes back one reserved failure. The lock goes only
// when the count is still the one this reservation made: a later
// reservation (another guess) keeps whatever lock it set.
func (db *DB) ReleaseLoginAttempt(ctx context.Context, id int64, failures int) error {
	return db.execOne(ctx, "release login attempt", vigil.Errorf(vigil.ENOTFOUND, "no user %d", id),
		`UPDATE users SET
			locked_until = CASE WHEN failed_logins = $2 THEN NULL ELSE locked_until END,
			failed_logins = CASE WHEN failed_logins > 0 THEN failed_logins - 1 ELSE 0 END
		WHERE id = $1`, id, failures)
}

// RecordLoginSuccess clears the failure count and any lock.
func (db *DB) RecordLoginSuccess(ctx context.Context, id int64) error {
	return db.execOne(ctx, "record login success", vigil.Errorf(vigil.ENOTFOUND, "no user %d", id),
		`UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = $1`, id)
}

// SetUserLanguage stores the language of a user's staff pages; empty
// follows the browser. Sessions stay open: it is a preference.
func (db *DB) SetUserLanguage(ctx context.Context, id int64, lang vigil.Language) error {
	if _, ok := vigil.ParseLanguage(string(lang)); !ok && lang != "" {
		return vigil.Errorf(vigil.EINVALID, "unsupported language %q", lang)
	}
	return db.execOne(ctx, "set user language", vigil.Errorf(vigil.ENOTFOUND, "no user %d", id),
		`UPDATE users SET language = $2 WHERE id = $1`, id, string(lang))
}

// SetSessionTwoFactor marks a session as confirmed with a second factor.
func (db *DB) SetSessionTwoFactor(ctx context.Context, tokenHash []byte) error {
	return db.execOne(ctx, "set session two-factor", vigil.Errorf(vigil.ENOTFOUND, "no such session"),
		`UPDATE sessions SET two_factor = $2 WHERE token_hash = $1`, tokenHash, true)
}

// DeleteUserSessions ends every session of a user.
func (db *DB) DeleteUserSessions(ctx context.Context, id int64) error {
	return wrap(db.drv.WithTx(ctx, func(tx Tx) error {
		_, err := tx.Exec(ctx, `DELETE FROM sessions WHERE user_id = $1`, id)
		return err
	}), "delete user sessions")
}
