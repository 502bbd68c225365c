package web

import (
	"context"
	"net/http"
	"strconv"
)

// staffPost is the shape the staff POST handlers that act on one object,
// named by the {id} in the path, have in common: the id (404 when it is not
// one), the form and its CSRF token, the action, its audit record, then a
// redirect. Each handler keeps its own page for errors and its own audit
// record; only the order of the steps is shared, so that none can skip one.
type staffPost struct {
	what    string // names the action in the log when it fails on the server side
	failKey string // message key shown when the action fails
	// fail renders the handler's error page: key is msgExpired when the form
	// or its token is bad, failKey (with the action's err) when the action
	// fails, and msgAuditFailed when its audit record cannot be written.
	fail func(w http.ResponseWriter, r *http.Request, status int, key string, err error)
	act  func(ctx context.Context, r *http.Request, id int64) (staffDone, error)
}

// staffDone is what an action hands back for its audit record and redirect.
type staffDone struct {
	action, object string
	detail         map[string]any
	next           string // where the browser goes after
}

// msgAuditFailed is the message key shown when an action's audit record
// cannot be written.
const msgAuditFailed = "exch_audit_failed"

func (s *Server) serveStaffPost(w http.ResponseWriter, r *http.Request, p staffPost) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	if err := parseForm(w, r, 4<<10); err != nil || !s.checkCSRF(r) {
		p.fail(w, r, http.StatusForbidden, msgExpired, nil)
		return
	}
	done, err := p.act(r.Context(), r, id)
	if err != nil {
		if httpStatus(err) >= 500 {
			s.logger.Error(p.what, "err", err)
		}
		p.fail(w, r, httpStatus(err), p.failKey, err)
		return
	}
	if err := s.audit(r, done.action, done.object, done.detail); err != nil {
		p.fail(w, r, http.StatusInternalServerError, msgAuditFailed, nil)
		return
	}
	http.Redirect(w, r, done.next, http.StatusSeeOther)
}

// failExchanges renders the exchanges page with an error, for staffPost.
func (s *Server) failExchanges(w http.ResponseWriter, r *http.Request, status int, key string, _ error) {
	s.renderExchanges(w, r, status, key, nil)
}
