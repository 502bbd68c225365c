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
	s.serveStaffPost(w, r, staffPost{
		what: "victim flag",
		fail: func(w http.ResponseWriter, r *http.Request, status int, key string, err error) {
			switch {
			case key == msgExpired:
				s.staffRefusal(w, r, status, key)
			case err != nil:
				http.Error(w, vigil.ErrorMessage(err), status)
			default:
				http.Error(w, "internal error", status)
			}
		},
		act: func(ctx context.Context, r *http.Request, id int64) (staffDone, error) {
			flagged := r.PostFormValue("flagged") == "1"
			if err := s.cfg.Victims.SetVictimFlag(ctx, id, flagged); err != nil {
				return staffDone{}, err
			}
			return staffDone{
				action: "victim.flag", object: "victim-submission:" + strconv.FormatInt(id, 10),
				detail: map[string]any{"flagged": flagged},
				next:   "/staff/victims",
			}, nil
		},
	})
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
