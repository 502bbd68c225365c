// Package simworld gives a simulated internet (internal/simnet) the rest of
// the world the takedown path needs: where each site is hosted (MaxMind
// databases it generates), who runs each network (an RDAP server on
// loopback), routing rules with the schedule compressed to moments, and a
// mail catcher as every recipient's mail box. The demo and the tests use
// it; everything stays on loopback and every address is a documentation
// address or .invalid.
package simworld

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/vigil-hotline/vigil/internal/mailcatcher"
	"github.com/vigil-hotline/vigil/internal/route"
	"github.com/vigil-hotline/vigil/internal/simnet"
	"github.com/vigil-hotline/vigil/internal/trace"
	"github.com/vigil-hotline/vigil/internal/trace/tracetest"
)

// Where the simulated sites are hosted, for the trace: the crawler still
// reaches them on loopback.
var (
	// HostedBE is a Belgian hosting network: its content goes to the
	// police with the severity.
	HostedBE = tracetest.Network{Prefix: "192.0.2.0/24", Country: "BE", ASN: 64500, ASOrg: "Example Hosting BE",
		Name: "EXAMPLE-BE", Owner: "Example Hosting BV", Abuse: "abuse@hosting-be.invalid", RDAPCountry: "BE"}
	// HostedNL is in a country with a partner hotline.
	HostedNL = tracetest.Network{Prefix: "203.0.113.0/24", Country: "NL", ASN: 64502, ASOrg: "Example Datacenter NL",
		Name: "EXAMPLE-NL", Owner: "Example Datacenter BV", Abuse: "abuse@datacenter-nl.invalid", RDAPCountry: "NL"}
	// HostedUS is in a third country: the police, and the provider.
	HostedUS = tracetest.Network{Prefix: "198.51.100.0/24", Country: "US", ASN: 64501, ASOrg: "Example Cloud US",
		Name: "EXAMPLE-US", Owner: "Example Cloud Inc", Abuse: "abuse@cloud-us.invalid", RDAPCountry: "US"}
)

// Recipients of the compressed rules.
const (
	Police      = "police@police-be.invalid"
	HotlineNL   = "reports@hotline-nl.invalid"
	UpstreamUS  = "abuse@cloud-us.invalid"
	ProviderUS  = "abuse@cloud-us.invalid"
	ProviderNL  = "abuse@datacenter-nl.invalid"
	ProviderBE  = "abuse@hosting-be.invalid"
	SenderEmail = "notices@hotline-be.invalid"
)

// World is the simulated rest of the world.
type World struct {
	Mail     *mailcatcher.Catcher
	RDAP     *tracetest.RDAPServer
	Resolver *tracetest.Resolver
	Trace    trace.Config
	Rules    *route.Rules
}

// Options shape the rules.
type Options struct {
	// RenoticeInterval and EscalateAfter are the provider route's; defaults
	// 1 s and 2.
	RenoticeInterval time.Duration
	EscalateAfter    int
}

// Start builds the world for sim, writing the databases into dir:
// gallery.example (and its www and cdn) is hosted in BE, bench.example and
// tricks.example in NL, mirror.example in the US.
func Start(dir string, sim *simnet.Net, opts Options) (*World, error) {
	if opts.RenoticeInterval == 0 {
		opts.RenoticeInterval = time.Second
	}
	if opts.EscalateAfter == 0 {
		opts.EscalateAfter = 2
	}
	nets := []tracetest.Network{HostedBE, HostedNL, HostedUS}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	countryDB, asnDB, err := tracetest.WriteGeoLite2(dir, nets)
	if err != nil {
		return nil, fmt.Errorf("simworld: databases: %w", err)
	}
	w := &World{RDAP: tracetest.NewRDAPServer(), Resolver: tracetest.NewResolver()}
	for _, n := range nets {
		w.RDAP.AddNetwork(n)
	}
	for host, ip := range map[string]string{
		simnet.Gallery: "192.0.2.10", simnet.WWWGallery: "192.0.2.10", simnet.CDN: "192.0.2.20",
		simnet.Bench: "203.0.113.30", simnet.Tricks: "203.0.113.40", simnet.Mirror: "198.51.100.50",
	} {
		w.Resolver.Addrs(host, ip)
		w.RDAP.AddDomain(host, "Example Registrar", "abuse@registrar.invalid")
	}
	w.Trace = trace.Config{CountryDB: countryDB, ASNDB: asnDB, RDAP: w.RDAP.Bootstrap(), CDNs: []trace.CDN{}}
	rules, err := route.Parse(RulesJSON(opts))
	if err != nil {
		return nil, fmt.Errorf("simworld: rules: %w", errors.Join(err, w.Close()))
	}
	w.Rules = rules
	if w.Mail, err = mailcatcher.Start("127.0.0.1:0"); err != nil {
		return nil, errors.Join(err, w.Close())
	}
	return w, nil
}

// RulesJSON is the world's routing configuration, schedule compressed.
func RulesJSON(o Options) []byte {
	if o.RenoticeInterval == 0 {
		o.RenoticeInterval = time.Second
	}
	if o.EscalateAfter == 0 {
		o.EscalateAfter = 2
	}
	b, _ := json.Marshal(map[string]any{
		"home_country": "BE", "time_zone": "UTC", "simulation": true,
		"defaults": map[string]any{"deadline": "1 working day", "include_media": false},
		"police":   map[string]any{"name": "Police (simulated)", "email": Police, "language": "nl"},
		"hotlines": []any{map[string]any{"countries": []string{"NL"}, "name": "Hotline NL (simulated)",
			"email": HotlineNL, "language": "nl"}},
		"provider": map[string]any{"options": map[string]any{"notice_language": "en",
			"renotice_interval": o.RenoticeInterval.String(), "escalate_after": o.EscalateAfter,
			"escalate_to": []string{"upstream", "police"}}},
		"home":      map[string]any{"provider": false},
		"elsewhere": map[string]any{"police": true, "provider": true},
	})
	return b
}

// Close stops the world's servers.
func (w *World) Close() error {
	var err error
	if w.Mail != nil {
		err = w.Mail.Close()
	}
	if w.RDAP != nil {
		w.RDAP.Close()
	}
	return err
}
