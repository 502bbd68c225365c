package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/vigil-hotline/vigil"
)

type auditPage struct {
	Actor, Action, Object string
	Entries               []*vigil.AuditEntry
	// Older links to the next page; empty on the last.
	Older        string
	Verification *vigil.AuditVerification
	Unavailable  bool
}

// handleAudit shows the audit log, newest first, filtered by actor (user
// name), action (exact, or a prefix ending in ".") and object, a page at
// a time. With verify=1 it also checks the whole chain.
func (s *Server) handleAudit(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	d := auditPage{Actor: strings.TrimSpace(q.Get("actor")), Action: strings.TrimSpace(q.Get("action")),
		Object: strings.TrimSpace(q.Get("object"))}
	log := s.cfg.Accounts.Audit
	if log == nil {
		d.Unavailable = true
		s.render(w, r, http.StatusOK, "staff_audit", s.newStaffPage(w, r, d))
		return
	}
	f := vigil.AuditFilter{Action: d.Action, Object: d.Object, Limit: s.cfg.Accounts.AuditPage}
	f.BeforeID, _ = strconv.ParseInt(q.Get("before"), 10, 64)
	ctx := r.Context()
	found := true
	if d.Actor != "" {
		if u, err := s.cfg.Users.FindUserByName(ctx, d.Actor); err == nil {
			f.ActorID = u.ID
		} else if vigil.IsNotFound(err) {
			found = false
		} else {
			s.auditPageError(w, "find actor", err)
			return
		}
	}
	if found {
		entries, err := log.ListAudit(ctx, f)
		if err != nil {
			s.auditPageError(w, "list audit", err)
			return
		}
		d.Entries = entries
		if len(entries) == f.Limit {
			v := url.Values{"before": {strconv.FormatInt(entries[len(entries)-1].ID, 10)}}
			for k, val := range map[string]string{"actor": d.Actor, "action": d.Action, "object": d.Object} {
				if val != "" {
					v.Set(k, val)
				}
			}
			d.Older = "/staff/audit?" + v.Encode()
		}
	}
	if q.Get("verify") == "1" {
		v, err := log.VerifyAudit(ctx)
		if err != nil {
			s.auditPageError(w, "verify audit", err)
			return
		}
		d.Verification = &v
	}
	s.render(w, r, http.StatusOK, "staff_audit", s.newStaffPage(w, r, d))
}

func (s *Server) auditPageError(w http.ResponseWriter, what string, err error) {
	s.logger.Error(what, "err", err)
	http.Error(w, "internal error", http.StatusInternalServerError)
}
