package web

import (
	"context"
	"net/http"
	"strconv"
)

// handleSuppressedRelease puts a quarantined or disputed entry back into
// matching.
func (s *Server) handleSuppressedRelease(w http.ResponseWriter, r *http.Request) {
	s.serveStaffPost(w, r, staffPost{
		what: "release entry", failKey: "sup_err_release",
		fail: func(w http.ResponseWriter, r *http.Request, status int, key string, _ error) {
			s.renderSuppressed(w, r, status, key)
		},
		act: func(ctx context.Context, _ *http.Request, id int64) (staffDone, error) {
			if err := s.cfg.Trust.Service.ReleaseEntry(ctx, id); err != nil {
				return staffDone{}, err
			}
			return staffDone{
				action: "upstream.release", object: "bank_entry:" + strconv.FormatInt(id, 10),
				next: "/staff/exchanges/suppressed?done=released",
			}, nil
		},
	})
}
