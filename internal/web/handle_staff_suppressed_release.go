package web

import (
	"net/http"
	"strconv"
)

// handleSuppressedRelease puts a quarantined or disputed entry back into
// matching.
func (s *Server) handleSuppressedRelease(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	if err := parseForm(w, r, 4<<10); err != nil || !s.checkCSRF(r) {
		s.renderSuppressed(w, r, http.StatusForbidden, msgExpired)
		return
	}
	if err := s.cfg.Trust.Service.ReleaseEntry(r.Context(), id); err != nil {
		if httpStatus(err) >= 500 {
			s.logger.Error("release entry", "err", err)
		}
		s.renderSuppressed(w, r, httpStatus(err), "sup_err_release")
		return
	}
	if err := s.audit(r, "upstream.release", "bank_entry:"+strconv.FormatInt(id, 10), nil); err != nil {
		s.renderSuppressed(w, r, http.StatusInternalServerError, "exch_audit_failed")
		return
	}
	http.Redirect(w, r, "/staff/exchanges/suppressed?done=released", http.StatusSeeOther)
}
