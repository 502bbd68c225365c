package web

import (
	"net/http"

	"github.com/vigil-hotline/vigil"
)

type suppressedPage struct {
	Entries []*vigil.SuppressedEntry
	Notice  string
	// CanRelease: administrators release entries.
	CanRelease bool
}

// handleSuppressed lists the upstream entries out of matching: those the
// quarantine took out (a benign picture on a list floods the hotline)
// and those analysts disputed, with how much they matched.
func (s *Server) handleSuppressed(w http.ResponseWriter, r *http.Request) {
	list, err := s.cfg.Trust.Service.ListSuppressedEntries(r.Context(), 500)
	if err != nil {
		s.logger.Error("suppressed entries", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	notice := ""
	if r.URL.Query().Get("done") == "released" {
		notice = "The entry was released: it matches again."
	}
	s.render(w, r, http.StatusOK, "staff_suppressed", s.newStaffPage(w, r, suppressedPage{Entries: list, Notice: notice,
		CanRelease: userFrom(r.Context()).Role.Has(vigil.RoleAdmin)}))
}
