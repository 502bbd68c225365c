package web

import (
	"context"
	"net/http"
	"strconv"
)

// handleStaffExchangeEnabled switches an exchange's fetches on or off.
func (s *Server) handleStaffExchangeEnabled(w http.ResponseWriter, r *http.Request) {
	s.serveStaffPost(w, r, staffPost{
		what: "exchange enable", failKey: "exch_err_enable", fail: s.failExchanges,
		act: func(ctx context.Context, r *http.Request, id int64) (staffDone, error) {
			enabled := r.PostFormValue("enabled") == "1"
			if err := s.cfg.Exchanges.Service.SetExchangeEnabled(ctx, id, enabled); err != nil {
				return staffDone{}, err
			}
			done := "disabled"
			if enabled {
				done = "enabled"
			}
			return staffDone{
				action: "exchange.enable", object: "exchange-id:" + strconv.FormatInt(id, 10),
				detail: map[string]any{"enabled": enabled},
				next:   "/staff/exchanges?done=" + done,
			}, nil
		},
	})
}
