package web

import (
	"net/http"

	"github.com/vigil-hotline/vigil"
)

// TrustConfig serves the trust controls on exchanges (issue 15): an
// analyst's confirmation or dispute of an upstream match, and the
// administrators' list of suppressed (quarantined or disputed) entries;
// off when Service is nil.
type TrustConfig struct {
	Service vigil.TrustService
}

func (s *Server) trustRoutes(mux *http.ServeMux) {
	if s.cfg.Trust.Service == nil {
		return
	}
	s.staffRoute(mux, "POST /staff/upstream/{entry}/{verdict}", s.handleUpstreamVerdict, vigil.RoleAnalyst, vigil.RoleSupervisor)
	s.staffRoute(mux, "GET /staff/exchanges/suppressed", s.handleSuppressed, vigil.RoleAdmin, vigil.RoleSupervisor)
	s.staffRoute(mux, "POST /staff/exchanges/entries/{id}/release", s.handleSuppressedRelease, vigil.RoleAdmin)
}
