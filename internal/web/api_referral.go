package web

import (
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/federation"
)

// keyOfPartner refuses a request whose API key is not the key of the
// partner p (the signer): a partner's key never carries another partner's
// signature, nor is a key of no partner used for referrals.
func keyOfPartner(w http.ResponseWriter, r *http.Request, p *vigil.Partner) bool {
	k := apiKeyFrom(r.Context())
	if k != nil && k.PartnerID != 0 && k.PartnerID == p.ID {
		return true
	}
	msg := "this API key is not the key of the partner " + p.Name + " that signed the request"
	if k != nil && k.PartnerID == 0 {
		msg = "this API key belongs to no partner: bind it with vigil apikey update NAME --partner " + p.Name
	}
	writeJSONError(w, http.StatusForbidden, msg)
	return false
}

// signedPartner reads a signed request's body (bounded) and returns it
// with the configured partner whose key signed it. It answers refusals
// itself: an unknown key, a bad signature or timestamp, a body too large.
// The nonce is refused a second time by the store, in the transaction
// that stores what the request carries.
func (s *Server) signedPartner(w http.ResponseWriter, r *http.Request) (*vigil.Partner, *federation.Signed, []byte, bool) {
	return s.signedPartnerLimit(w, r, federation.MaxBodyBytes)
}

// signedPartnerLimit is signedPartner with a body of at most limit bytes.
func (s *Server) signedPartnerLimit(w http.ResponseWriter, r *http.Request, limit int64) (*vigil.Partner, *federation.Signed, []byte, bool) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeJSONError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("the body is larger than %d MiB", max(limit>>20, 1)))
		} else {
			writeJSONError(w, http.StatusBadRequest, "the body could not be read")
		}
		return nil, nil, nil, false
	}
	pub, err := federation.SenderKey(r)
	if err != nil {
		writeJSONError(w, http.StatusUnauthorized, "the request must be signed: "+federation.HeaderKey+" names the partner's key")
		return nil, nil, nil, false
	}
	p, err := s.cfg.Federation.Partners.FindPartnerByKey(r.Context(), r.Header.Get(federation.HeaderKey))
	if err != nil {
		if !vigil.IsNotFound(err) {
			s.writeAPIError(w, err)
			return nil, nil, nil, false
		}
		writeJSONError(w, http.StatusForbidden, "referrals are accepted from configured partners only")
		return nil, nil, nil, false
	}
	sig, err := federation.Verify(r, pub, body, s.cfg.Now())
	if err != nil {
		s.writeAPIError(w, err)
		return nil, nil, nil, false
	}
	if !keyOfPartner(w, r, p) {
		return nil, nil, nil, false
	}
	return p, sig, body, true
}
