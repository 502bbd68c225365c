package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"

	"github.com/vigil-hotline/vigil/internal/federation"
)

type apiReferralMediaAnswer struct {
	Reference string `json:"reference"`
	SHA256    string `json:"sha256"`
	Stored    bool   `json:"stored"`
}

// handleAPIReferralMedia takes a medium a partner sends with its referral,
// age-encrypted to us: only from the referral's sender, only when our
// settings for that partner exchange media (send-media), only a medium the
// referral names, and only when it decrypts to that SHA-256. It is kept in
// the encrypted blob store (decrypted in memory only), once.
func (s *Server) handleAPIReferralMedia(w http.ResponseWriter, r *http.Request) {
	p, _, body, ok := s.signedPartnerLimit(w, r, federation.MaxSealedBytes)
	if !ok {
		return
	}
	if !p.SendMedia {
		writeJSONError(w, http.StatusForbidden, fmt.Sprintf("media are not accepted from partner %q (its send-media setting is off)", p.Name))
		return
	}
	ref, sha := r.PathValue("ref"), r.PathValue("sha256")
	if !federation.ValidSHA256(sha) {
		writeJSONError(w, http.StatusBadRequest, "the path must end in the medium's SHA-256 (64 lower-case hex digits)")
		return
	}
	fed := s.cfg.Federation
	in, err := fed.Referrals.FindReferralIn(r.Context(), p.Name, ref)
	if err != nil {
		s.writeAPIError(w, err)
		return
	}
	var referral federation.Referral
	if err := json.Unmarshal(in.Body, &referral); err != nil {
		s.writeAPIError(w, fmt.Errorf("referral %s as stored: %w", ref, err))
		return
	}
	named := false
	for _, u := range referral.URLs {
		named = named || slices.ContainsFunc(u.Media, func(it federation.Item) bool { return it.SHA256 == sha })
	}
	if !named {
		writeJSONError(w, http.StatusBadRequest, "referral "+ref+" names no medium with that SHA-256")
		return
	}
	plain, err := federation.OpenMedia(bytes.NewReader(body), sha, fed.AgeIdentities...)
	if err != nil {
		s.writeAPIError(w, err)
		return
	}
	name := fed.MediaVault.Name(sha)
	if err := fed.MediaVault.Put(r.Context(), name, plain); err != nil {
		s.writeAPIError(w, fmt.Errorf("store referral medium: %w", err))
		return
	}
	created, err := fed.Referrals.AddReferralMedia(r.Context(), p.Name, ref, sha, name, int64(len(plain)))
	if err != nil {
		s.writeAPIError(w, err)
		return
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
		s.logger.Info("referral medium received", "partner", p.Name, "case", ref, "sha256", sha)
	}
	writeJSON(w, status, apiReferralMediaAnswer{Reference: ref, SHA256: sha, Stored: created})
}
