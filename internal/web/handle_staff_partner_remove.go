package web

import (
	"net/http"
)

// handlePartnerRemove removes a partner: its referrals stay on the
// record, further ones are refused.
func (s *Server) handlePartnerRemove(w http.ResponseWriter, r *http.Request) {
	if err := parseForm(w, r, 4<<10); err != nil || !s.checkCSRF(r) {
		s.renderPartners(w, r, http.StatusForbidden, msgExpired, "")
		return
	}
	name := r.PathValue("name")
	if err := s.cfg.Federation.Partners.RemovePartner(r.Context(), name); err != nil {
		if httpStatus(err) == http.StatusInternalServerError {
			s.logger.Error("remove partner", "err", err)
		}
		s.renderPartners(w, r, httpStatus(err), s.staffErrorText(r, err), "")
		return
	}
	if err := s.audit(r, "partner.remove", "partner:"+name, nil); err != nil {
		s.renderPartners(w, r, http.StatusInternalServerError, "partners_audit_failed_remove", "")
		return
	}
	http.Redirect(w, r, "/staff/partners?done=removed", http.StatusSeeOther)
}
