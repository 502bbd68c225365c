package web

import (
	"net/http"

	"github.com/vigil-hotline/vigil"
)

type exchangesPage struct {
	Exchanges []*vigil.Exchange
	Banks     []*vigil.Bank
	Kinds     []string
	Notice    string
	// Form is what was typed, given back after a refusal (never the
	// credentials).
	Form map[string]string
}

// exchangeNotices are the confirmations shown after an action: the
// catalogue keys of their texts, so that a link cannot make the page say
// anything else.
var exchangeNotices = map[string]string{
	"added": "exch_done_added", "removed": "exch_done_removed", "enabled": "exch_done_enabled", "disabled": "exch_done_disabled",
}

// handleStaffExchanges lists the exchanges with their last fetch, and the
// form that adds one.
func (s *Server) handleStaffExchanges(w http.ResponseWriter, r *http.Request) {
	s.renderExchanges(w, r, http.StatusOK, "", nil)
}

func (s *Server) renderExchanges(w http.ResponseWriter, r *http.Request, status int, errMsg string, form map[string]string) {
	ctx := r.Context()
	list, err := s.cfg.Exchanges.Service.ListExchanges(ctx)
	var banks []*vigil.Bank
	if err == nil {
		banks, err = s.cfg.Exchanges.Service.ListBanks(ctx)
	}
	for i := 0; err == nil && i < len(list); i++ {
		list[i], err = s.cfg.Exchanges.Service.FindExchangeByID(ctx, list[i].ID) // with its entry count
	}
	if err != nil {
		s.logger.Error("exchanges", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	data := exchangesPage{Exchanges: list, Banks: banks, Kinds: vigil.ExchangeKinds, Form: form}
	p := s.newStaffPage(w, r, &data)
	if key, ok := exchangeNotices[r.URL.Query().Get("done")]; ok {
		data.Notice = p.text(key)
	}
	p.Error = errMsg
	s.render(w, r, status, "staff_exchanges", p)
}
