package web

import (
	"net/http"
)

// handleRemoveWithdraw takes a submission's hashes out of the victim bank
// at the person's request. Every process's matcher drops them within its
// poll interval (the bank change feed).
func (s *Server) handleRemoveWithdraw(w http.ResponseWriter, r *http.Request) {
	p := s.newPage(w, r, s.catalog.language(r))
	_, code, err := s.victimLookup(w, r)
	if err == nil {
		err = s.cfg.Victims.WithdrawVictimSubmission(r.Context(), code)
	}
	if err != nil {
		s.refuseRemoveStatus(w, r, p, err)
		return
	}
	st, err := s.cfg.Victims.VictimStatus(r.Context(), code)
	if err != nil {
		s.refuseRemoveStatus(w, r, p, err)
		return
	}
	s.logger.Info("victim submission withdrawn")
	s.render(w, r, http.StatusOK, "remove_status", p.with(removeStatus{Code: code, VictimStatus: st, JustWithdrawn: true}))
}
