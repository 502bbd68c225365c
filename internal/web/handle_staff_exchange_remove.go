package web

import (
	"net/http"
	"strconv"
)

// handleStaffExchangeRemove removes an exchange (its entries stay).
func (s *Server) handleStaffExchangeRemove(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	if err := parseForm(w, r, 4<<10); err != nil || !s.checkCSRF(r) {
		s.renderExchanges(w, r, http.StatusForbidden, msgExpired, nil)
		return
	}
	x, err := s.cfg.Exchanges.Service.FindExchangeByID(r.Context(), id)
	if err == nil {
		err = s.cfg.Exchanges.Service.RemoveExchange(r.Context(), id)
	}
	if err != nil {
		if httpStatus(err) >= 500 {
			s.logger.Error("exchange remove", "err", err)
		}
		s.renderExchanges(w, r, httpStatus(err), "exch_err_remove", nil)
		return
	}
	if err := s.audit(r, "exchange.remove", "exchange:"+x.Name, map[string]any{"kind": x.Kind, "entries": x.Entries}); err != nil {
		s.renderExchanges(w, r, http.StatusInternalServerError, "exch_audit_failed", nil)
		return
	}
	http.Redirect(w, r, "/staff/exchanges?done=removed", http.StatusSeeOther)
}
