package web

import (
	"net/http"

	"github.com/vigil-hotline/vigil"
)

// FederationConfig configures the partner hotlines' page and the
// referral API (issue 16).
type FederationConfig struct {
	// Partners are the partner hotlines; nil leaves the page out.
	Partners vigil.PartnerService
	// PublicKey is this hotline's public signing key (base64), shown on
	// the page for partners to add us with.
	PublicKey string
}

func (s *Server) federationRoutes(mux *http.ServeMux) {
	if s.cfg.Federation.Partners == nil {
		return
	}
	s.staffRoute(mux, "GET /staff/partners", s.handlePartners, vigil.RoleAdmin)
	s.staffRoute(mux, "POST /staff/partners", s.handlePartnerAdd, vigil.RoleAdmin)
	s.staffRoute(mux, "POST /staff/partners/{name}/remove", s.handlePartnerRemove, vigil.RoleAdmin)
}
