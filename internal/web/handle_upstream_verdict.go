package web

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/vigil-hotline/vigil"
)

// handleUpstreamVerdict records an analyst's confirmation or dispute of an
// entry an exchange brought, from the case page. A dispute takes the entry
// out of matching here at once; both go back to the service as feedback
// where it takes some (a job, sent once).
func (s *Server) handleUpstreamVerdict(w http.ResponseWriter, r *http.Request) {
	entry, err := strconv.ParseInt(r.PathValue("entry"), 10, 64)
	verdict := r.PathValue("verdict")
	if err != nil || (verdict != vigil.VerdictConfirm && verdict != vigil.VerdictDispute) {
		http.NotFound(w, r)
		return
	}
	if err := parseForm(w, r, 8<<10); err != nil || !s.checkCSRF(r) {
		s.staffRefusal(w, r, http.StatusForbidden, "form_expired")
		return
	}
	media, _ := strconv.ParseInt(r.PostFormValue("media"), 10, 64)
	v := &vigil.UpstreamVerdict{EntryID: entry, MediaID: max(media, 0), Verdict: verdict,
		UserID: userFrom(r.Context()).ID, Note: strings.TrimSpace(r.PostFormValue("note"))}
	if err := s.cfg.Trust.Service.JudgeUpstreamEntry(r.Context(), v); err != nil {
		if httpStatus(err) >= 500 {
			s.logger.Error("upstream verdict", "err", err)
		}
		s.staffRefusal(w, r, httpStatus(err), "refuse_verdict", vigil.ErrorMessage(err))
		return
	}
	if err := s.audit(r, "upstream."+verdict, "bank_entry:"+strconv.FormatInt(entry, 10), map[string]any{
		"media": v.MediaID, "exchange": v.ExchangeID, "upstream_id": v.UpstreamID, "feedback": string(v.Feedback)}); err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	back := r.PostFormValue("back")
	if !strings.HasPrefix(back, "/staff/cases/") || strings.ContainsAny(back, "\\\r\n") {
		back = "/staff/queue"
	}
	http.Redirect(w, r, back, http.StatusSeeOther)
}
