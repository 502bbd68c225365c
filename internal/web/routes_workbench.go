package web

import "net/http"

// WorkbenchConfig configures the analyst workbench: queue, viewing,
// classification, four eyes, wellbeing, case view (issue 6).
type WorkbenchConfig struct{}

// workbenchRoutes registers the workbench pages.
func (s *Server) workbenchRoutes(mux *http.ServeMux) {}
