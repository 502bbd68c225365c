package web

import "net/http"

// handleAPIStats answers the hotline's figures: intake, media, assessments,
// notices, removals and the median time to removal, overall and by route.
// With from or to (YYYY-MM-DD, in the hotline's time zone) it answers the
// same fields for that period, with the breakdowns of the annual report.
func (s *Server) handleAPIStats(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if s.cfg.Statistics.Service != nil && (q.Has("from") || q.Has("to")) {
		p, err := s.period(r)
		if err != nil {
			s.writeAPIError(w, err)
			return
		}
		st, err := s.cfg.Statistics.Service.PeriodStats(r.Context(), p, s.cfg.Statistics.Options)
		if err != nil {
			s.writeAPIError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, st)
		return
	}
	st, err := s.cfg.Takedown.Stats.Stats(r.Context())
	if err != nil {
		s.writeAPIError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}
