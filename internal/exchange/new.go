package exchange

import "fmt"

// New returns the client for cfg.Kind.
func New(cfg Config) (Client, error) {
	if cfg.HTTP == nil {
		return nil, fmt.Errorf("exchange: no HTTP client given")
	}
	switch cfg.Kind {
	case KindHTTPList:
		return newHTTPList(cfg)
	case KindNCMEC:
		return newNCMEC(cfg)
	case KindThreatExchange, KindStopNCII:
		// Their clients live in their own packages, which import this
		// one: internal/exchange/upstream.NewClient opens every kind.
		return nil, fmt.Errorf("exchange: kind %q is opened by upstream.NewClient", cfg.Kind)
	}
	return nil, fmt.Errorf("exchange: unknown kind %q", cfg.Kind)
}
