package vigil

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Role is what a staff member may do: one role ("analyst") or several,
// comma-separated in the order of Roles ("admin,analyst"), since in a small
// hotline one person is often admin and analyst. Roles that see media need
// two-factor authentication (the workbench issue). Four eyes still needs
// two different people: it compares accounts, not roles.
type Role string

// NeedsTOTP reports whether the role must sign in with a second factor.
// Analysts and supervisors see media. Admins are held to it too: they can
// reset anyone's password and second factor, so their account is a way to
// every other one. Auditors read the log only and may enrol if they wish;
// once enrolled, their code is asked for like anyone's.
func (r Role) NeedsTOTP() bool {
	for _, x := range r.List() {
		if x != RoleAuditor {
			return true
		}
	}
	return false
}

// List returns the roles held.
func (r Role) List() []Role {
	var out []Role
	for _, x := range strings.Split(string(r), ",") {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, Role(x))
		}
	}
	return out
}

// Has reports whether role x is among those held.
func (r Role) Has(x Role) bool { return slices.Contains(r.List(), x) }

// HasAny reports whether any of roles is held.
func (r Role) HasAny(roles ...Role) bool {
	for _, x := range roles {
		if r.Has(x) {
			return true
		}
	}
	return false
}

const (
	RoleAdmin      Role = "admin"
	RoleSupervisor Role = "supervisor"
	RoleAnalyst    Role = "analyst"
	RoleAuditor    Role = "auditor"
)

// Roles lists every role.
var Roles = []Role{RoleAdmin, RoleSupervisor, RoleAnalyst, RoleAuditor}

// ParseRole accepts a role name, or several comma-separated, and returns
// them in their canonical order ("analyst,admin" is "admin,analyst").
func ParseRole(s string) (Role, error) {
	held := map[Role]bool{}
	for _, name := range strings.Split(s, ",") {
		name = strings.ToLower(strings.TrimSpace(name))
		if !slices.Contains(Roles, Role(name)) {
			return "", Errorf(EINVALID, "unknown role %q (want admin, supervisor, analyst or auditor, or several comma-separated)", name)
		}
		held[Role(name)] = true
	}
	var out []string
	for _, r := range Roles {
		if held[r] {
			out = append(out, string(r))
		}
	}
	return Role(strings.Join(out, ",")), nil
}

// User is a staff account.
type User struct {
	ID           int64
	Name         string
	Role         Role
	PasswordHash string // argon2id, PHC string format
	CreatedAt    time.Time
	Disabled     bool

	// TOTPSecret is the enrolled RFC 6238 secret (base32); empty until the
	// user has enrolled. TOTPPending is the secret shown during enrolment,
	// until a code from it is confirmed. TOTPLastStep is the time step of
	// the last code accepted: codes of that step or earlier are replays.
	TOTPSecret   string
	TOTPPending  string
	TOTPLastStep int64
	// FailedLogins counts failed sign-ins since the last success;
	// LockedUntil refuses sign-ins until then (zero when not locked).
	FailedLogins int
	LockedUntil  time.Time
	// Language is the one the staff pages are shown in; empty follows the
	// browser's Accept-Language.
	Language Language
}

// HasTOTP reports whether the user has enrolled a second factor.
func (u *User) HasTOTP() bool { return u.TOTPSecret != "" }

var userNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{1,63}$`)

// Validate checks a user before it is stored.
func (u *User) Validate() error {
	if !userNameRE.MatchString(u.Name) {
		return Errorf(EINVALID, "user name must be 2–64 characters: lower-case letters, digits, '.', '_' or '-'").WithKey("users_err_name")
	}
	if _, err := ParseRole(string(u.Role)); err != nil {
		return err
	}
	if u.PasswordHash == "" {
		return Errorf(EINVALID, "user has no password")
	}
	return nil
}

// Session is a signed-in staff member's session. Only the SHA-256 of its
// token is stored.
type Session struct {
	TokenHash  []byte
	UserID     int64
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time
	// TwoFactor is set when the session was opened (or later confirmed)
	// with a TOTP code.
	TwoFactor bool
}

// UserUpdate changes a staff account; nil fields stay as they are. Every
// update ends the user's sessions, so that nobody keeps rights they lost.
type UserUpdate struct {
	Role         *Role
	Disabled     *bool
	PasswordHash *string
	// ResetTOTP removes the second factor: the user enrols again at the
	// next sign-in.
	ResetTOTP bool
}

// UserService stores staff accounts and their sessions.
type UserService interface {
	CreateUser(ctx context.Context, u *User) error
	FindUserByName(ctx context.Context, name string) (*User, error)
	FindUserByID(ctx context.Context, id int64) (*User, error)
	ListUsers(ctx context.Context) ([]*User, error)

	CreateSession(ctx context.Context, s *Session) error
	// FindSession returns the session for a token hash if it has not
	// expired and was last seen within idle of now, and moves its last-seen
	// time to now.
	FindSession(ctx context.Context, tokenHash []byte, now time.Time, idle time.Duration) (*Session, error)
	DeleteSession(ctx context.Context, tokenHash []byte) error

	// UpdateUser changes an account and ends its sessions.
	UpdateUser(ctx context.Context, id int64, up UserUpdate) (*User, error)
	// SetTOTPPending stores the secret being enrolled.
	SetTOTPPending(ctx context.Context, id int64, secret string) error
	// ConfirmTOTP makes the pending secret the user's second factor, with
	// step as the last code used. It fails with ECONFLICT when the pending
	// secret is no longer the one given (enrolment restarted elsewhere).
	ConfirmTOTP(ctx context.Context, id int64, secret string, step int64) error
	// UseTOTPStep records that a code of this step was accepted; it fails
	// with ECONFLICT if that step or a later one was used already (a
	// replay, possibly on another server at the same moment).
	UseTOTPStep(ctx context.Context, id int64, step int64) error
	// ReserveLoginAttempt counts a sign-in attempt as failed before its
	// password or code is checked, and locks the account for
	// lock(failures) from now when that is more than zero. It fails with
	// ERATELIMIT, counting nothing, while the account is locked. Counting
	// first, in one statement, is what bounds simultaneous guesses: each
	// needs its own reservation, and none is granted past the lock.
	ReserveLoginAttempt(ctx context.Context, id int64, now time.Time, lock func(failures int) time.Duration) (*User, error)
	// ReleaseLoginAttempt gives back a reservation whose password was
	// right (the sign-in goes on to its code): failures is the count the
	// reservation returned; a lock it set is lifted if no attempt was
	// reserved since.
	ReleaseLoginAttempt(ctx context.Context, id int64, failures int) error
	// RecordLoginSuccess clears the failure count and any lock.
	RecordLoginSuccess(ctx context.Context, id int64) error
	// SetUserLanguage stores the language of the user's staff pages
	// (empty: the browser's).
	SetUserLanguage(ctx context.Context, id int64, lang Language) error
	// SetSessionTwoFactor marks a session as confirmed with a second factor.
	SetSessionTwoFactor(ctx context.Context, tokenHash []byte) error
	// DeleteUserSessions ends every session of a user.
	DeleteUserSessions(ctx context.Context, id int64) error
}
