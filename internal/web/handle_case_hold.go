package web

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/vigil-hotline/vigil"
)

// CaseHolds keeps legal holds (the store's RetentionService).
type CaseHolds interface {
	SetLegalHold(ctx context.Context, h *vigil.LegalHold) error
	LiftLegalHold(ctx context.Context, caseID int64) error
	FindLegalHold(ctx context.Context, caseID int64) (*vigil.LegalHold, error)
}

// caseForm reads a case action's case ID and its small form, checking
// the CSRF token; it answers the request itself and returns false when
// either is bad.
func (s *Server) caseForm(w http.ResponseWriter, r *http.Request) (int64, bool) {
	id, ok := pathID(r, "id")
	if !ok {
		http.NotFound(w, r)
		return 0, false
	}
	if err := parseForm(w, r, 4<<10); err != nil || !s.checkCSRF(r) {
		s.staffRefusal(w, r, http.StatusBadRequest, "refuse_bad_form")
		return 0, false
	}
	return id, true
}

// handleCaseHold puts a case on legal hold (POST …/hold), so that the
// purge keeps it and everything of it, or lifts the hold (POST
// …/hold/lift); a supervisor's decision, on the record.
func (s *Server) handleCaseHold(w http.ResponseWriter, r *http.Request) {
	id, ok := s.caseForm(w, r)
	if !ok {
		return
	}
	holds := s.cfg.Workbench.Holds
	if holds == nil {
		s.staffRefusal(w, r, http.StatusServiceUnavailable, "refuse_holds_off")
		return
	}
	action, detail := "case.hold_lift", map[string]any(nil)
	var err error
	if strings.HasSuffix(r.URL.Path, "/lift") {
		err = holds.LiftLegalHold(r.Context(), id)
	} else {
		u := userFrom(r.Context())
		h := &vigil.LegalHold{CaseID: id, Reason: r.PostFormValue("reason"), SetBy: u.ID, SetByName: u.Name}
		err = holds.SetLegalHold(r.Context(), h)
		action, detail = "case.hold", map[string]any{"reason": h.Reason}
	}
	if err != nil {
		s.workbenchError(w, "legal hold", err)
		return
	}
	if err := s.audit(r, action, fmt.Sprintf("case:%d", id), detail); err != nil {
		s.staffRefusal(w, r, http.StatusServiceUnavailable, "refuse_made_not_recorded")
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/staff/cases/%d", id), http.StatusSeeOther)
}
