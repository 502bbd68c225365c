package web

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/auth"
)

type apiKeyCtxKey struct{}
type apiCallCtxKey struct{}

// apiCall is what one API request costs its key: calls against the daily
// quota (a batch lookup costs one per hash), lookups and matches.
type apiCall struct {
	calls, lookups, matches int64
	key                     *cachedKey
}

// apiAuth admits requests that carry a valid, unrevoked API key holding
// one of scopes as a bearer token, within the key's rate and daily quota.
// Keys are kept in memory while the store's key generation stays the same
// (read on every request, see keyCache), so a revocation or a scope taken
// away holds from the next request in every process.
func (s *Server) apiAuth(next http.HandlerFunc, scopes ...vigil.APIScope) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || strings.TrimSpace(tok) == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="vigil"`)
			writeJSONError(w, http.StatusUnauthorized, "an API key is required (Authorization: Bearer KEY)")
			return
		}
		ck, err := s.keys.find(r.Context(), auth.HashToken(strings.TrimSpace(tok)))
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
		key := ck.key
		if !slices.ContainsFunc(scopes, key.Can) {
			want := vigil.FormatAPIScopes(scopes)
			w.Header().Set("WWW-Authenticate", `Bearer realm="vigil", error="insufficient_scope", scope="`+want+`"`)
			writeJSONError(w, http.StatusForbidden, "this API key has none of the scopes "+want)
			return
		}
		rate := s.cfg.APIRate
		if key.RatePerMinute > 0 {
			rate = Rate{Count: key.RatePerMinute, Per: time.Minute}
		}
		if !s.keyLimit.allow(key.ID, rate) {
			w.Header().Set("Retry-After", "1")
			writeJSONError(w, http.StatusTooManyRequests, "too many requests for this API key")
			return
		}
		if key.OverQuota(s.keys.unrecorded(ck), 1) {
			writeQuotaExceeded(w, s.cfg.Now())
			return
		}
		call := &apiCall{calls: 1, key: ck}
		ctx := context.WithValue(context.WithValue(r.Context(), apiKeyCtxKey{}, key), apiCallCtxKey{}, call)
		next(w, r.WithContext(ctx))
		s.usage.add(key.ID, call.calls, call.lookups, call.matches)
	})
}

// writeQuotaExceeded answers 429 until the next UTC day.
func writeQuotaExceeded(w http.ResponseWriter, now time.Time) {
	next := now.UTC().Truncate(24 * time.Hour).Add(24 * time.Hour)
	w.Header().Set("Retry-After", strconv.FormatInt(int64(next.Sub(now).Seconds())+1, 10))
	writeJSONError(w, http.StatusTooManyRequests, "this API key's daily quota is used up")
}

// apiQuotaAllows reports whether the request's key may spend cost calls
// of its quota in all (a batch), and charges them to the request.
func (s *Server) apiQuotaAllows(r *http.Request, cost int64) bool {
	call := apiCallFrom(r.Context())
	if call == nil || call.key == nil {
		return true
	}
	if cost > call.calls && call.key.key.OverQuota(s.keys.unrecorded(call.key), cost) {
		return false
	}
	call.calls = max(call.calls, cost)
	return true
}

func apiKeyFrom(ctx context.Context) *vigil.APIKey {
	k, _ := ctx.Value(apiKeyCtxKey{}).(*vigil.APIKey)
	return k
}

func apiCallFrom(ctx context.Context) *apiCall {
	c, _ := ctx.Value(apiCallCtxKey{}).(*apiCall)
	return c
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
