package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/vigil-hotline/vigil"
)

// errAuditFailed wraps every failure to write an audit entry.
var errAuditFailed = errors.New("audit: the entry could not be written")

// audit records an action of the signed-in staff member (the actor comes
// from the request's session; "anonymous" outside the staff gate). object
// names what was acted on ("media:42", "user:7"); detail is stored as a
// JSON object and may be nil.
//
// It returns an error when the entry could not be written. Actions that must
// be on the record (viewing or revealing media, decisions) fail closed:
// they check the error and refuse. Without an audit service configured
// (some tests) it logs and returns nil.
func (s *Server) audit(r *http.Request, action, object string, detail map[string]any) error {
	return s.auditAs(r.Context(), userFrom(r.Context()), action, object, detail)
}

// auditAs records an action of u (nil: anonymous), for the moments when
// the request carries no session yet (sign-in) or acts for someone else.
func (s *Server) auditAs(ctx context.Context, u *vigil.User, action, object string, detail map[string]any) error {
	e := &vigil.AuditEntry{Actor: "anonymous", Action: action, Object: object, Detail: "{}"}
	if u != nil {
		e.ActorID, e.Actor = u.ID, u.Name
	}
	if len(detail) > 0 {
		b, err := json.Marshal(detail)
		if err != nil {
			s.logger.Error("audit", "action", action, "err", err)
			return fmt.Errorf("%w: %w", errAuditFailed, err)
		}
		e.Detail = string(b)
	}
	if s.cfg.Accounts.Audit == nil {
		s.logger.Error("audit: no audit service configured; entry not written", "actor", e.Actor, "action", action, "object", object)
		return nil
	}
	// The entry is written even when the request was cancelled meanwhile:
	// the action it records may already have happened.
	if err := s.cfg.Accounts.Audit.AppendAudit(context.WithoutCancel(ctx), e); err != nil {
		s.logger.Error("audit", "actor", e.Actor, "action", action, "object", object, "err", err)
		return fmt.Errorf("%w: %w", errAuditFailed, err)
	}
	return nil
}
