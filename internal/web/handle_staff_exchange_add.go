package web

import (
	"net/http"
	"strings"
	"time"

	"github.com/vigil-hotline/vigil"
)

// handleStaffExchangeAdd adds an exchange. Its credentials are sealed by
// the store; they appear in no answer, log or audit entry.
func (s *Server) handleStaffExchangeAdd(w http.ResponseWriter, r *http.Request) {
	if err := parseForm(w, r, 32<<10); err != nil || !s.checkCSRF(r) {
		s.renderExchanges(w, r, http.StatusForbidden, msgExpired, nil)
		return
	}
	f := func(k string) string { return strings.TrimSpace(r.PostFormValue(k)) }
	form := map[string]string{"name": f("name"), "kind": f("kind"), "bank": f("bank"), "url": f("url"),
		"user": f("user"), "schedule": f("schedule"), "signals": f("signals")}
	refuse := func(msg string) { s.renderExchanges(w, r, http.StatusBadRequest, msg, form) }
	schedule := 24 * time.Hour
	if v := f("schedule"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			refuse("exch_err_schedule")
			return
		}
		schedule = d
	}
	x := &vigil.Exchange{Name: f("name"), Kind: f("kind"), URL: f("url"), Schedule: schedule,
		AllowPrivate: r.PostFormValue("allow_private") == "1", Enabled: true}
	for _, v := range strings.Split(f("signals"), ",") {
		if v = strings.TrimSpace(v); v != "" {
			t, err := vigil.ParseSignalType(v)
			if err != nil {
				refuse(s.staffErrorText(r, err))
				return
			}
			x.SignalTypes = append(x.SignalTypes, t)
		}
	}
	banks, err := s.cfg.Exchanges.Service.ListBanks(r.Context())
	if err != nil {
		s.logger.Error("exchange add", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	for _, b := range banks {
		if b.Name == f("bank") {
			x.BankID = b.ID
		}
	}
	if x.BankID == 0 {
		refuse("exch_err_bank")
		return
	}
	// Secrets are taken as typed (no trimming of inner spaces), never echoed.
	cred := vigil.ExchangeCredentials{Token: strings.TrimSpace(r.PostFormValue("token")), User: f("user"),
		Password: r.PostFormValue("password")}
	if err := s.cfg.Exchanges.Service.CreateExchange(r.Context(), x, cred); err != nil {
		if httpStatus(err) >= 500 {
			s.logger.Error("exchange add", "err", err)
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
		refuse(s.staffErrorText(r, err))
		return
	}
	if err := s.audit(r, "exchange.add", "exchange:"+x.Name, map[string]any{"kind": x.Kind, "bank": f("bank"),
		"url": x.URL, "auth": cred.AuthKind(), "allow_private": x.AllowPrivate, "schedule": x.Schedule.String()}); err != nil {
		s.renderExchanges(w, r, http.StatusInternalServerError, "exch_audit_failed", nil)
		return
	}
	http.Redirect(w, r, "/staff/exchanges?done=added", http.StatusSeeOther)
}
