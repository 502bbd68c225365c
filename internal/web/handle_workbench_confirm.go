package web

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/vigil-hotline/vigil"
)

// mayConfirm says whether u is a second pair of eyes: a supervisor, or an
// analyst where the deployment lets analysts confirm each other.
func (s *Server) mayConfirm(u *vigil.User) bool {
	return u.Role.Has(vigil.RoleSupervisor) || u.Role.Has(vigil.RoleAnalyst) && s.cfg.Workbench.SecondAnalyst
}

type confirmData struct {
	Pending []*vigil.Assessment
	Self    int64
}

// handleConfirmList lists the assessments waiting for a second pair of
// eyes (with blurred previews: the confirmer reveals what they need).
func (s *Server) handleConfirmList(w http.ResponseWriter, r *http.Request) {
	u := userFrom(r.Context())
	if !s.mayConfirm(u) {
		http.Error(w, refusedRole, http.StatusForbidden)
		return
	}
	pending, err := s.cfg.Workbench.Store.PendingAssessments(r.Context(), 100)
	if err != nil {
		s.workbenchError(w, "pending assessments", err)
		return
	}
	s.render(w, r, http.StatusOK, "staff_confirm", s.newStaffPage(w, r, confirmData{Pending: pending, Self: u.ID}))
}

// handleConfirm confirms or rejects an assessment. A confirmed one is
// learnt by the store in the same transaction.
func (s *Server) handleConfirm(w http.ResponseWriter, r *http.Request) {
	u := userFrom(r.Context())
	if !s.mayConfirm(u) {
		http.Error(w, refusedRole, http.StatusForbidden)
		return
	}
	id, ok := pathID(r, "id")
	if !ok {
		http.NotFound(w, r)
		return
	}
	if err := parseForm(w, r, 8<<10); err != nil || !s.checkCSRF(r) {
		s.staffRefusal(w, r, http.StatusBadRequest, "refuse_bad_form")
		return
	}
	confirm := strings.HasSuffix(r.URL.Path, "/confirm")
	action := "assessment.reject"
	if confirm {
		action = "assessment.confirm"
	}
	note := strings.TrimSpace(r.PostFormValue("note"))
	object := fmt.Sprintf("assessment:%d", id)
	if err := s.audit(r, action, object, map[string]any{"note": note}); err != nil {
		s.staffRefusal(w, r, http.StatusServiceUnavailable, "refuse_decision_record")
		return
	}
	a, err := s.cfg.Workbench.Store.ConfirmAssessment(r.Context(), id, u.ID, confirm, note)
	if err != nil {
		_ = s.audit(r, action+".refused", object, map[string]any{"error": err.Error()})
		s.workbenchError(w, "confirm", err)
		return
	}
	if confirm {
		// The learning, on the media item's own record.
		_ = s.audit(r, "media.learn", fmt.Sprintf("media:%d", a.MediaID),
			map[string]any{"assessment": a.ID, "classification": a.BankClassification()})
	}
	http.Redirect(w, r, "/staff/confirm", http.StatusSeeOther)
}
