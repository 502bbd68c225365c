package vigil

import (
	"context"
	"regexp"
	"time"
)

// Role is what a staff member may do. Roles that see media need two-factor
// authentication (the workbench issue).
type Role string

const (
	RoleAdmin      Role = "admin"
	RoleSupervisor Role = "supervisor"
	RoleAnalyst    Role = "analyst"
	RoleAuditor    Role = "auditor"
)

// Roles lists every role.
var Roles = []Role{RoleAdmin, RoleSupervisor, RoleAnalyst, RoleAuditor}

// ParseRole accepts a role name.
func ParseRole(s string) (Role, error) {
	for _, r := range Roles {
		if string(r) == s {
			return r, nil
		}
	}
	return "", Errorf(EINVALID, "unknown role %q (want admin, supervisor, analyst or auditor)", s)
}

// User is a staff account.
type User struct {
	ID           int64
	Name         string
	Role         Role
	PasswordHash string // argon2id, PHC string format
	CreatedAt    time.Time
	Disabled     bool
}

var userNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{1,63}$`)

// Validate checks a user before it is stored.
func (u *User) Validate() error {
	if !userNameRE.MatchString(u.Name) {
		return Errorf(EINVALID, "user name must be 2–64 characters: lower-case letters, digits, '.', '_' or '-'")
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
}
