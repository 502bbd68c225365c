package web

import (
	"net/http"
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
