package web

import (
	"context"
	"net/http"
)

// handleStaffExchangeRemove removes an exchange (its entries stay).
func (s *Server) handleStaffExchangeRemove(w http.ResponseWriter, r *http.Request) {
	s.serveStaffPost(w, r, staffPost{
		what: "exchange remove", failKey: "exch_err_remove", fail: s.failExchanges,
		act: func(ctx context.Context, _ *http.Request, id int64) (staffDone, error) {
			x, err := s.cfg.Exchanges.Service.FindExchangeByID(ctx, id)
			if err != nil {
				return staffDone{}, err
			}
			if err := s.cfg.Exchanges.Service.RemoveExchange(ctx, id); err != nil {
				return staffDone{}, err
			}
			return staffDone{
				action: "exchange.remove", object: "exchange:" + x.Name,
				detail: map[string]any{"kind": x.Kind, "entries": x.Entries},
				next:   "/staff/exchanges?done=removed",
			}, nil
		},
	})
}
