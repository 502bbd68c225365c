// Package vigil holds Vigil's domain: the types a hotline works with, their
// validation rules, and the narrow service interfaces that the stores
// (internal/sqlite, internal/postgres) implement.
package vigil

import (
	"errors"
	"fmt"
)

// Error codes. They map onto HTTP statuses in internal/web and onto exit
// statuses in cmd/vigil; the domain never speaks HTTP itself.
const (
	ECONFLICT     = "conflict"
	EINTERNAL     = "internal"
	EINVALID      = "invalid"
	ENOTFOUND     = "not_found"
	EUNAUTHORIZED = "unauthorized"
	EFORBIDDEN    = "forbidden"
	ETOOLARGE     = "too_large"
	ERATELIMIT    = "rate_limited"
	EUNSUPPORTED  = "unsupported" // a media type Vigil cannot read
)

// Error is a domain error whose message is safe to show to the person who
// caused it. Anything else is reported as an internal error.
type Error struct {
	Code    string
	Message string
	// Key names a translatable message (see internal/web/i18n) for errors
	// shown to reporters and staff; empty when Message is enough. Args
	// fill the translation's {1}, {2}.
	Key  string
	Args []any
}

// WithKey names the catalogue text that shows e in the staff member's or
// reporter's language (Message stays the English text for the CLI, the
// API and logs).
func (e *Error) WithKey(key string, args ...any) *Error {
	e.Key, e.Args = key, args
	return e
}

func (e *Error) Error() string { return fmt.Sprintf("vigil: %s: %s", e.Code, e.Message) }

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL
// for any other error, and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Code
	default:
		return EINTERNAL
	}
}

// ErrorMessage returns the human-readable message of the first *Error in
// err's chain, and a generic text for any other error so that internals never
// leak to a client.
func ErrorMessage(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Message
	default:
		return "Internal error."
	}
}

// IsNotFound reports whether err is a not-found domain error.
func IsNotFound(err error) bool { return ErrorCode(err) == ENOTFOUND }
