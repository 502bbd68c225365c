package web

import "net/http"

// handleAPIReference serves the OpenAPI document as a readable page,
// rendered at start-up, with Vigil's own style sheet only.
func (s *Server) handleAPIReference(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	_, _ = w.Write(s.apiReference)
}
