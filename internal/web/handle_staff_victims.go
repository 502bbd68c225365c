package web

import (
	"context"
	"net/http"
	"strconv"

	"github.com/vigil-hotline/vigil"
)

// handleStaffVictims shows supervisors the victims' submissions, flagged
// first: a submission whose hashes match many mutually unrelated pictures
// may be someone trying to take down legitimate content with a common
// picture, and its matches wait for an analyst. No tracking code, hash or
// anything about the person is shown.
func (s *Server) handleStaffVictims(w http.ResponseWriter, r *http.Request) {
	subs, err := s.cfg.Victims.ListVictimSubmissions(r.Context(), 500)
	if err != nil {
		s.logger.Error("victim submissions", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	s.render(w, r, http.StatusOK, "staff_victims", s.newStaffPage(w, r, struct {
		Rows      []*vigil.VictimSubmissionSummary
		Threshold int
	}{subs, vigil.VictimFlagUnrelated}))
}

// handleStaffVictimFlag flags a submission or clears its flag (audited).
func (s *Server) handleStaffVictimFlag(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	if err := parseForm(w, r, 4<<10); err != nil || !s.checkCSRF(r) {
		s.staffRefusal(w, r, http.StatusForbidden, "form_expired")
		return
	}
	flagged := r.PostFormValue("flagged") == "1"
	if err := s.cfg.Victims.SetVictimFlag(r.Context(), id, flagged); err != nil {
		if httpStatus(err) >= 500 {
			s.logger.Error("victim flag", "err", err)
		}
		http.Error(w, vigil.ErrorMessage(err), httpStatus(err))
		return
	}
	if err := s.audit(r, "victim.flag", "victim-submission:"+strconv.FormatInt(id, 10), map[string]any{"flagged": flagged}); err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	http.Redirect(w, r, "/staff/victims", http.StatusSeeOther)
}

// victimDescriptions returns what the people shown wrote for the victim-bank
// entries among matches, for the analyst's case view.
func (s *Server) victimDescriptions(ctx context.Context, matches []vigil.Match) ([]string, error) {
	if s.cfg.Victims == nil {
		return nil, nil
	}
	var out []string
	for _, m := range matches {
		if m.Classification != vigil.ClassSelfReported {
			continue
		}
		d, err := s.cfg.Victims.VictimDescriptions(ctx, m.EntryID)
		if err != nil {
			return nil, err
		}
		out = append(out, d...)
	}
	return out, nil
}
