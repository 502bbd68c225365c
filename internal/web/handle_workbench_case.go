package web

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/netmap"
)

type caseFetch struct {
	*vigil.Fetch
	Redirects []string
	Addresses []string
}

type caseMedia struct {
	Media       *vigil.Media
	Matches     []vigil.Match
	Assessments []*vigil.Assessment
	// Victim holds the descriptions of the people shown, when the item
	// matched the victim bank: what they chose to say, nothing about them.
	Victim []string
}

type caseData struct {
	URL     *vigil.ReportedURL
	Reports []*vigil.CaseReport
	Fetches []caseFetch
	Media   []caseMedia
	History []*vigil.AuditEntry
	Frames  bool
	// Ref is the case reference, as notices and packages give it.
	Ref string
	// Takedown, when the case is on the takedown path, with its messages.
	Takedown *vigil.Takedown
	Messages []*vigil.Outbound
	// PartnerSteps are what the partner a case was referred to reported.
	PartnerSteps []*vigil.ReferralStatus
	// Hold is the case's legal hold, if any; Supervisor offers the hold
	// and evidence actions, Evidence says packages can be made.
	Hold       *vigil.LegalHold
	Supervisor bool
	Evidence   bool
	// Links are the cases it shares map nodes with, and why; MapNode its
	// node on the map (0: none yet); MapOff: no map configured.
	Links   []netmap.Why
	MapNode int64
	MapOff  bool
}

// handleCase shows one case (a reported URL): its reports, the crawl's
// evidence, the media with their verdicts and the history from the audit
// log. Media appear blurred, as in the queue.
func (s *Server) handleCase(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r, "id")
	if !ok {
		http.NotFound(w, r)
		return
	}
	ctx := r.Context()
	c := &s.cfg.Workbench
	u, err := s.cfg.Reports.FindReportedURL(ctx, id)
	if err != nil {
		s.workbenchError(w, "case", err)
		return
	}
	object := fmt.Sprintf("case:%d", id)
	if err := s.audit(r, "case.view", object, nil); err != nil {
		s.staffRefusal(w, r, http.StatusServiceUnavailable, "refuse_view_record")
		return
	}
	d := caseData{URL: u, Frames: c.FFmpeg != "", Ref: vigil.CaseReference(s.cfg.Takedown.CaseRefPrefix, u.ID, u.FirstReportedAt)}
	d.Supervisor = userFrom(ctx).Role == vigil.RoleSupervisor
	d.Evidence = c.Evidence != nil && c.EvidenceKey != nil
	if c.Holds != nil {
		if d.Hold, err = c.Holds.FindLegalHold(ctx, id); err != nil && vigil.ErrorCode(err) != vigil.ENOTFOUND {
			s.workbenchError(w, "case hold", err)
			return
		}
	}
	if td := s.cfg.Takedown.Takedowns; td != nil {
		t, err := td.FindTakedownByURL(ctx, id)
		switch {
		case err == nil:
			d.Takedown = t
			if d.Messages, err = td.ListOutbound(ctx, t.ID); err != nil {
				s.workbenchError(w, "case messages", err)
				return
			}
			if rs := s.cfg.Federation.Referrals; rs != nil {
				if d.PartnerSteps, err = rs.ReferralStatuses(ctx, vigil.ReferralIn, d.Ref); err != nil {
					s.workbenchError(w, "case referral", err)
					return
				}
			}
		case vigil.ErrorCode(err) != vigil.ENOTFOUND:
			s.workbenchError(w, "case takedown", err)
			return
		}
	}
	if d.Reports, err = c.Store.CaseReports(ctx, id); err != nil {
		s.workbenchError(w, "case reports", err)
		return
	}
	fetches, err := c.Media.ListFetches(ctx, id)
	if err != nil {
		s.workbenchError(w, "case fetches", err)
		return
	}
	for _, f := range fetches {
		d.Fetches = append(d.Fetches, evidenceOf(f))
	}
	media, err := c.Media.ListMediaForURL(ctx, id)
	if err != nil {
		s.workbenchError(w, "case media", err)
		return
	}
	objects := []string{object}
	for _, m := range media {
		cm := caseMedia{Media: m}
		if cm.Matches, err = c.Media.MediaMatches(ctx, m.ID); err != nil {
			s.workbenchError(w, "case matches", err)
			return
		}
		if cm.Victim, err = s.victimDescriptions(ctx, cm.Matches); err != nil {
			s.workbenchError(w, "case victim descriptions", err)
			return
		}
		if cm.Assessments, err = c.Store.ListAssessments(ctx, m.ID); err != nil {
			s.workbenchError(w, "case assessments", err)
			return
		}
		d.Media = append(d.Media, cm)
		objects = append(objects, fmt.Sprintf("media:%d", m.ID))
		for _, a := range cm.Assessments {
			objects = append(objects, fmt.Sprintf("assessment:%d", a.ID))
		}
	}
	if st := s.cfg.Map.Store; st == nil {
		d.MapOff = true
	} else {
		if d.Links, err = netmap.CaseWhy(ctx, st, id, s.cfg.Map.Rules); err != nil {
			s.workbenchError(w, "case links", err)
			return
		}
		n, err := st.FindMapNode(ctx, vigil.NodeCase, vigil.CaseNodeKey(id))
		switch {
		case err == nil:
			d.MapNode = n.ID
		case !vigil.IsNotFound(err):
			s.workbenchError(w, "case map node", err)
			return
		}
	}
	if audit := s.cfg.Accounts.Audit; audit != nil {
		for _, o := range objects {
			entries, err := audit.ListAudit(ctx, vigil.AuditFilter{Object: o, Limit: 200})
			if err != nil {
				s.workbenchError(w, "case history", err)
				return
			}
			d.History = append(d.History, entries...)
		}
		sortAudit(d.History)
	}
	s.render(w, r, http.StatusOK, "staff_case", s.newStaffPage(w, r, d))
}

// sortAudit orders entries as they were written.
func sortAudit(es []*vigil.AuditEntry) {
	for i := 1; i < len(es); i++ {
		for j := i; j > 0 && es[j].ID < es[j-1].ID; j-- {
			es[j], es[j-1] = es[j-1], es[j]
		}
	}
}

// evidenceOf pulls the redirect chain and the addresses out of a fetch's
// evidence record, as far as it holds them.
func evidenceOf(f *vigil.Fetch) caseFetch {
	cf := caseFetch{Fetch: f}
	var ev struct {
		Redirects []struct {
			URL      string `json:"url"`
			Location string `json:"location"`
			Status   int    `json:"status"`
		} `json:"redirects"`
		ResolvedIPs []string `json:"resolved_ips"`
	}
	if json.Unmarshal([]byte(f.Evidence), &ev) == nil {
		for _, rd := range ev.Redirects {
			cf.Redirects = append(cf.Redirects, fmt.Sprintf("%d %s → %s", rd.Status, rd.URL, rd.Location))
		}
		cf.Addresses = ev.ResolvedIPs
	}
	return cf
}
