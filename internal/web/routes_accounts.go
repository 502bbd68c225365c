package web

import (
	"net/http"
	"sync"
	"time"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/auth"
)

// AccountsConfig configures staff accounts: two-factor authentication,
// lockout, user administration and the audit log (issue 6).
type AccountsConfig struct {
	// Audit keeps the audit log. Without it entries are only logged as
	// errors (tests that do not need it); vigil serve always sets it.
	Audit vigil.AuditService
	// Issuer names the hotline in authenticator apps ("Vigil" if empty).
	Issuer string
	// An account is locked after LockAfter failed sign-ins in a row, for
	// LockBase, doubling with each further failure up to LockMax. Zero
	// values take the defaults (5, 1 minute, 1 hour).
	LockAfter int
	LockBase  time.Duration
	LockMax   time.Duration
	// AuditPage is how many audit entries a page shows (default 100).
	AuditPage int
	// Argon2 hashes the passwords set on the staff pages, and is what the
	// check for an unknown name costs (DefaultArgon2 when zero): it must
	// cost what a real account's check does, or timing tells the names
	// apart.
	Argon2 auth.Argon2Params
	// Passwords bounds the memory of simultaneous password checks.
	Passwords auth.VerifierConfig
}

func (c *AccountsConfig) defaults() {
	if c.Issuer == "" {
		c.Issuer = "Vigil"
	}
	if c.LockAfter <= 0 {
		c.LockAfter = 5
	}
	if c.LockBase <= 0 {
		c.LockBase = time.Minute
	}
	if c.LockMax <= 0 {
		c.LockMax = time.Hour
	}
	if c.AuditPage <= 0 {
		c.AuditPage = 100
	}
	if c.Argon2.Memory == 0 {
		c.Argon2 = auth.DefaultArgon2
	}
}

// lockFor is the back-off after the given number of failures in a row.
func (c *AccountsConfig) lockFor(failures int) time.Duration {
	if failures < c.LockAfter {
		return 0
	}
	d := c.LockBase
	for i := c.LockAfter; i < failures && d < c.LockMax; i++ {
		d *= 2
	}
	return min(d, c.LockMax)
}

// accountRoutes registers sign-in, enrolment, user administration and the
// audit log.
func (s *Server) accountRoutes(mux *http.ServeMux) {
	s.cfg.Accounts.defaults()
	s.passwords = auth.NewVerifier(s.cfg.Accounts.Passwords)
	s.dummyHash = sync.OnceValues(func() (string, error) {
		return auth.HashPassword("not a password, only for timing", s.cfg.Accounts.Argon2)
	})
	public := func(h http.HandlerFunc) http.Handler { return noStore(h) }
	mux.Handle("GET /staff/login", public(s.handleStaffLoginForm))
	mux.Handle("POST /staff/login", public(s.handleStaffLogin))
	mux.Handle("POST /staff/login/code", public(s.handleStaffLoginCode))

	// Open to a user who has still to enrol a second factor.
	pre := func(pattern string, h http.HandlerFunc) {
		s.addStaffRoute(mux, StaffRoute{Pattern: pattern, BeforeTOTP: true}, h)
	}
	pre("POST /staff/logout", s.handleStaffLogout)
	pre("POST /staff/language", s.handleStaffLanguage)
	pre("GET /staff/enrol", s.handleEnrolForm)
	pre("GET /staff/enrol/qr.png", s.handleEnrolQR)
	pre("POST /staff/enrol", s.handleEnrol)

	admin := vigil.RoleAdmin
	s.staffRoute(mux, "GET /staff/users", s.handleUsers, admin)
	s.staffRoute(mux, "POST /staff/users", s.handleUserCreate, admin)
	s.staffRoute(mux, "POST /staff/users/{id}/disable", s.handleUserDisable, admin)
	s.staffRoute(mux, "POST /staff/users/{id}/enable", s.handleUserEnable, admin)
	s.staffRoute(mux, "POST /staff/users/{id}/password", s.handleUserPassword, admin)
	s.staffRoute(mux, "POST /staff/users/{id}/reset-totp", s.handleUserResetTOTP, admin)
	s.staffRoute(mux, "POST /staff/users/{id}/role", s.handleUserRole, admin)

	s.staffRoute(mux, "GET /staff/audit", s.handleAudit, vigil.RoleAuditor, admin)
}
