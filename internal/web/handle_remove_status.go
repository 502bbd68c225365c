package web

import (
	"net/http"

	"github.com/vigil-hotline/vigil"
)

// removeStatus is what the status page shows: counts, never URLs.
type removeStatus struct {
	Code string
	*vigil.VictimStatus
	// JustWithdrawn: the page answers a withdrawal.
	JustWithdrawn bool
}

// handleRemoveStatus shows the form for a tracking code (GET) and, for a
// code (POST: it stays out of history and logs), how many copies were
// found and how many are gone.
func (s *Server) handleRemoveStatus(w http.ResponseWriter, r *http.Request) {
	lang := s.catalog.language(r)
	p := s.newPage(w, r, lang)
	if r.Method == http.MethodGet {
		s.render(w, r, http.StatusOK, "remove_status", p.with(nil))
		return
	}
	st, code, err := s.victimLookup(w, r)
	if err != nil {
		s.refuseRemoveStatus(w, r, p, err)
		return
	}
	s.render(w, r, http.StatusOK, "remove_status", p.with(removeStatus{Code: code, VictimStatus: st}))
}

// victimLookup checks a status or withdrawal post and reads its code.
func (s *Server) victimLookup(w http.ResponseWriter, r *http.Request) (*vigil.VictimStatus, string, error) {
	err := parseForm(w, r, 4<<10)
	switch {
	case err != nil:
		return nil, "", err
	case !s.checkCSRF(r):
		return nil, "", keyError(vigil.EFORBIDDEN, "err_csrf")
	case !s.formLimit.allow(s.clientKey(r)):
		return nil, "", keyError(vigil.ERATELIMIT, "err_rate_limited")
	}
	code, err := vigil.NormalizeTrackingCode(r.PostFormValue("code"))
	if err != nil {
		return nil, "", err
	}
	st, err := s.cfg.Victims.VictimStatus(r.Context(), code)
	if vigil.IsNotFound(err) {
		err = keyError(vigil.ENOTFOUND, "err_victim_not_found")
	}
	return st, code, err
}

func (s *Server) refuseRemoveStatus(w http.ResponseWriter, r *http.Request, p *page, err error) {
	if httpStatus(err) >= 500 {
		s.logger.Error("victim status", "err", err)
	}
	p.Error = s.userMessage(p.Lang, err)
	s.render(w, r, httpStatus(err), "remove_status", p.with(nil))
}
