package web

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/auth"
)

type apiKeyCtxKey struct{}

// apiAuth admits requests that carry a valid, unrevoked API key as a bearer
// token, within the key's rate.
func (s *Server) apiAuth(next http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || strings.TrimSpace(tok) == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="vigil"`)
			writeJSONError(w, http.StatusUnauthorized, "an API key is required (Authorization: Bearer KEY)")
			return
		}
		key, err := s.cfg.APIKeys.FindAPIKeyByHash(r.Context(), auth.HashToken(strings.TrimSpace(tok)))
		if err != nil {
			if !vigil.IsNotFound(err) {
				s.logger.Error("api key look-up", "err", err)
				writeJSONError(w, http.StatusInternalServerError, "internal error")
				return
			}
			w.Header().Set("WWW-Authenticate", `Bearer realm="vigil", error="invalid_token"`)
			writeJSONError(w, http.StatusUnauthorized, "the API key is not valid")
			return
		}
		if !s.apiLimit.allow("key:" + key.Name) {
			w.Header().Set("Retry-After", "1")
			writeJSONError(w, http.StatusTooManyRequests, "too many requests for this API key")
			return
		}
		next(w, r.WithContext(context.WithValue(r.Context(), apiKeyCtxKey{}, key)))
	})
}

func apiKeyFrom(ctx context.Context) *vigil.APIKey {
	k, _ := ctx.Value(apiKeyCtxKey{}).(*vigil.APIKey)
	return k
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeJSONError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

// writeAPIError answers with the domain error's English message, or a
// generic one for internal errors (logged, never shown).
func (s *Server) writeAPIError(w http.ResponseWriter, err error) {
	status := httpStatus(err)
	if status >= 500 {
		s.logger.Error("api", "err", err)
	}
	writeJSONError(w, status, vigil.ErrorMessage(err))
}
