// Package trace finds where a URL's content lives and who can take it down:
// the host's addresses and CNAME chain, each address's country and network
// (MaxMind-format databases), its owner and abuse contact (RDAP), the
// domain's registrar (RDAP), and whether a CDN fronts it. A Trace is kept
// as evidence, so it records each lookup's source, time and error; a failed
// lookup leaves a gap, never a failed trace.
package trace

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"time"

	"golang.org/x/net/publicsuffix"
)

// Lookup kinds, as recorded in Trace.Lookups.
const (
	LookupCNAME      = "dns-cname"
	LookupAddr       = "dns-addr"
	LookupGeo        = "geo"
	LookupRDAPIP     = "rdap-ip"
	LookupRDAPDomain = "rdap-domain"
	LookupRDAPASN    = "rdap-autnum"
)

// Trace is the evidence of one trace. Durations are nanoseconds in JSON.
type Trace struct {
	URL       string        `json:"url,omitempty"`
	Host      string        `json:"host"`
	Started   time.Time     `json:"started"`
	Duration  time.Duration `json:"duration"`
	CNAMEs    []string      `json:"cnames,omitempty"` // the chain from Host, Host excluded
	Addresses []Address     `json:"addresses,omitempty"`
	Domain    *Domain       `json:"domain,omitempty"`

	// The summary routing uses, taken from the first address (IPv4 first).
	Country     string   `json:"country,omitempty"` // hosting country, ISO alpha-2
	CountryFrom string   `json:"country_from,omitempty"`
	Countries   []string `json:"countries,omitempty"` // every address's country, when they differ
	ASN         uint32   `json:"asn,omitempty"`
	ASOrg       string   `json:"as_org,omitempty"`
	CDN         string   `json:"cdn,omitempty"` // the CDN's name when the content is behind one
	Abuse       *Contact `json:"abuse,omitempty"`
	// Upstream is the abuse contact of the address's autonomous system,
	// when it differs from Abuse: where escalations go.
	Upstream *Contact `json:"upstream,omitempty"`

	Lookups []Lookup `json:"lookups"`
}

// Address is one address of the host.
type Address struct {
	IP      netip.Addr    `json:"ip"`
	Country string        `json:"country,omitempty"`
	ASN     uint32        `json:"asn,omitempty"`
	ASOrg   string        `json:"as_org,omitempty"`
	Network *Registration `json:"network,omitempty"`
	CDN     string        `json:"cdn,omitempty"`
	CDNWhy  string        `json:"cdn_why,omitempty"`
}

// Lookup records one question asked during a trace.
type Lookup struct {
	Kind     string        `json:"kind"`
	Query    string        `json:"query"`
	Source   string        `json:"source,omitempty"`
	Cached   bool          `json:"cached,omitempty"`
	Started  time.Time     `json:"started"`
	Duration time.Duration `json:"duration"`
	Error    string        `json:"error,omitempty"`
}

// Failed returns the lookups that failed.
func (t *Trace) Failed() []Lookup {
	var out []Lookup
	for _, l := range t.Lookups {
		if l.Error != "" {
			out = append(out, l)
		}
	}
	return out
}

// Tracer runs traces. It is safe for concurrent use.
type Tracer struct {
	resolver Resolver
	geo      Geolocator
	rdap     RDAP
	cdns     *cdnSet
	now      func() time.Time
	log      *slog.Logger
	maxRDAP  int
	closer   func() error
}

// Deps are what New takes from the caller rather than from the config.
// Every field is optional.
type Deps struct {
	Resolver Resolver         // nil: net.DefaultResolver
	HTTP     *http.Client     // for RDAP; nil: http.DefaultClient
	Cache    Cache            // RDAP cache; nil: a MemoryCache
	Now      func() time.Time // nil: time.Now
	Logger   *slog.Logger     // nil: discard
	Geo      Geolocator       // overrides the config's databases
	RDAP     RDAP             // overrides the config's RDAP client
}

// New builds a Tracer from cfg. Close it to release the databases.
func New(cfg Config, d Deps) (*Tracer, error) {
	t := &Tracer{resolver: d.Resolver, geo: d.Geo, rdap: d.RDAP, now: d.Now, log: d.Logger,
		maxRDAP: cmp.Or(cfg.MaxRDAPAddresses, 4), closer: func() error { return nil }}
	if t.resolver == nil {
		t.resolver = net.DefaultResolver
	}
	if t.now == nil {
		t.now = time.Now
	}
	if t.log == nil {
		t.log = slog.New(slog.DiscardHandler)
	}
	cdns := cfg.CDNs
	if cdns == nil {
		cdns = DefaultCDNs()
	}
	var err error
	if t.cdns, err = newCDNSet(cdns); err != nil {
		return nil, fmt.Errorf("trace config: %w", err)
	}
	if t.rdap == nil {
		b, err := NewBootstrap(cfg.RDAP)
		if err != nil {
			return nil, fmt.Errorf("trace config: %w", err)
		}
		ttl, err := cfg.cacheTTL()
		if err != nil {
			return nil, err
		}
		cache := d.Cache
		if cache == nil {
			cache = NewMemoryCache(0, t.now)
		}
		t.rdap = &RDAPClient{Bootstrap: b, HTTP: d.HTTP, Cache: cache, TTL: ttl, Now: t.now,
			Logger: t.log, UserAgent: "Vigil trace"}
	}
	if t.geo == nil && (cfg.CountryDB != "" || cfg.ASNDB != "") {
		m, err := OpenMMDB(cfg.CountryDB, cfg.ASNDB)
		if err != nil {
			return nil, fmt.Errorf("trace config: %w", err)
		}
		t.geo, t.closer = m, m.Close
	}
	return t, nil
}

// Close releases the databases New opened.
func (t *Tracer) Close() error { return t.closer() }

// ErrNoHost means the target names no host.
var ErrNoHost = errors.New("trace: no host in target")

// Trace traces target, a URL ("https://host/path") or a bare host name or
// address. Its only error is an unusable target; lookup failures are in
// the Trace.
func (t *Tracer) Trace(ctx context.Context, target string) (*Trace, error) {
	host, rawURL := hostOf(target)
	if host == "" {
		return nil, fmt.Errorf("%w: %q", ErrNoHost, target)
	}
	tr := &Trace{URL: rawURL, Host: host, Started: t.now().UTC()}
	start := time.Now() // monotonic, unlike an injected clock
	defer func() { tr.Duration = time.Since(start) }()

	if ip, err := netip.ParseAddr(host); err == nil {
		tr.Addresses = []Address{{IP: ip.Unmap()}}
	} else {
		t.resolve(ctx, tr)
	}
	cnames := tr.CNAMEs
	for i := range tr.Addresses {
		a := &tr.Addresses[i]
		if t.geo != nil {
			t.record(tr, LookupGeo, a.IP.String(), func() (string, bool, error) {
				loc, err := t.geo.Locate(a.IP)
				a.Country, a.ASN, a.ASOrg = loc.Country, loc.ASN, loc.ASOrg
				return loc.Source, false, err
			})
		}
		if c, why := t.cdns.match(a.IP, a.ASN, cnames); c != nil {
			a.CDN, a.CDNWhy = c.Name, why
		}
		if i < t.maxRDAP {
			t.record(tr, LookupRDAPIP, a.IP.String(), func() (string, bool, error) {
				reg, meta, err := t.rdap.IP(ctx, a.IP)
				a.Network = reg
				return meta.Source, meta.Cached, err
			})
		}
	}
	if _, err := netip.ParseAddr(host); err != nil {
		t.domain(ctx, tr)
	}
	t.summarise(ctx, tr)
	t.log.DebugContext(ctx, "trace done", "host", host, "addresses", len(tr.Addresses),
		"country", tr.Country, "cdn", tr.CDN, "failed", len(tr.Failed()))
	return tr, nil
}

// hostOf extracts the host from a URL or returns a bare host.
func hostOf(target string) (host, rawURL string) {
	target = strings.TrimSpace(target)
	if strings.Contains(target, "://") {
		u, err := url.Parse(target)
		if err != nil {
			return "", target
		}
		return canonicalName(u.Hostname()), target
	}
	if h, _, err := net.SplitHostPort(target); err == nil {
		target = h
	}
	return canonicalName(strings.Trim(target, "[]")), ""
}

// resolve fills the CNAME chain and the addresses, IPv4 first so that the
// summary is stable whatever order the resolver answers in.
func (t *Tracer) resolve(ctx context.Context, tr *Trace) {
	if cr, ok := t.resolver.(CNAMEResolver); ok {
		t.record(tr, LookupCNAME, tr.Host, func() (string, bool, error) {
			chain, err := cnameChain(ctx, cr, tr.Host)
			tr.CNAMEs = chain
			if isNotFound(err) {
				err = nil // no CNAME is the common case, not a failure
			}
			return "resolver", false, err
		})
	}
	t.record(tr, LookupAddr, tr.Host, func() (string, bool, error) {
		addrs, err := t.resolver.LookupNetIP(ctx, "ip", tr.Host)
		seen := map[netip.Addr]bool{}
		for _, a := range addrs {
			a = a.Unmap()
			if !seen[a] {
				seen[a] = true
				tr.Addresses = append(tr.Addresses, Address{IP: a})
			}
		}
		slices.SortStableFunc(tr.Addresses, func(x, y Address) int {
			return cmp.Compare(x.IP.BitLen(), y.IP.BitLen())
		})
		return "resolver", false, err
	})
}

func isNotFound(err error) bool {
	var de *net.DNSError
	return errors.As(err, &de) && de.IsNotFound
}

// domain looks up the registrar of the host's registered domain.
func (t *Tracer) domain(ctx context.Context, tr *Trace) {
	name, err := publicsuffix.EffectiveTLDPlusOne(tr.Host)
	if err != nil {
		t.record(tr, LookupRDAPDomain, tr.Host, func() (string, bool, error) {
			return "", false, fmt.Errorf("registered domain of %s: %w", tr.Host, err)
		})
		return
	}
	t.record(tr, LookupRDAPDomain, name, func() (string, bool, error) {
		d, meta, err := t.rdap.Domain(ctx, name)
		tr.Domain = d
		return meta.Source, meta.Cached, err
	})
}

// summarise picks the hosting country, network and contacts from the
// first address, and looks up the upstream AS's abuse contact.
func (t *Tracer) summarise(ctx context.Context, tr *Trace) {
	if len(tr.Addresses) == 0 {
		return
	}
	var countries []string
	for _, a := range tr.Addresses {
		if c := addrCountry(a); c != "" && !slices.Contains(countries, c) {
			countries = append(countries, c)
		}
	}
	if len(countries) > 1 {
		tr.Countries = countries
	}
	a := tr.Addresses[0]
	tr.ASN, tr.ASOrg = a.ASN, a.ASOrg
	if a.Network != nil && a.Network.Abuse != nil {
		ab := *a.Network.Abuse
		tr.Abuse = &ab
	}
	switch {
	case a.CDN != "":
		tr.CDN = a.CDN
		c, _ := t.cdns.match(a.IP, a.ASN, tr.CNAMEs)
		switch {
		case c.Country != "":
			tr.Country, tr.CountryFrom = strings.ToUpper(c.Country), "cdn config ("+c.Name+")"
		case a.Network != nil && a.Network.Country != "":
			tr.Country, tr.CountryFrom = a.Network.Country, "rdap network of cdn"
		default:
			tr.Country, tr.CountryFrom = a.Country, "geo (cdn edge)"
		}
		if c.AbuseEmail != "" {
			tr.Abuse = &Contact{Name: c.Name, Email: c.AbuseEmail, From: "cdn config"}
		}
	case a.Country != "":
		tr.Country, tr.CountryFrom = a.Country, "geo"
	case a.Network != nil && a.Network.Country != "":
		tr.Country, tr.CountryFrom = a.Network.Country, "rdap network"
	}
	if a.ASN != 0 {
		t.record(tr, LookupRDAPASN, fmt.Sprintf("AS%d", a.ASN), func() (string, bool, error) {
			reg, meta, err := t.rdap.Autnum(ctx, a.ASN)
			if reg != nil && reg.Abuse != nil && reg.Abuse.Email != "" &&
				(tr.Abuse == nil || !strings.EqualFold(reg.Abuse.Email, tr.Abuse.Email)) {
				up := *reg.Abuse
				up.From = "abuse entity of AS" + fmt.Sprint(a.ASN)
				tr.Upstream = &up
			}
			return meta.Source, meta.Cached, err
		})
	}
}

func addrCountry(a Address) string {
	if a.Country != "" {
		return a.Country
	}
	if a.Network != nil {
		return a.Network.Country
	}
	return ""
}

// record runs one lookup and appends its record.
func (t *Tracer) record(tr *Trace, kind, query string, f func() (source string, cached bool, err error)) {
	l := Lookup{Kind: kind, Query: query, Started: t.now().UTC()}
	start := time.Now()
	src, cached, err := f()
	l.Duration = time.Since(start)
	l.Source, l.Cached = src, cached
	if err != nil {
		l.Error = err.Error()
		t.log.Info("trace lookup failed", "kind", kind, "query", query, "err", err)
	}
	tr.Lookups = append(tr.Lookups, l)
}
