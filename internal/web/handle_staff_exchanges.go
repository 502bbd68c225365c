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

// exchangeNotices are the confirmations shown after an action, by key.
var exchangeNotices = map[string]string{
	"added":   "The exchange was added. Its credentials are sealed and will not be shown again.",
	"removed": "The exchange was removed; its entries stay in their bank with their upstream ids.",
	"enabled": "The exchange was enabled.", "disabled": "The exchange was disabled: it is no longer fetched.",
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
	p := s.newStaffPage(w, r, exchangesPage{Exchanges: list, Banks: banks, Kinds: vigil.ExchangeKinds,
		Notice: exchangeNotices[r.URL.Query().Get("done")], Form: form})
	p.Error = errMsg
	s.render(w, r, status, "staff_exchanges", p)
}
