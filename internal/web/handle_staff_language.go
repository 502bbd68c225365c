package web

import (
	"net/http"
	"strings"

	"github.com/vigil-hotline/vigil"
)

// handleStaffLanguage stores the language the signed-in staff member chose
// in the menu on their account, and returns to the page they were on.
func (s *Server) handleStaffLanguage(w http.ResponseWriter, r *http.Request) {
	if err := parseForm(w, r, 4<<10); err != nil || !s.checkCSRF(r) {
		s.staffRefusal(w, r, http.StatusForbidden, "form_expired")
		return
	}
	lang, ok := vigil.ParseLanguage(r.PostFormValue("lang"))
	if !ok {
		s.staffRefusal(w, r, http.StatusBadRequest, "refuse_language")
		return
	}
	if err := s.cfg.Users.SetUserLanguage(r.Context(), userFrom(r.Context()).ID, lang); err != nil {
		s.workbenchError(w, "set language", err)
		return
	}
	http.Redirect(w, r, staffBack(r.PostFormValue("back")), http.StatusSeeOther)
}

// staffBack is a staff page to return to: a path under /staff/ on this
// site (never another host), without a lang= that would override the
// choice just made; the overview otherwise.
func staffBack(back string) string {
	if !strings.HasPrefix(back, "/staff/") || strings.ContainsAny(back, "\\\r\n") || strings.HasPrefix(back, "/staff//") {
		return "/staff/"
	}
	path, query, _ := strings.Cut(back, "?")
	var keep []string
	for _, kv := range strings.Split(query, "&") {
		if kv != "" && !strings.HasPrefix(kv, "lang=") {
			keep = append(keep, kv)
		}
	}
	if len(keep) == 0 {
		return path
	}
	return path + "?" + strings.Join(keep, "&")
}
