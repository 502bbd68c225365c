package web

import (
	"net/http"
)

// legalPage is the imprint or the privacy notice.
type legalPage struct {
	Title      string
	Paragraphs []string
}

// handleLegal shows the hotline's imprint (/imprint) or privacy notice
// (/privacy) in the visitor's language: the configured text, else Vigil's
// own.
func (s *Server) handleLegal(w http.ResponseWriter, r *http.Request) {
	lang := s.catalog.language(r)
	id := &s.cfg.Identity
	var lp legalPage
	if r.URL.Path == "/imprint" {
		lp.Title = s.catalog.T(lang, "imprint_title")
		lp.Paragraphs = paragraphs(id.text(id.Imprint, lang))
		if lp.Paragraphs == nil {
			lp.Paragraphs = paragraphs(s.catalog.T(lang, "imprint_default"))
		}
	} else {
		lp.Title = s.catalog.T(lang, "privacy_title")
		lp.Paragraphs = paragraphs(id.text(id.Privacy, lang))
		if lp.Paragraphs == nil {
			lp.Paragraphs = paragraphs(s.catalog.T(lang, "privacy_default"))
		}
	}
	s.render(w, r, http.StatusOK, "legal", s.newPage(w, r, lang).with(lp))
}
