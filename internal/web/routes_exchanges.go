package web

import (
	"context"
	"net/http"

	"github.com/vigil-hotline/vigil"
)

// ExchangesConfig serves the administrators' page of hash exchanges
// (issue 15); off when Service is nil.
type ExchangesConfig struct {
	Service ExchangeAdmin
}

// ExchangeAdmin is what the page needs of the store.
type ExchangeAdmin interface {
	ListExchanges(ctx context.Context) ([]*vigil.Exchange, error)
	FindExchangeByID(ctx context.Context, id int64) (*vigil.Exchange, error)
	CreateExchange(ctx context.Context, x *vigil.Exchange, c vigil.ExchangeCredentials) error
	SetExchangeEnabled(ctx context.Context, id int64, enabled bool) error
	RemoveExchange(ctx context.Context, id int64) error
	ListBanks(ctx context.Context) ([]*vigil.Bank, error)
}

// exchangeRoutes: administrators list, add, switch and remove exchanges;
// credentials go in and never come out.
func (s *Server) exchangeRoutes(mux *http.ServeMux) {
	if s.cfg.Exchanges.Service == nil {
		return
	}
	s.staffRoute(mux, "GET /staff/exchanges", s.handleStaffExchanges, vigil.RoleAdmin)
	s.staffRoute(mux, "POST /staff/exchanges", s.handleStaffExchangeAdd, vigil.RoleAdmin)
	s.staffRoute(mux, "POST /staff/exchanges/{id}/enabled", s.handleStaffExchangeEnabled, vigil.RoleAdmin)
	s.staffRoute(mux, "POST /staff/exchanges/{id}/remove", s.handleStaffExchangeRemove, vigil.RoleAdmin)
}
