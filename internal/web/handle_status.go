package web

import (
	"net/http"

	"github.com/vigil-hotline/vigil"
)

type statusResult struct {
	Code    string
	Message string
}

// handleStatusForm shows the form where a reporter enters a tracking code.
func (s *Server) handleStatusForm(w http.ResponseWriter, r *http.Request) {
	lang := s.catalog.language(r)
	s.render(w, r, http.StatusOK, "status", s.newPage(w, r, lang))
}

// handleStatusLookup shows a report's coarse status. The code travels in a
// POST body, so it stays out of browser history and server logs.
func (s *Server) handleStatusLookup(w http.ResponseWriter, r *http.Request) {
	err := parseForm(w, r, 4<<10)
	lang := s.catalog.language(r)
	switch {
	case err != nil:
	case !s.checkCSRF(r):
		err = keyError(vigil.EFORBIDDEN, "err_csrf")
	case !s.formLimit.allow(s.clientKey(r)):
		err = keyError(vigil.ERATELIMIT, "err_rate_limited")
	}
	var rep *vigil.Report
	if err == nil {
		rep, err = s.cfg.Reports.FindReportByTrackingCode(r.Context(), r.PostFormValue("code"))
	}
	p := s.newPage(w, r, lang)
	if err != nil {
		if httpStatus(err) >= 500 {
			s.logger.Error("status look-up", "err", err)
		}
		p.Error = s.userMessage(lang, err)
		s.render(w, r, httpStatus(err), "status", p)
		return
	}
	s.render(w, r, http.StatusOK, "status", p.with(statusResult{
		Code:    rep.TrackingCode,
		Message: s.catalog.T(lang, "status_"+string(rep.Status)),
	}))
}
