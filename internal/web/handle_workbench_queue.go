package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-hotline/vigil"
)

// choice is one option of the classification form with its key.
type choice struct {
	Value, Label, Key string
}

// The keyboard shortcuts, shown in the page and used by workbench.js
// through each input's data-key: digits for the verdict, a s d f for the
// age group, z x c b n m for the severity, g i v for the flags.
var (
	verdictChoices = []choice{
		{string(vigil.VerdictBaseline), "Baseline CSAM", "1"},
		{string(vigil.VerdictNational), "Illegal under national law", "2"},
		{string(vigil.VerdictNotIllegal), "Not illegal", "3"},
		{string(vigil.VerdictSecondOpinion), "Needs a second opinion", "4"},
	}
	ageChoices = []choice{
		{string(vigil.AgeInfant), "Infant/toddler", "a"},
		{string(vigil.AgePrepubescent), "Prepubescent", "s"},
		{string(vigil.AgePubescent), "Pubescent", "d"},
		{string(vigil.AgeUnknown), "Unknown", "f"},
	}
	severityKeys = []string{"z", "x", "c", "b", "n", "m"}
	flagChoices  = []choice{
		{"self_generated", "Self-generated", "g"},
		{"ai_generated", "AI-generated or manipulated", "i"},
		{"victim_id", "Victim-identification potential", "v"},
	}
)

type queueCard struct {
	*vigil.QueueItem
	Video    bool
	Revealed bool
	// Container is shown in place of a preview for an archive or a PDF.
	Container *containerView
}

type queueData struct {
	Items      []queueCard
	Verdicts   []choice
	Ages       []choice
	Severities []choice
	Flags      []choice
	Frames     bool
	Stats      vigil.QueueStats
	Exposure   exposureView
	Decided    *vigil.Assessment
	Near       []*vigil.QueueItem
	// Selected is the item the classification panel is for: ?item= when
	// it is on the page, else the first (workbench.js moves it).
	Selected int64
}

// exposureView is the counter the pages show and workbench.js updates.
type exposureView struct {
	VisibleMin, BudgetMin int
	HeartbeatMS           int64
	Stopped               bool
}

func (s *Server) exposureView(e vigil.Exposure) exposureView {
	c := &s.cfg.Workbench
	return exposureView{VisibleMin: int(e.Visible / time.Minute), BudgetMin: int((c.Budget + e.Extra) / time.Minute),
		HeartbeatMS: c.Heartbeat.Milliseconds(), Stopped: e.Over(c.Budget)}
}

// handleQueue claims a page of items for the analyst and shows them
// blurred, each with its classification form. At the exposure limit it
// shows the stop page instead and gives the claims back.
func (s *Server) handleQueue(w http.ResponseWriter, r *http.Request) {
	u := userFrom(r.Context())
	c := &s.cfg.Workbench
	e, stop, err := s.exposure(r)
	if err != nil {
		s.workbenchError(w, "exposure", err)
		return
	}
	data := &queueData{Verdicts: verdictChoices, Ages: ageChoices, Flags: flagChoices, Frames: c.FFmpeg != "",
		Exposure: s.exposureView(e)}
	for i, sev := range c.Severities {
		k := ""
		if i < len(severityKeys) {
			k = severityKeys[i]
		}
		data.Severities = append(data.Severities, choice{sev, sev, k})
	}
	if stop {
		if err := c.Store.ReleaseClaims(r.Context(), u.ID); err != nil {
			s.logger.Error("release claims", "err", err)
		}
		s.render(w, r, http.StatusForbidden, "staff_queue_stop", s.newStaffPage(w, r, data))
		return
	}
	items, err := c.Store.ClaimQueue(r.Context(), u.ID, c.PageSize, c.ClaimTTL)
	if err != nil {
		s.workbenchError(w, "claim queue", err)
		return
	}
	reveal, _ := strconv.ParseInt(r.URL.Query().Get("reveal"), 10, 64)
	selected, _ := strconv.ParseInt(r.URL.Query().Get("item"), 10, 64)
	for _, it := range items {
		card := queueCard{QueueItem: it, Video: it.Media.Class == "video", Revealed: it.Media.ID == reveal}
		if vigil.IsContainer(it.Media.Class) {
			if card.Container, err = s.containerOf(r.Context(), it.Media); err != nil {
				s.workbenchError(w, "container", err)
				return
			}
		}
		data.Items = append(data.Items, card)
		if it.Media.ID == selected || data.Selected == 0 {
			data.Selected = it.Media.ID
		}
	}
	ids := make([]string, len(items))
	for i, it := range items {
		ids[i] = strconv.FormatInt(it.Media.ID, 10)
	}
	if err := s.audit(r, "queue.claim", "queue", map[string]any{"media": ids}); err != nil {
		s.staffRefusal(w, r, http.StatusServiceUnavailable, "refuse_claim_record")
		return
	}
	if id, err := strconv.ParseInt(r.URL.Query().Get("decided"), 10, 64); err == nil && id > 0 {
		// The decision just made, with its near duplicates: a help on
		// the page, so a failure is logged and the queue still shown.
		a, err := c.Store.FindAssessment(r.Context(), id)
		switch {
		case err != nil && !vigil.IsNotFound(err):
			s.logger.Error("decided assessment", "err", err)
		case err == nil && a.AnalystID == u.ID:
			data.Decided = a
			if data.Near, err = c.Store.NearDuplicates(r.Context(), a.MediaID, u.ID, c.NearThreshold, 24); err != nil {
				s.logger.Error("near duplicates", "err", err)
			}
		}
	}
	if data.Stats, err = c.Store.QueueStats(r.Context()); err != nil {
		s.workbenchError(w, "queue stats", err)
		return
	}
	s.render(w, r, http.StatusOK, "staff_queue", s.newStaffPage(w, r, data))
}

// handleQueueRelease gives the analyst's claims back.
func (s *Server) handleQueueRelease(w http.ResponseWriter, r *http.Request) {
	if err := parseForm(w, r, 8<<10); err != nil || !s.checkCSRF(r) {
		s.staffRefusal(w, r, http.StatusBadRequest, "refuse_bad_form")
		return
	}
	if err := s.cfg.Workbench.Store.ReleaseClaims(r.Context(), userFrom(r.Context()).ID); err != nil {
		s.workbenchError(w, "release", err)
		return
	}
	if err := s.audit(r, "queue.release", "queue", nil); err != nil {
		// The claims are back either way; the record of it is not.
		s.logger.Error("audit queue.release", "err", err)
	}
	http.Redirect(w, r, "/staff/", http.StatusSeeOther)
}

// assessmentFromForm reads the classification form.
func assessmentFromForm(r *http.Request, mediaID int64, u *vigil.User) *vigil.Assessment {
	return &vigil.Assessment{
		MediaID: mediaID, AnalystID: u.ID, Analyst: u.Name,
		Verdict: vigil.Verdict(r.PostFormValue("verdict")), AgeGroup: vigil.AgeGroup(r.PostFormValue("age")),
		Severity: r.PostFormValue("severity"), Note: strings.TrimSpace(r.PostFormValue("note")),
		SelfGenerated: r.PostFormValue("self_generated") != "", AIGenerated: r.PostFormValue("ai_generated") != "",
		VictimID: r.PostFormValue("victim_id") != "",
	}
}

func assessmentDetail(a *vigil.Assessment) map[string]any {
	d := map[string]any{"verdict": a.Verdict, "age_group": a.AgeGroup, "severity": a.Severity,
		"self_generated": a.SelfGenerated, "ai_generated": a.AIGenerated, "victim_id": a.VictimID}
	if a.Note != "" {
		d["note"] = a.Note
	}
	if a.AppliedFrom != 0 {
		d["applied_from"] = fmt.Sprintf("media:%d", a.AppliedFrom)
	}
	if a.ID != 0 {
		d["assessment"] = a.ID
	}
	return d
}

// assess records one decision, on the record first: without an audit
// entry there is no decision.
func (s *Server) assess(r *http.Request, a *vigil.Assessment) error {
	if err := a.Validate(s.cfg.Workbench.Severities); err != nil {
		return err
	}
	object := fmt.Sprintf("media:%d", a.MediaID)
	if err := s.audit(r, "media.assess", object, assessmentDetail(a)); err != nil {
		return vigil.Errorf(vigil.EINTERNAL, "the decision could not be put on the record")
	}
	if err := s.cfg.Workbench.Store.Assess(r.Context(), a); err != nil {
		if aerr := s.audit(r, "media.assess.refused", object, map[string]any{"error": err.Error()}); aerr != nil {
			s.logger.Error("audit media.assess.refused", "err", aerr)
		}
		return err
	}
	return nil
}

type nearJSON struct {
	ID       int64  `json:"id"`
	Distance int    `json:"distance"`
	Case     string `json:"case"`
}

type assessJSON struct {
	Assessment int64      `json:"assessment"`
	Media      int64      `json:"media"`
	Verdict    string     `json:"verdict"`
	State      string     `json:"state"`
	Near       []nearJSON `json:"near"`
	Applied    []int64    `json:"applied,omitempty"`
	Error      string     `json:"error,omitempty"`
}

func wantsJSON(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "application/json")
}

func (s *Server) answerAssess(w http.ResponseWriter, r *http.Request, err error, body assessJSON) {
	if err != nil && httpStatus(err) >= 500 {
		s.logger.Error("assess", "err", err)
	}
	if wantsJSON(r) {
		w.Header().Set("Content-Type", "application/json")
		status := http.StatusOK
		if err != nil {
			status, body.Error = httpStatus(err), err.Error()
			if status >= 500 {
				body.Error = "internal error"
			}
		}
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(body)
		return
	}
	if err != nil {
		s.workbenchError(w, "assess", err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/staff/queue?decided=%d", body.Assessment), http.StatusSeeOther)
}

// handleAssess records an analyst's decision on one item (and so on all
// its exact duplicates) and offers the decision for its near duplicates.
func (s *Server) handleAssess(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r, "id")
	if !ok {
		http.NotFound(w, r)
		return
	}
	if err := parseForm(w, r, 16<<10); err != nil || !s.checkCSRF(r) {
		s.staffRefusal(w, r, http.StatusBadRequest, "refuse_bad_form")
		return
	}
	u := userFrom(r.Context())
	a := assessmentFromForm(r, id, u)
	err := s.assess(r, a)
	body := assessJSON{Assessment: a.ID, Media: id, Verdict: string(a.Verdict), State: string(a.State), Near: []nearJSON{}}
	if err == nil && a.Verdict.Decisive() {
		near, nerr := s.cfg.Workbench.Store.NearDuplicates(r.Context(), id, u.ID, s.cfg.Workbench.NearThreshold, 24)
		if nerr != nil {
			s.logger.Error("near duplicates", "err", nerr)
		}
		for _, it := range near {
			body.Near = append(body.Near, nearJSON{ID: it.Media.ID, Distance: it.Distance, Case: it.CaseURL})
		}
	}
	s.answerAssess(w, r, err, body)
}

// handleApplyNear applies the analyst's decision on an item to the near
// duplicates they chose: each is a decision of its own, on the record.
func (s *Server) handleApplyNear(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r, "id")
	if !ok {
		http.NotFound(w, r)
		return
	}
	if err := parseForm(w, r, 16<<10); err != nil || !s.checkCSRF(r) {
		s.staffRefusal(w, r, http.StatusBadRequest, "refuse_bad_form")
		return
	}
	u := userFrom(r.Context())
	from, _ := strconv.ParseInt(r.PostFormValue("from"), 10, 64)
	src, err := s.cfg.Workbench.Store.FindAssessment(r.Context(), from)
	switch {
	case err != nil:
		s.answerAssess(w, r, err, assessJSON{})
		return
	case src.MediaID != id || src.AnalystID != u.ID || !src.Verdict.Decisive():
		s.answerAssess(w, r, vigil.Errorf(vigil.EFORBIDDEN, "only your own decision on this item can be applied"), assessJSON{})
		return
	}
	body := assessJSON{Assessment: src.ID, Media: id, Verdict: string(src.Verdict), Near: []nearJSON{}}
	var firstErr error
	for _, v := range r.PostForm["ids"] {
		mid, err := strconv.ParseInt(v, 10, 64)
		if err != nil || mid == id {
			continue
		}
		a := *src
		a.ID, a.MediaID, a.AppliedFrom, a.State, a.ConfirmerID, a.Confirmer, a.ConfirmedAt = 0, mid, id, "", 0, "", nil
		if err := s.assess(r, &a); err != nil {
			firstErr = cmpErr(firstErr, err)
			continue
		}
		body.Applied = append(body.Applied, mid)
	}
	if firstErr != nil && len(body.Applied) > 0 {
		firstErr = nil // some were taken meanwhile: the answer lists what was applied
	}
	s.answerAssess(w, r, firstErr, body)
}

func cmpErr(first, err error) error {
	if first != nil {
		return first
	}
	return err
}
