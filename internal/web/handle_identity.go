package web

import (
	"net/http"
)

// handleIdentityCSS serves the hotline's colours as a style sheet (the CSP
// allows no inline styles); empty when none are configured.
func (s *Server) handleIdentityCSS(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	_, _ = w.Write(s.cfg.Identity.css())
}

// handleIdentityLogo serves the configured logo, read at start-up.
func (s *Server) handleIdentityLogo(w http.ResponseWriter, r *http.Request) {
	id := &s.cfg.Identity
	if id.logo == nil {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", id.logoType)
	w.Header().Set("Cache-Control", "public, max-age=3600")
	// An SVG logo is shown through <img>, where scripts never run; this
	// also stops them when the file is opened on its own.
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; sandbox")
	_, _ = w.Write(id.logo)
}
