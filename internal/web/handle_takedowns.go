package web

import (
	"net/http"

	"github.com/vigil-hotline/vigil/internal/federation"

	"github.com/vigil-hotline/vigil"
)

type takedownRow struct {
	*vigil.Takedown
	Ref     string // the case reference
	Overdue bool
	Sent    int
	Pending int
}

type takedownsPage struct {
	State    string
	States   []string
	Rows     []takedownRow
	Counts   map[string]int
	Stats    *vigil.Stats
	Messages []*vigil.Outbound
	// Refs gives each takedown's case reference and case, for messages.
	Refs map[int64]takedownRow
	// Partners is the progress of the cases referred to partners running
	// Vigil; Disagreements the steps whose classification differs from
	// ours (both kept, nothing overwritten).
	Partners      []partnerProgress
	Disagreements []disagreement
}

// partnerProgress is one referred case as its partner reports it.
type partnerProgress struct {
	Case    takedownRow
	Partner string
	Steps   []*vigil.ReferralStatus
	// Unacknowledged: sent, the route's deadline passed, and the partner
	// has not even said it received it.
	Unacknowledged bool
}

type disagreement struct {
	Case    takedownRow
	Partner string
	Ours    string
	Theirs  string
	// Inbound: a case the partner referred to us (TheirRef), an item
	// (its SHA-256) our analyst classified otherwise.
	Inbound  bool
	TheirRef string
	Item     string
}

// handleTakedowns shows supervisors the cases on the takedown path by
// state, those overdue, the messages sent, and the time to removal by
// route, country and provider.
func (s *Server) handleTakedowns(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	all, err := s.cfg.Takedown.Takedowns.ListTakedowns(ctx, "", 1000)
	if err != nil {
		s.logger.Error("takedowns", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	msgs, err := s.cfg.Takedown.Takedowns.ListOutbound(ctx, 0)
	if err != nil {
		s.logger.Error("takedowns", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	st, err := s.cfg.Takedown.Stats.Stats(ctx)
	if err != nil {
		s.logger.Error("takedowns", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	unsent := map[int64]int{}
	sent := map[int64]int{}
	for _, m := range msgs {
		if m.State == vigil.OutboundSent {
			sent[m.TakedownID]++
		} else {
			unsent[m.TakedownID]++
		}
	}
	steps, err := s.referralSteps(r)
	if err != nil {
		s.logger.Error("takedowns", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	now := s.cfg.Now()
	p := takedownsPage{State: r.URL.Query().Get("state"), Counts: map[string]int{}, Stats: st, Refs: map[int64]takedownRow{},
		States: []string{"tracing", "forwarded", "notified", "removed", "overdue"}}
	referred := map[int64]*vigil.Outbound{}
	for _, m := range msgs {
		if m.Kind == vigil.OutboundReferral {
			referred[m.TakedownID] = m
		}
	}
	for _, t := range all {
		row := takedownRow{Takedown: t, Ref: t.Reference(s.cfg.Takedown.CaseRefPrefix), Sent: sent[t.ID], Pending: unsent[t.ID]}
		var prog *partnerProgress
		if m := referred[t.ID]; m != nil {
			prog = &partnerProgress{Partner: m.Recipient, Steps: steps[m.MessageID]}
			prog.Unacknowledged = len(prog.Steps) == 0 && t.Deadline != nil && now.After(*t.Deadline) && t.State != vigil.TakedownRemoved
		}
		// Overdue: past the forwarding deadline with a forward still unsent,
		// not even routed yet, or referred and not acknowledged.
		row.Overdue = t.Deadline != nil && now.After(*t.Deadline) && t.State != vigil.TakedownRemoved &&
			(t.State == vigil.TakedownTracing || unsent[t.ID] > 0 || (prog != nil && prog.Unacknowledged))
		p.Refs[t.ID] = row
		if prog != nil {
			prog.Case = row
			p.Partners = append(p.Partners, *prog)
			for _, st := range prog.Steps {
				if st.Classification != "" && st.Classification != t.Classification {
					p.Disagreements = append(p.Disagreements, disagreement{Case: row, Partner: st.Partner,
						Ours: t.Classification, Theirs: st.Classification})
				}
			}
		}
		p.Counts[string(t.State)]++
		if row.Overdue {
			p.Counts["overdue"]++
		}
		if p.State == "" || p.State == string(t.State) || (p.State == "overdue" && row.Overdue) {
			p.Rows = append(p.Rows, row)
		}
	}
	inbound, err := s.inboundDisagreements(r)
	if err != nil {
		s.logger.Error("takedowns", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	p.Disagreements = append(p.Disagreements, inbound...)
	for i := len(msgs) - 1; i >= 0 && len(p.Messages) < 100; i-- {
		p.Messages = append(p.Messages, msgs[i])
	}
	s.render(w, r, http.StatusOK, "staff_takedowns", s.newStaffPage(w, r, p))
}

// referralSteps returns the steps partners reported, by our case
// reference (none without the referral service).
func (s *Server) referralSteps(r *http.Request) (map[string][]*vigil.ReferralStatus, error) {
	out := map[string][]*vigil.ReferralStatus{}
	if s.cfg.Federation.Referrals == nil {
		return out, nil
	}
	all, err := s.cfg.Federation.Referrals.ReferralStatuses(r.Context(), vigil.ReferralIn, "")
	if err != nil {
		return nil, err
	}
	for _, st := range all {
		out[st.CaseRef] = append(out[st.CaseRef], st)
	}
	return out, nil
}

// inboundDisagreements lists the items of the latest referrals received
// whose classification by the referring partner differs from ours: an item
// its trust settings did not let us accept, which our analyst classified
// otherwise.
func (s *Server) inboundDisagreements(r *http.Request) ([]disagreement, error) {
	rs := s.cfg.Federation.Referrals
	if rs == nil {
		return nil, nil
	}
	ins, err := rs.ListReferralsIn(r.Context(), 200)
	if err != nil {
		return nil, err
	}
	type theirs struct{ partner, ref, class string }
	items := map[string][]theirs{}
	var shas []string
	for _, in := range ins {
		// Validated when received; parsed again against its receipt time.
		ref, err := federation.ParseReferral(in.Body, in.ReceivedAt)
		if err != nil {
			continue
		}
		for _, u := range ref.URLs {
			for _, m := range u.Media {
				if m.Classification == "" {
					continue
				}
				if _, ok := items[m.SHA256]; !ok {
					shas = append(shas, m.SHA256)
				}
				items[m.SHA256] = append(items[m.SHA256], theirs{in.Partner, in.Reference, m.Classification})
			}
		}
	}
	ours, err := rs.MediaClassifications(r.Context(), shas)
	if err != nil {
		return nil, err
	}
	var out []disagreement
	for _, sha := range shas {
		for _, t := range items[sha] {
			if c, ok := ours[sha]; ok && c != t.class {
				out = append(out, disagreement{Inbound: true, Partner: t.partner, TheirRef: t.ref, Item: sha[:16], Ours: c, Theirs: t.class})
			}
		}
	}
	return out, nil
}
