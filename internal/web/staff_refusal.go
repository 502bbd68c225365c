package web

import (
	"errors"
	"net/http"

	"github.com/vigil-hotline/vigil"
)

// staffRefusal answers a staff request that has no page to show its
// refusal on (a form posted from the workbench, a media view) with a
// short plain text in the staff member's language: key is a catalogue
// key, args fill its {1}, {2}.
func (s *Server) staffRefusal(w http.ResponseWriter, r *http.Request, status int, key string, args ...any) {
	lang := s.staffLanguage(r)
	p := &page{Lang: lang, T: s.catalog.texts[lang]}
	http.Error(w, p.Tf(key, args...), status)
}

// staffErrorText is a domain error's message for a staff page, in the
// staff member's language where the error names a catalogue text (its
// Key), else its English Message; never internals.
func (s *Server) staffErrorText(r *http.Request, err error) string {
	var e *vigil.Error
	if errors.As(err, &e) && e.Key != "" {
		lang := s.staffLanguage(r)
		p := &page{Lang: lang, T: s.catalog.texts[lang]}
		return p.Tf(e.Key, e.Args...)
	}
	return vigil.ErrorMessage(err)
}
