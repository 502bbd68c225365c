package web

import (
	"net/http"

	"github.com/vigil-hotline/vigil/internal/web/openapi"
)

// handleAPIOpenAPI serves the OpenAPI document of the /api/ endpoints.
func (s *Server) handleAPIOpenAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-cache")
	_, _ = w.Write(openapi.Document)
}
