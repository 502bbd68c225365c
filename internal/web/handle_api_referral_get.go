package web

import (
	"net/http"
	"time"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/federation"
)

type apiReferralStep struct {
	Status         string    `json:"status"`
	At             time.Time `json:"at"`
	Classification string    `json:"classification,omitempty"`
	Detail         string    `json:"detail,omitempty"`
	// Delivered says whether the step's callback reached the partner.
	Delivered bool `json:"delivered"`
}

type apiReferralView struct {
	Reference    string    `json:"reference"`
	TrackingCode string    `json:"tracking_code"`
	ReceivedAt   time.Time `json:"received_at"`
	// Status is the latest step.
	Status   string            `json:"status"`
	Statuses []apiReferralStep `json:"statuses"`
}

// handleAPIReferralGet answers a partner that referred a case to us with
// the steps we hold for it, oldest first, so that a partner that missed a
// callback can poll. Only the key of the referring partner reads it: the
// partner is the key's, and another partner's reference is not found. No
// signature: the request carries nothing, and the key is the partner's.
func (s *Server) handleAPIReferralGet(w http.ResponseWriter, r *http.Request) {
	k := apiKeyFrom(r.Context())
	if k == nil || k.PartnerID == 0 || k.Partner == "" {
		writeJSONError(w, http.StatusForbidden, "this API key belongs to no partner: only the referring partner's key reads a referral")
		return
	}
	ref := r.PathValue("ref")
	if !federation.ValidReference(ref) {
		writeJSONError(w, http.StatusBadRequest, "reference must be 1–64 letters, digits, '.', '_' or '-'")
		return
	}
	in, err := s.cfg.Federation.Referrals.FindReferralIn(r.Context(), k.Partner, ref)
	if err != nil {
		s.writeAPIError(w, err)
		return
	}
	all, err := s.cfg.Federation.Referrals.ReferralStatuses(r.Context(), vigil.ReferralOut, ref)
	if err != nil {
		s.writeAPIError(w, err)
		return
	}
	view := apiReferralView{Reference: in.Reference, TrackingCode: in.Report.TrackingCode, ReceivedAt: in.ReceivedAt.UTC(),
		Status: "received", Statuses: []apiReferralStep{}}
	for _, st := range all {
		if st.Partner != k.Partner { // another partner's case under the same reference
			continue
		}
		view.Statuses = append(view.Statuses, apiReferralStep{Status: st.Status, At: st.At.UTC(),
			Classification: st.Classification, Detail: st.Detail, Delivered: st.State == vigil.OutboundSent})
		view.Status = st.Status
	}
	writeJSON(w, http.StatusOK, view)
}
