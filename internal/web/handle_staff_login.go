package web

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/auth"
)

// pendingCookie carries a sign-in between the password and the code: the
// user's ID and a deadline, signed with the server's secret and bound to
// the password hash (a password change voids it). It grants nothing but
// the right to type a code, and every wrong code counts towards lockout.
const (
	pendingCookie = "vigil_login"
	pendingTTL    = 5 * time.Minute
)

// msgWrongPassword is the one answer to a wrong name, a wrong password, a
// disabled or a locked account: a distinct answer for locked accounts
// would tell which names exist.
// They are catalogue keys (accounts.LANG.json): render shows a staff
// page's Error in the page's language.
const (
	msgWrongPassword = "login_wrong_password"
	msgWrongCode     = "login_wrong_code"
	msgLocked        = "login_locked"
	msgExpired       = "form_expired"
	msgBusy          = "login_busy"
)

// handleStaffLoginForm shows the staff login page.
func (s *Server) handleStaffLoginForm(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "staff_login", s.newStaffPage(w, r, nil))
}

func (s *Server) loginRefused(w http.ResponseWriter, r *http.Request, status int, tmpl, msg string) {
	p := s.newStaffPage(w, r, nil)
	p.Error = msg
	s.render(w, r, status, tmpl, p)
}

// handleStaffLogin checks a name and password. A user with a second factor
// is then asked for a code; one without signs in (and is sent to enrolment
// if the role needs one).
//
// The attempt is counted against the account before the password is
// checked (see ReserveLoginAttempt), so simultaneous guesses cannot
// outrun the lock. Unknown names and locked accounts get the same answer
// as a wrong password, after a check of the same cost.
func (s *Server) handleStaffLogin(w http.ResponseWriter, r *http.Request) {
	if err := parseForm(w, r, 8<<10); err != nil || !s.checkCSRF(r) {
		s.loginRefused(w, r, http.StatusForbidden, "staff_login", msgExpired)
		return
	}
	name, password := r.PostFormValue("name"), r.PostFormValue("password")
	if !s.formLimit.allow("login:" + s.clientKey(r)) {
		s.loginRefused(w, r, http.StatusTooManyRequests, "staff_login", "login_too_many")
		return
	}
	ctx := r.Context()
	now := s.cfg.Now()
	u, err := s.cfg.Users.FindUserByName(ctx, name)
	if err != nil {
		if !vigil.IsNotFound(err) {
			s.logger.Error("login", "err", err)
		}
		if s.dummyCheck(w, r, password) {
			_ = s.auditAs(ctx, nil, "login.failed", "", map[string]any{"name": truncate(name, 64), "reason": "unknown user"})
			s.loginRefused(w, r, http.StatusUnauthorized, "staff_login", msgWrongPassword)
		}
		return
	}
	res, err := s.cfg.Users.ReserveLoginAttempt(ctx, u.ID, now, s.cfg.Accounts.lockFor)
	if err != nil {
		if vigil.ErrorCode(err) != vigil.ERATELIMIT {
			s.logger.Error("login", "err", err)
		}
		// Refused even with the right password, or the lock would only
		// slow guessing down instead of stopping it; not counted.
		if s.dummyCheck(w, r, password) {
			_ = s.auditAs(ctx, u, "login.failed", userObject(u), map[string]any{"reason": "locked"})
			s.loginRefused(w, r, http.StatusUnauthorized, "staff_login", msgWrongPassword)
		}
		return
	}
	ok, err := s.passwords.Verify(ctx, password, u.PasswordHash)
	if errors.Is(err, auth.ErrBusy) {
		s.releaseAttempt(r, u, res.FailedLogins) // not checked: not a failure
		s.loginBusy(w, r)
		return
	}
	if !ok || u.Disabled {
		reason := "password"
		if ok {
			reason = "disabled"
		}
		s.loginFailed(w, r, res, reason, "staff_login", msgWrongPassword)
		return
	}
	if u.HasTOTP() {
		// The password was right: its reservation goes back, and the
		// code is counted on its own.
		s.releaseAttempt(r, u, res.FailedLogins)
		s.setPendingCookie(w, u, now)
		s.render(w, r, http.StatusOK, "staff_login_code", s.newStaffPage(w, r, nil))
		return
	}
	next := "/staff/"
	if u.Role.NeedsTOTP() {
		next = "/staff/enrol"
	}
	s.startSession(w, r, u, false, next)
}

// dummyCheck runs a password check that cannot succeed, so that a refusal
// without a real check takes as long as one with. It answers 503 itself
// and returns false when the server is too busy to check.
func (s *Server) dummyCheck(w http.ResponseWriter, r *http.Request, password string) bool {
	hash, err := s.dummyHash()
	if err != nil {
		s.logger.Error("login", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return false
	}
	if _, err := s.passwords.Verify(r.Context(), password, hash); errors.Is(err, auth.ErrBusy) {
		s.loginBusy(w, r)
		return false
	}
	return true
}

// loginBusy answers a sign-in that found no memory to check a password in.
func (s *Server) loginBusy(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Retry-After", "30")
	s.loginRefused(w, r, http.StatusServiceUnavailable, "staff_login", msgBusy)
}

func (s *Server) releaseAttempt(r *http.Request, u *vigil.User, failures int) {
	if err := s.cfg.Users.ReleaseLoginAttempt(r.Context(), u.ID, failures); err != nil {
		s.logger.Error("login", "err", err)
	}
}

// handleStaffLoginCode checks the second factor of a pending sign-in.
func (s *Server) handleStaffLoginCode(w http.ResponseWriter, r *http.Request) {
	if err := parseForm(w, r, 4<<10); err != nil || !s.checkCSRF(r) {
		s.loginRefused(w, r, http.StatusForbidden, "staff_login", msgExpired)
		return
	}
	if !s.formLimit.allow("login:" + s.clientKey(r)) {
		s.loginRefused(w, r, http.StatusTooManyRequests, "staff_login_code", "login_too_many")
		return
	}
	ctx := r.Context()
	now := s.cfg.Now()
	u := s.pendingUser(r, now)
	if u == nil || u.Disabled || !u.HasTOTP() {
		s.clearPendingCookie(w)
		s.loginRefused(w, r, http.StatusUnauthorized, "staff_login", "The sign-in has expired. Start again.")
		return
	}
	// Whoever is here knows the password, so the lock may say its name.
	res, err := s.cfg.Users.ReserveLoginAttempt(ctx, u.ID, now, s.cfg.Accounts.lockFor)
	if err != nil {
		if vigil.ErrorCode(err) != vigil.ERATELIMIT {
			s.logger.Error("login code", "err", err)
		}
		s.clearPendingCookie(w)
		_ = s.auditAs(ctx, u, "login.failed", userObject(u), map[string]any{"reason": "locked"})
		s.loginRefused(w, r, http.StatusTooManyRequests, "staff_login", msgLocked)
		return
	}
	step, ok := auth.VerifyTOTP(u.TOTPSecret, r.PostFormValue("code"), now, u.TOTPLastStep)
	if ok {
		// The store has the last word on replays: another server may have
		// taken the same code a moment ago.
		if err := s.cfg.Users.UseTOTPStep(ctx, u.ID, step); err != nil {
			if vigil.ErrorCode(err) != vigil.ECONFLICT {
				s.logger.Error("login code", "err", err)
			}
			ok = false
		}
	}
	if !ok {
		s.loginFailed(w, r, res, "code", "staff_login_code", msgWrongCode)
		return
	}
	s.clearPendingCookie(w)
	s.startSession(w, r, u, true, "/staff/")
}

// loginFailed records a failed attempt, already counted by its
// reservation u, and answers it. A failed code that locks the account
// ends the pending sign-in; a failed password says nothing of the lock.
func (s *Server) loginFailed(w http.ResponseWriter, r *http.Request, u *vigil.User, reason, tmpl, msg string) {
	detail := map[string]any{"reason": reason, "failures": u.FailedLogins}
	status := http.StatusUnauthorized
	if !u.LockedUntil.IsZero() && s.cfg.Now().Before(u.LockedUntil) {
		detail["locked_until"] = u.LockedUntil.UTC().Format(time.RFC3339)
		if tmpl == "staff_login_code" {
			tmpl, msg, status = "staff_login", msgLocked, http.StatusTooManyRequests
			s.clearPendingCookie(w)
		}
	}
	s.logger.Info("login refused", "user", u.Name, "reason", reason)
	_ = s.auditAs(r.Context(), u, "login.failed", userObject(u), detail)
	s.loginRefused(w, r, status, tmpl, msg)
}

// startSession opens a session, records the sign-in, sets the cookie and
// goes on to next. A sign-in that cannot be audited does not happen.
func (s *Server) startSession(w http.ResponseWriter, r *http.Request, u *vigil.User, twoFactor bool, next string) {
	ctx := r.Context()
	tok := auth.NewToken()
	now := s.cfg.Now()
	sess := &vigil.Session{TokenHash: auth.HashToken(tok), UserID: u.ID, CreatedAt: now, LastSeenAt: now,
		ExpiresAt: now.Add(s.cfg.SessionMax), TwoFactor: twoFactor}
	if err := s.cfg.Users.RecordLoginSuccess(ctx, u.ID); err != nil {
		s.logger.Error("login", "err", err)
	}
	if err := s.cfg.Users.CreateSession(ctx, sess); err != nil {
		s.logger.Error("login", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	if err := s.auditAs(ctx, u, "login", userObject(u), map[string]any{"two_factor": twoFactor}); err != nil {
		_ = s.cfg.Users.DeleteSession(ctx, sess.TokenHash)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	s.logger.Info("login", "user", u.Name, "role", u.Role, "two_factor", twoFactor)
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: tok, Path: "/staff/", HttpOnly: true,
		Secure: s.cfg.SecureCookies, SameSite: http.SameSiteStrictMode, Expires: sess.ExpiresAt.Add(time.Minute)})
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// handleStaffLogout ends the session.
func (s *Server) handleStaffLogout(w http.ResponseWriter, r *http.Request) {
	if err := parseForm(w, r, 4<<10); err != nil || !s.checkCSRF(r) {
		s.staffRefusal(w, r, http.StatusForbidden, "form_expired")
		return
	}
	_ = s.audit(r, "logout", userObject(userFrom(r.Context())), nil)
	if sess := sessionFrom(r.Context()); sess != nil {
		if err := s.cfg.Users.DeleteSession(r.Context(), sess.TokenHash); err != nil {
			s.logger.Error("logout", "err", err)
		}
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/staff/", MaxAge: -1, HttpOnly: true,
		Secure: s.cfg.SecureCookies, SameSite: http.SameSiteStrictMode})
	http.Redirect(w, r, "/staff/login", http.StatusSeeOther)
}

func (s *Server) pendingMAC(payload, passwordHash string) string {
	m := hmac.New(sha256.New, s.cfg.Secret)
	m.Write([]byte("login:" + payload + ":" + passwordHash))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func (s *Server) setPendingCookie(w http.ResponseWriter, u *vigil.User, now time.Time) {
	payload := fmt.Sprintf("%d.%d", u.ID, now.Add(pendingTTL).Unix())
	http.SetCookie(w, &http.Cookie{Name: pendingCookie, Value: payload + "." + s.pendingMAC(payload, u.PasswordHash),
		Path: "/staff/login", HttpOnly: true, Secure: s.cfg.SecureCookies, SameSite: http.SameSiteStrictMode,
		MaxAge: int(pendingTTL / time.Second)})
}

func (s *Server) clearPendingCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: pendingCookie, Value: "", Path: "/staff/login", MaxAge: -1, HttpOnly: true,
		Secure: s.cfg.SecureCookies, SameSite: http.SameSiteStrictMode})
}

// pendingUser returns the user of a valid, unexpired pending sign-in.
func (s *Server) pendingUser(r *http.Request, now time.Time) *vigil.User {
	c, err := r.Cookie(pendingCookie)
	if err != nil {
		return nil
	}
	parts := strings.Split(c.Value, ".")
	if len(parts) != 3 {
		return nil
	}
	id, err1 := strconv.ParseInt(parts[0], 10, 64)
	deadline, err2 := strconv.ParseInt(parts[1], 10, 64)
	if err1 != nil || err2 != nil || now.Unix() > deadline {
		return nil
	}
	u, err := s.cfg.Users.FindUserByID(r.Context(), id)
	if err != nil {
		return nil
	}
	if !hmac.Equal([]byte(parts[2]), []byte(s.pendingMAC(parts[0]+"."+parts[1], u.PasswordHash))) {
		return nil
	}
	return u
}

func userObject(u *vigil.User) string {
	if u == nil {
		return ""
	}
	return "user:" + strconv.FormatInt(u.ID, 10)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}
