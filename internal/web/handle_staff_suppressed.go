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
	s.renderSuppressed(w, r, http.StatusOK, "")
}

func (s *Server) renderSuppressed(w http.ResponseWriter, r *http.Request, status int, errMsg string) {
	list, err := s.cfg.Trust.Service.ListSuppressedEntries(r.Context(), 500)
	if err != nil {
		s.logger.Error("suppressed entries", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	data := suppressedPage{Entries: list, CanRelease: userFrom(r.Context()).Role.Has(vigil.RoleAdmin)}
	p := s.newStaffPage(w, r, &data)
	if r.URL.Query().Get("done") == "released" {
		data.Notice = p.text("sup_done_released")
	}
	p.Error = errMsg
	s.render(w, r, status, "staff_suppressed", p)
}
