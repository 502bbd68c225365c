package web

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strings"

	"github.com/vigil-hotline/vigil"
)

const csrfCookie = "vigil_csrf"

// csrfToken returns the browser's CSRF token, setting the cookie when the
// browser has none or a forged one. The token is a random nonce with its
// HMAC under the server's secret (a signed double-submit cookie): a
// sibling domain that plants a cookie still cannot make a valid one. It is
// the only cookie a reporter ever receives, and it identifies nothing: the
// server keeps no record of it.
//
// Signed-in staff get a token bound to their session instead (see
// sessionCSRF), so that a token taken from another browser is worthless
// next to the victim's session cookie.
func (s *Server) csrfToken(w http.ResponseWriter, r *http.Request) string {
	if sess := sessionFrom(r.Context()); sess != nil {
		return s.sessionCSRF(sess)
	}
	if c, err := r.Cookie(csrfCookie); err == nil && s.validCSRF(c.Value) {
		return c.Value
	}
	nonce := make([]byte, 24)
	_, _ = rand.Read(nonce)
	n := base64.RawURLEncoding.EncodeToString(nonce)
	tok := n + "." + s.csrfMAC(n)
	http.SetCookie(w, &http.Cookie{
		Name: csrfCookie, Value: tok, Path: "/", HttpOnly: true,
		Secure: s.cfg.SecureCookies, SameSite: http.SameSiteStrictMode,
	})
	return tok
}

func (s *Server) csrfMAC(nonce string) string {
	m := hmac.New(sha256.New, s.cfg.Secret)
	m.Write([]byte("csrf:" + nonce))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func (s *Server) validCSRF(tok string) bool {
	n, mac, ok := strings.Cut(tok, ".")
	return ok && n != "" && hmac.Equal([]byte(mac), []byte(s.csrfMAC(n)))
}

// sessionCSRF is the CSRF token of a staff session: a MAC of its token
// hash, which only the server and that session's browser can produce.
func (s *Server) sessionCSRF(sess *vigil.Session) string {
	m := hmac.New(sha256.New, s.cfg.Secret)
	m.Write([]byte("csrf-session:"))
	m.Write(sess.TokenHash)
	return "s." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// checkCSRF verifies that a form post carries the token of its own cookie,
// or, once signed in, of its own session. The form must already be parsed.
func (s *Server) checkCSRF(r *http.Request) bool {
	if sess := sessionFrom(r.Context()); sess != nil {
		return hmac.Equal([]byte(r.PostFormValue("csrf")), []byte(s.sessionCSRF(sess)))
	}
	c, err := r.Cookie(csrfCookie)
	if err != nil {
		return false
	}
	form := r.PostFormValue("csrf")
	return s.validCSRF(c.Value) && hmac.Equal([]byte(form), []byte(c.Value))
}
