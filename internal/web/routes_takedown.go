package web

import (
	"net/http"

	"github.com/vigil-hotline/vigil"
)

// TakedownConfig configures the statistics API and the supervisors' view
// of the takedown path.
type TakedownConfig struct {
	Stats     vigil.StatsService
	Takedowns vigil.TakedownService
	// CaseRefPrefix starts case references (BE for BE-2026-000123), as in
	// notices and packages.
	CaseRefPrefix string
}

func (s *Server) takedownRoutes(mux *http.ServeMux) {
	if s.cfg.Takedown.Stats == nil || s.cfg.Takedown.Takedowns == nil {
		return
	}
	mux.Handle("GET /api/v1/stats", s.apiAuth(s.handleAPIStats, vigil.ScopeStats))
	s.staffRoute(mux, "GET /staff/takedowns", s.handleTakedowns, vigil.RoleAdmin, vigil.RoleSupervisor, vigil.RoleAuditor)
}
