package web

import (
	"context"
	"fmt"
	"net/http"

	"github.com/vigil-hotline/vigil"
)

// CaseHolds keeps legal holds (the store's RetentionService).
type CaseHolds interface {
	SetLegalHold(ctx context.Context, h *vigil.LegalHold) error
	LiftLegalHold(ctx context.Context, caseID int64) error
	FindLegalHold(ctx context.Context, caseID int64) (*vigil.LegalHold, error)
}

// handleCaseHold puts a case on legal hold, so that the purge keeps it
// and everything of it; a supervisor's decision, on the record.
func (s *Server) handleCaseHold(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r, "id")
	if !ok {
		http.NotFound(w, r)
		return
	}
	if err := parseForm(w, r, 4<<10); err != nil || !s.checkCSRF(r) {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	holds := s.cfg.Workbench.Holds
	if holds == nil {
		http.Error(w, "legal holds are not configured", http.StatusServiceUnavailable)
		return
	}
	u := userFrom(r.Context())
	h := &vigil.LegalHold{CaseID: id, Reason: r.PostFormValue("reason"), SetBy: u.ID, SetByName: u.Name}
	if err := holds.SetLegalHold(r.Context(), h); err != nil {
		s.workbenchError(w, "legal hold", err)
		return
	}
	if err := s.audit(r, "case.hold", fmt.Sprintf("case:%d", id), map[string]any{"reason": h.Reason}); err != nil {
		http.Error(w, "the hold is set but could not be put on the record", http.StatusServiceUnavailable)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/staff/cases/%d", id), http.StatusSeeOther)
}

// handleCaseHoldLift lifts a case's legal hold.
func (s *Server) handleCaseHoldLift(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r, "id")
	if !ok {
		http.NotFound(w, r)
		return
	}
	if err := parseForm(w, r, 4<<10); err != nil || !s.checkCSRF(r) {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	holds := s.cfg.Workbench.Holds
	if holds == nil {
		http.Error(w, "legal holds are not configured", http.StatusServiceUnavailable)
		return
	}
	if err := holds.LiftLegalHold(r.Context(), id); err != nil {
		s.workbenchError(w, "legal hold", err)
		return
	}
	if err := s.audit(r, "case.hold_lift", fmt.Sprintf("case:%d", id), nil); err != nil {
		http.Error(w, "the hold is lifted but could not be put on the record", http.StatusServiceUnavailable)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/staff/cases/%d", id), http.StatusSeeOther)
}
