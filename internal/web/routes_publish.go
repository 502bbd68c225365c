package web

import (
	"context"
	"crypto/ed25519"
	"net/http"

	"github.com/vigil-hotline/vigil"
)

// PublishConfig serves the hotline's own confirmed bank (vigil.HotlineBank)
// to partners: GET /api/v1/exchange/list, with an API key of scope
// exchange-publish per partner.
type PublishConfig struct {
	Banks PublishBanks
	// Key signs the list: the federation key partners already hold.
	Key ed25519.PrivateKey
}

// PublishBanks is what publishing reads of the store.
type PublishBanks interface {
	FindBankByName(ctx context.Context, name string) (*vigil.Bank, error)
	BankEntries(ctx context.Context, bankID, afterID int64, limit int) ([]*vigil.BankEntry, error)
}

func (s *Server) publishRoutes(mux *http.ServeMux) {
	if s.cfg.Publish.Banks == nil || s.cfg.Publish.Key == nil {
		return
	}
	mux.Handle("GET /api/v1/exchange/list", s.apiAuth(s.handleAPIExchangeList, vigil.ScopeExchangePublish))
}
