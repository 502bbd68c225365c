package web

import (
	"net/http"
	"time"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/auth"
)

// dummyHash is verified against when the user name is unknown, so that a
// login takes as long for a missing user as for a wrong password.
var dummyHash, _ = auth.HashPassword("not a password, only for timing", auth.DefaultArgon2)

// handleStaffLoginForm shows the staff login page.
func (s *Server) handleStaffLoginForm(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "staff_login", s.newStaffPage(w, r, nil))
}

// handleStaffLogin checks a name and password and starts a session.
func (s *Server) handleStaffLogin(w http.ResponseWriter, r *http.Request) {
	if err := parseForm(w, r, 8<<10); err != nil || !s.checkCSRF(r) {
		p := s.newStaffPage(w, r, nil)
		p.Error = "The form has expired. Reload the page and try again."
		s.render(w, r, http.StatusForbidden, "staff_login", p)
		return
	}
	name, password := r.PostFormValue("name"), r.PostFormValue("password")
	if !s.formLimit.allow("login:" + clientKey(r)) {
		p := s.newStaffPage(w, r, nil)
		p.Error = "Too many attempts. Wait a few minutes."
		s.render(w, r, http.StatusTooManyRequests, "staff_login", p)
		return
	}
	u, err := s.cfg.Users.FindUserByName(r.Context(), name)
	hash := dummyHash
	if err == nil {
		hash = u.PasswordHash
	} else if !vigil.IsNotFound(err) {
		s.logger.Error("login", "err", err)
	}
	ok, _ := auth.VerifyPassword(password, hash)
	if err != nil || !ok || u.Disabled {
		s.logger.Info("login refused", "user", name)
		p := s.newStaffPage(w, r, nil)
		p.Error = "Wrong name or password."
		s.render(w, r, http.StatusUnauthorized, "staff_login", p)
		return
	}
	tok := auth.NewToken()
	now := s.cfg.Now()
	sess := &vigil.Session{TokenHash: auth.HashToken(tok), UserID: u.ID, CreatedAt: now, LastSeenAt: now,
		ExpiresAt: now.Add(s.cfg.SessionMax)}
	if err := s.cfg.Users.CreateSession(r.Context(), sess); err != nil {
		s.logger.Error("login", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	s.logger.Info("login", "user", u.Name, "role", u.Role)
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: tok, Path: "/staff/", HttpOnly: true,
		Secure: s.cfg.SecureCookies, SameSite: http.SameSiteStrictMode, Expires: sess.ExpiresAt.Add(time.Minute)})
	http.Redirect(w, r, "/staff/", http.StatusSeeOther)
}

// handleStaffLogout ends the session.
func (s *Server) handleStaffLogout(w http.ResponseWriter, r *http.Request) {
	if err := parseForm(w, r, 4<<10); err != nil || !s.checkCSRF(r) {
		http.Error(w, "the form has expired", http.StatusForbidden)
		return
	}
	if c, err := r.Cookie(sessionCookie); err == nil {
		if err := s.cfg.Users.DeleteSession(r.Context(), auth.HashToken(c.Value)); err != nil {
			s.logger.Error("logout", "err", err)
		}
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/staff/", MaxAge: -1, HttpOnly: true,
		Secure: s.cfg.SecureCookies, SameSite: http.SameSiteStrictMode})
	http.Redirect(w, r, "/staff/login", http.StatusSeeOther)
}
