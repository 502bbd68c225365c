package web

import (
	"crypto/hmac"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/vigil-hotline/vigil"
)

// removeRequest is what the victim's page sends: hashes only.
type removeRequest struct {
	Hashes      []vigil.VictimHash `json:"hashes"`
	Description string             `json:"description"`
	// CSRF may travel in the body or in the X-CSRF-Token header.
	CSRF string `json:"csrf"`
}

// handleRemoveSubmit takes a victim's hashes (JSON) and answers with a
// tracking code. Nothing about the sender is kept: no address, no user
// agent; the rate limit is the form's, on a keyed hash of the address.
func (s *Server) handleRemoveSubmit(w http.ResponseWriter, r *http.Request) {
	lang := s.catalog.language(r)
	var req removeRequest
	err := decodeJSONBody(w, r, maxRemoveBody, &req)
	switch {
	case err != nil:
	case !s.checkCSRFValue(r, firstNonEmpty(r.Header.Get("X-CSRF-Token"), req.CSRF)):
		err = keyError(vigil.EFORBIDDEN, "err_csrf")
	case !s.formLimit.allow(s.clientKey(r)):
		err = keyError(vigil.ERATELIMIT, "err_rate_limited")
	}
	var sub *vigil.VictimSubmission
	if err == nil {
		sub, err = vigil.NewVictimSubmission(req.Hashes, req.Description, s.cfg.Now())
	}
	if err == nil {
		err = s.cfg.Victims.CreateVictimSubmission(r.Context(), sub)
	}
	if err != nil {
		status := httpStatus(err)
		if status >= 500 {
			s.logger.Error("victim submission not stored", "err", err)
		}
		writeJSON(w, status, map[string]string{"error": s.userMessage(lang, err)})
		return
	}
	s.logger.Info("victim submission received", "hashes", len(sub.Hashes))
	writeJSON(w, http.StatusOK, map[string]string{"tracking_code": sub.TrackingCode})
}

// decodeJSONBody reads one JSON object within limit, refusing unknown
// fields and trailing data.
func decodeJSONBody(w http.ResponseWriter, r *http.Request, limit int64, v any) error {
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return keyError(vigil.ETOOLARGE, "err_too_large")
		}
		return keyError(vigil.EINVALID, "err_bad_request")
	}
	if dec.More() {
		return keyError(vigil.EINVALID, "err_bad_request")
	}
	return nil
}

// checkCSRFValue verifies a token sent outside a form (a script's
// request) against the browser's cookie.
func (s *Server) checkCSRFValue(r *http.Request, tok string) bool {
	c, err := r.Cookie(csrfCookie)
	return err == nil && s.validCSRF(c.Value) && hmac.Equal([]byte(tok), []byte(c.Value))
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
