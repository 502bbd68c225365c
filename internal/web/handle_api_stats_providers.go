package web

import (
	"net/http"

	"github.com/vigil-hotline/vigil"
)

// handleAPIStatsProviders answers the hosting-provider scorecard of a
// period (the current year when from and to are absent).
func (s *Server) handleAPIStatsProviders(w http.ResponseWriter, r *http.Request) {
	p, err := s.period(r)
	if err != nil {
		s.writeAPIError(w, err)
		return
	}
	scores, err := s.cfg.Statistics.Service.ProviderScores(r.Context(), p)
	if err != nil {
		s.writeAPIError(w, err)
		return
	}
	if scores == nil {
		scores = []vigil.ProviderScore{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"from": p.From.Format("2006-01-02"),
		"to": p.To.AddDate(0, 0, -1).Format("2006-01-02"), "providers": scores})
}
