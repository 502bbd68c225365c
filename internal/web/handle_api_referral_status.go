package web

import (
	"net/http"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/federation"
)

type apiReferralStatusAnswer struct {
	Reference string `json:"reference"`
	Status    string `json:"status"`
	Recorded  bool   `json:"recorded"`
}

// handleAPIReferralStatus records a step a partner reports of a case we
// referred to it (received, assessed, forwarded, notice sent, removed, not
// found). A removal closes our case as removed at the partner's time; a
// classification that differs from ours is kept beside it.
func (s *Server) handleAPIReferralStatus(w http.ResponseWriter, r *http.Request) {
	p, sig, body, ok := s.signedPartner(w, r)
	if !ok {
		return
	}
	ref := r.PathValue("ref")
	up, err := federation.ParseStatus(body, ref, s.cfg.Now().UTC())
	if err != nil {
		s.writeAPIError(w, err)
		return
	}
	st := &vigil.ReferralStatus{Direction: vigil.ReferralIn, Partner: p.Name, CaseRef: up.Reference, Status: string(up.Status),
		Classification: up.Classification, Detail: up.Detail, At: up.At}
	created, err := s.cfg.Federation.Referrals.RecordPartnerStatus(r.Context(), sig.Nonce, st)
	if err != nil {
		s.writeAPIError(w, err)
		return
	}
	if created {
		s.logger.Info("referral status", "partner", p.Name, "case", up.Reference, "status", up.Status)
	}
	writeJSON(w, http.StatusOK, apiReferralStatusAnswer{Reference: up.Reference, Status: string(up.Status), Recorded: created})
}
