package web

import (
	"net/http"
	"strconv"
)

// handleStaffExchangeEnabled switches an exchange's fetches on or off.
func (s *Server) handleStaffExchangeEnabled(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	if err := parseForm(w, r, 4<<10); err != nil || !s.checkCSRF(r) {
		s.renderExchanges(w, r, http.StatusForbidden, msgExpired, nil)
		return
	}
	enabled := r.PostFormValue("enabled") == "1"
	if err := s.cfg.Exchanges.Service.SetExchangeEnabled(r.Context(), id, enabled); err != nil {
		if httpStatus(err) >= 500 {
			s.logger.Error("exchange enable", "err", err)
		}
		s.renderExchanges(w, r, httpStatus(err), "exch_err_enable", nil)
		return
	}
	if err := s.audit(r, "exchange.enable", "exchange-id:"+strconv.FormatInt(id, 10), map[string]any{"enabled": enabled}); err != nil {
		s.renderExchanges(w, r, http.StatusInternalServerError, "exch_audit_failed", nil)
		return
	}
	done := "disabled"
	if enabled {
		done = "enabled"
	}
	http.Redirect(w, r, "/staff/exchanges?done="+done, http.StatusSeeOther)
}
