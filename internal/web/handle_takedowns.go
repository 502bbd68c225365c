package web

import (
	"net/http"

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
	now := s.cfg.Now()
	p := takedownsPage{State: r.URL.Query().Get("state"), Counts: map[string]int{}, Stats: st, Refs: map[int64]takedownRow{},
		States: []string{"tracing", "forwarded", "notified", "removed", "overdue"}}
	for _, t := range all {
		row := takedownRow{Takedown: t, Ref: t.Reference(s.cfg.Takedown.CaseRefPrefix), Sent: sent[t.ID], Pending: unsent[t.ID]}
		p.Refs[t.ID] = row
		// Overdue: past the forwarding deadline with a forward still unsent,
		// or not even routed yet.
		row.Overdue = t.Deadline != nil && now.After(*t.Deadline) && t.State != vigil.TakedownRemoved &&
			(t.State == vigil.TakedownTracing || unsent[t.ID] > 0)
		p.Counts[string(t.State)]++
		if row.Overdue {
			p.Counts["overdue"]++
		}
		if p.State == "" || p.State == string(t.State) || (p.State == "overdue" && row.Overdue) {
			p.Rows = append(p.Rows, row)
		}
	}
	for i := len(msgs) - 1; i >= 0 && len(p.Messages) < 100; i-- {
		p.Messages = append(p.Messages, msgs[i])
	}
	s.render(w, r, http.StatusOK, "staff_takedowns", s.newStaffPage(w, r, p))
}
