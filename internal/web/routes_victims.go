package web

import (
	"net/http"

	"github.com/vigil-hotline/vigil"
)

// victimRoutes serve the victim's path (issue 20): the page that hashes
// pictures on the person's own device, the submission of the hashes, and
// the status page with withdrawal; and the supervisors' view of the
// submissions.
func (s *Server) victimRoutes(mux *http.ServeMux) {
	if s.cfg.Victims == nil {
		return
	}
	public := func(h http.HandlerFunc) http.Handler { return noStore(h) }
	mux.Handle("GET /remove", public(s.handleRemovePage))
	mux.Handle("POST /remove", public(s.handleRemoveSubmit))
	mux.Handle("GET /static/hasher.wasm", s.handleHasherWasm())
	mux.Handle("GET /remove/status", public(s.handleRemoveStatus))
	mux.Handle("POST /remove/status", public(s.handleRemoveStatus))
	mux.Handle("POST /remove/withdraw", public(s.handleRemoveWithdraw))
	s.staffRoute(mux, "GET /staff/victims", s.handleStaffVictims, vigil.RoleAdmin, vigil.RoleSupervisor)
	s.staffRoute(mux, "POST /staff/victims/{id}/flag", s.handleStaffVictimFlag, vigil.RoleAdmin, vigil.RoleSupervisor)
}

// maxRemoveBody bounds a submission: 50 hashes of 64 hex digits and a
// description fit in a few kilobytes.
const maxRemoveBody = 32 << 10
