package web

import (
	"context"
	"net/http"

	"filippo.io/age"

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
	// Referrals receives partners' referrals and status updates; nil
	// leaves the referral API out.
	Referrals vigil.ReferralService
	// MediaVault keeps media partners send with their referrals, encrypted
	// (internal/blob.Vault); with AgeIdentities (ours, that partners
	// encrypt media to) it enables PUT /api/v1/referrals/{ref}/media/{sha256}.
	MediaVault    ReferralMediaVault
	AgeIdentities []age.Identity
}

// ReferralMediaVault stores media encrypted (internal/blob.Vault).
type ReferralMediaVault interface {
	Name(sha256Hex string) string
	Put(ctx context.Context, name string, data []byte) error
}

func (s *Server) federationRoutes(mux *http.ServeMux) {
	if s.cfg.Federation.Partners == nil {
		return
	}
	if s.cfg.Federation.Referrals != nil {
		mux.Handle("POST /api/v1/referrals", s.apiAuth(s.handleAPIReferralCreate, vigil.ScopeReferral))
		mux.Handle("POST /api/v1/referrals/{ref}/status", s.apiAuth(s.handleAPIReferralStatus, vigil.ScopeReferral))
		mux.Handle("GET /api/v1/referrals/{ref}", s.apiAuth(s.handleAPIReferralGet, vigil.ScopeReferral))
		if s.cfg.Federation.MediaVault != nil && len(s.cfg.Federation.AgeIdentities) > 0 {
			mux.Handle("PUT /api/v1/referrals/{ref}/media/{sha256}", s.apiAuth(s.handleAPIReferralMedia, vigil.ScopeReferral))
		}
	}
	s.staffRoute(mux, "GET /staff/partners", s.handlePartners, vigil.RoleAdmin)
	s.staffRoute(mux, "POST /staff/partners", s.handlePartnerAdd, vigil.RoleAdmin)
	s.staffRoute(mux, "POST /staff/partners/{name}/remove", s.handlePartnerRemove, vigil.RoleAdmin)
}
