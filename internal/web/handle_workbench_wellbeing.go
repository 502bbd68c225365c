package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/vigil-hotline/vigil"
)

// handleExposureBeat is the page's heartbeat while media are on screen:
// ms is the visible time since its last beat. The store credits at most
// twice the heartbeat interval and never more than the time since the last
// credit, so the page can under-count but not over-count.
func (s *Server) handleExposureBeat(w http.ResponseWriter, r *http.Request) {
	if err := parseForm(w, r, 4<<10); err != nil || !s.checkCSRF(r) {
		s.staffRefusal(w, r, http.StatusBadRequest, "refuse_bad_form")
		return
	}
	c := &s.cfg.Workbench
	ms, _ := strconv.ParseInt(r.PostFormValue("ms"), 10, 64)
	step := min(time.Duration(max(ms, 0))*time.Millisecond, 2*c.Heartbeat)
	u := userFrom(r.Context())
	before, err := c.Store.FindExposure(r.Context(), u.ID, s.today())
	if err != nil {
		s.workbenchError(w, "exposure", err)
		return
	}
	e := before
	if !before.Over(c.Budget) && step > 0 {
		if e, err = c.Store.AddExposure(r.Context(), u.ID, s.today(), s.cfg.Now(), step); err != nil {
			s.workbenchError(w, "exposure", err)
			return
		}
	}
	s.exposureCrossed(r, before, e)
	v := s.exposureView(e)
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"visible_min": v.VisibleMin, "budget_min": v.BudgetMin, "stop": v.Stopped,
		"remind": e.Visible/c.BreakEvery > before.Visible/c.BreakEvery,
	})
}

// chargeExposure counts a reveal against the signed-in user's budget.
func (s *Server) chargeExposure(r *http.Request, cost time.Duration) error {
	u := userFrom(r.Context())
	before, err := s.cfg.Workbench.Store.FindExposure(r.Context(), u.ID, s.today())
	if err != nil {
		return err
	}
	e, err := s.cfg.Workbench.Store.ChargeExposure(r.Context(), u.ID, s.today(), s.cfg.Now(), cost)
	if err != nil {
		return err
	}
	s.exposureCrossed(r, before, e)
	return nil
}

// exposureCrossed records the moment the budget is reached and gives the
// analyst's claimed items back to the queue.
func (s *Server) exposureCrossed(r *http.Request, before, after vigil.Exposure) {
	c := &s.cfg.Workbench
	if !after.Over(c.Budget) || before.Over(c.Budget) {
		return
	}
	u := userFrom(r.Context())
	_ = s.audit(r, "exposure.limit", fmt.Sprintf("user:%d", u.ID), map[string]any{"minutes": int(after.Visible / time.Minute)})
	if err := c.Store.ReleaseClaims(r.Context(), u.ID); err != nil {
		s.logger.Error("release claims", "err", err)
	}
}

type wellbeingRow struct {
	User     *vigil.User
	Exposure exposureView
}

// handleWellbeing shows supervisors today's exposure of every analyst,
// with the means to extend a spent budget.
func (s *Server) handleWellbeing(w http.ResponseWriter, r *http.Request) {
	list, err := s.cfg.Workbench.Store.ListExposure(r.Context(), s.today())
	if err != nil {
		s.workbenchError(w, "exposure", err)
		return
	}
	var rows []wellbeingRow
	for _, e := range list {
		u, err := s.cfg.Users.FindUserByID(r.Context(), e.UserID)
		if err != nil {
			continue
		}
		rows = append(rows, wellbeingRow{User: u, Exposure: s.exposureView(e)})
	}
	s.render(w, r, http.StatusOK, "staff_wellbeing", s.newStaffPage(w, r, rows))
}

// handleExposureExtend lifts an analyst's hard stop for the given minutes
// (default 30): a supervisor's decision, on the record.
func (s *Server) handleExposureExtend(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r, "id")
	if !ok {
		http.NotFound(w, r)
		return
	}
	if err := parseForm(w, r, 4<<10); err != nil || !s.checkCSRF(r) {
		s.staffRefusal(w, r, http.StatusBadRequest, "refuse_bad_form")
		return
	}
	minutes, err := strconv.Atoi(r.PostFormValue("minutes"))
	if err != nil || minutes <= 0 {
		minutes = 30
	}
	if err := vigil.CheckExposureExtension(userFrom(r.Context()), id); err != nil {
		_ = s.audit(r, "exposure.extend.refused", fmt.Sprintf("user:%d", id), map[string]any{"reason": "own budget"})
		http.Error(w, vigil.ErrorMessage(err), http.StatusForbidden)
		return
	}
	if _, err := s.cfg.Users.FindUserByID(r.Context(), id); err != nil {
		s.workbenchError(w, "extend exposure", err)
		return
	}
	if err := s.audit(r, "exposure.extend", fmt.Sprintf("user:%d", id), map[string]any{"minutes": minutes, "day": s.today()}); err != nil {
		s.staffRefusal(w, r, http.StatusServiceUnavailable, "refuse_decision_record")
		return
	}
	if _, err := s.cfg.Workbench.Store.ExtendExposure(r.Context(), id, s.today(), time.Duration(minutes)*time.Minute); err != nil {
		s.workbenchError(w, "extend exposure", err)
		return
	}
	http.Redirect(w, r, "/staff/wellbeing", http.StatusSeeOther)
}

type prefsData struct {
	Prefs    vigil.WorkbenchPrefs
	Levels   []int
	Exposure exposureView
	Saved    bool
}

// handlePrefs shows the analyst's viewing preferences and exposure.
func (s *Server) handlePrefs(w http.ResponseWriter, r *http.Request) {
	u := userFrom(r.Context())
	p, err := s.cfg.Workbench.Store.FindPrefs(r.Context(), u.ID)
	if err != nil {
		s.workbenchError(w, "preferences", err)
		return
	}
	e, _, err := s.exposure(r)
	if err != nil {
		s.workbenchError(w, "exposure", err)
		return
	}
	s.render(w, r, http.StatusOK, "staff_preferences", s.newStaffPage(w, r, prefsData{
		Prefs: p, Levels: []int{1, 2, 3, 4, 5}, Exposure: s.exposureView(e), Saved: r.URL.Query().Has("saved")}))
}

// handlePrefsSave stores the preferences (a setting change, audited).
func (s *Server) handlePrefsSave(w http.ResponseWriter, r *http.Request) {
	if err := parseForm(w, r, 4<<10); err != nil || !s.checkCSRF(r) {
		s.staffRefusal(w, r, http.StatusBadRequest, "refuse_bad_form")
		return
	}
	u := userFrom(r.Context())
	blur, _ := strconv.Atoi(r.PostFormValue("blur"))
	p := vigil.WorkbenchPrefs{Blur: blur, GreyReveal: r.PostFormValue("grey_reveal") != ""}
	if err := p.Validate(); err != nil {
		s.workbenchError(w, "preferences", err)
		return
	}
	if err := s.audit(r, "setting.change", fmt.Sprintf("user:%d", u.ID),
		map[string]any{"blur": p.Blur, "grey_reveal": p.GreyReveal}); err != nil {
		s.staffRefusal(w, r, http.StatusServiceUnavailable, "refuse_change_record")
		return
	}
	if err := s.cfg.Workbench.Store.SetPrefs(r.Context(), u.ID, p); err != nil {
		s.workbenchError(w, "preferences", err)
		return
	}
	http.Redirect(w, r, "/staff/preferences?saved", http.StatusSeeOther)
}
