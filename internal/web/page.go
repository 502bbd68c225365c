package web

import (
	"errors"
	"net/http"
	"time"

	"github.com/vigil-hotline/vigil"
)

// page is what every public template gets.
type page struct {
	Lang  vigil.Language
	T     map[string]string
	Langs []langLink
	CSRF  string
	// Error is a message for the visitor, already translated.
	Error string
	Data  any
	// Public is the hotline's identity and help routes, on public pages
	// only (nil on staff pages).
	Public *publicChrome
	// loc is the time zone times are shown in (When).
	loc *time.Location
}

type langLink struct {
	Code    vigil.Language
	Name    string
	Current bool
}

func (s *Server) newPage(w http.ResponseWriter, r *http.Request, lang vigil.Language) *page {
	p := &page{Lang: lang, T: s.catalog.texts[lang], CSRF: s.csrfToken(w, r), Public: s.chrome(lang)}
	for _, l := range vigil.Languages {
		p.Langs = append(p.Langs, langLink{Code: l, Name: s.catalog.T(l, "lang_name"), Current: l == lang})
	}
	return p
}

// userMessage translates a domain error for a reporter: its Key if it has
// one, else a generic text by status, never internals.
func (s *Server) userMessage(lang vigil.Language, err error) string {
	var e *vigil.Error
	if errors.As(err, &e) && e.Key != "" {
		p := &page{Lang: lang, T: s.catalog.texts[lang]}
		return p.Tf(e.Key, e.Args...)
	}
	switch httpStatus(err) {
	case http.StatusNotFound:
		return s.catalog.T(lang, "err_not_found")
	case http.StatusBadRequest:
		return s.catalog.T(lang, "err_bad_request")
	case http.StatusRequestEntityTooLarge:
		return s.catalog.T(lang, "err_too_large")
	case http.StatusTooManyRequests:
		return s.catalog.T(lang, "err_rate_limited")
	}
	return s.catalog.T(lang, "err_internal")
}

// keyError is a refusal whose message is a catalogue key.
func keyError(code, key string) error { return &vigil.Error{Code: code, Key: key, Message: key} }

// parseForm reads a form body within the limit, telling a body that is too
// large apart from one that is malformed.
func parseForm(w http.ResponseWriter, r *http.Request, limit int64) error {
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	if err := r.ParseForm(); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return keyError(vigil.ETOOLARGE, "err_too_large")
		}
		return keyError(vigil.EINVALID, "err_bad_request")
	}
	return nil
}
