package web

import "net/http"

// handleAPIStats answers the hotline's figures: intake, media, assessments,
// notices, removals and the median time to removal, overall and by route.
func (s *Server) handleAPIStats(w http.ResponseWriter, r *http.Request) {
	st, err := s.cfg.Takedown.Stats.Stats(r.Context())
	if err != nil {
		s.writeAPIError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}
