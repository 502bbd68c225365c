package web

import (
	"net/http"

	"github.com/vigil-hotline/vigil"
)

// MapConfig serves the network map (issue 19); off when Store is nil.
type MapConfig struct {
	Store vigil.MapStore
	Rules vigil.MapRules
}

// mapRoutes serve the map to analysts and supervisors: search, a node's
// neighbourhood as a graph and as a list; the clusters and the leads.
func (s *Server) mapRoutes(mux *http.ServeMux) {
	if s.cfg.Map.Store == nil {
		return
	}
	s.staffRoute(mux, "GET /staff/map", s.handleMap, vigil.RoleAnalyst, vigil.RoleSupervisor)
	s.staffRoute(mux, "GET /staff/map/clusters", s.handleMapClusters, vigil.RoleAnalyst, vigil.RoleSupervisor)
}
