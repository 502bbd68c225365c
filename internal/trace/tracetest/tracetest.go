// Package tracetest builds a self-contained world for tracing: MaxMind-format
// databases written with mmdbwriter and an RDAP server on loopback. Tests
// and the demo use it so that no trace ever leaves the machine. Use
// documentation addresses (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24,
// 2001:db8::/32) and .example/.test names.
package tracetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"

	"github.com/vigil-hotline/vigil/internal/trace"
)

// Network is one simulated network: what the databases and RDAP say
// about its prefix.
type Network struct {
	Prefix  string // "192.0.2.0/24"
	Country string // geolocation, ISO alpha-2
	ASN     uint32
	ASOrg   string
	// RDAP: Name and Owner of the registration, its abuse e-mail, and the
	// registration's own country (often the owner's, not the address's).
	Name        string
	Owner       string
	Abuse       string
	RDAPCountry string
}

// WriteGeoLite2 writes a GeoLite2-Country and a GeoLite2-ASN database
// (GeoLite2 field names) into dir.
func WriteGeoLite2(dir string, nets []Network) (countryPath, asnPath string, err error) {
	countryPath = filepath.Join(dir, "GeoLite2-Country.mmdb")
	asnPath = filepath.Join(dir, "GeoLite2-ASN.mmdb")
	err = writeMMDB(countryPath, "GeoLite2-Country", nets, func(n Network) mmdbtype.Map {
		iso := mmdbtype.Map{"iso_code": mmdbtype.String(n.Country)}
		return mmdbtype.Map{"country": iso, "registered_country": iso}
	})
	if err != nil {
		return "", "", err
	}
	err = writeMMDB(asnPath, "GeoLite2-ASN", nets, func(n Network) mmdbtype.Map {
		return mmdbtype.Map{
			"autonomous_system_number":       mmdbtype.Uint32(n.ASN),
			"autonomous_system_organization": mmdbtype.String(n.ASOrg),
		}
	})
	return countryPath, asnPath, err
}

// WriteIPinfoLite writes one database in IPinfo's lite layout (country and
// ASN in one record, "asn" as "AS123") into dir.
func WriteIPinfoLite(dir string, nets []Network) (string, error) {
	path := filepath.Join(dir, "ipinfo_lite.mmdb")
	return path, writeMMDB(path, "ipinfo_lite.mmdb", nets, func(n Network) mmdbtype.Map {
		return mmdbtype.Map{
			"country_code": mmdbtype.String(n.Country),
			"country":      mmdbtype.String("Country " + n.Country),
			"asn":          mmdbtype.String(fmt.Sprintf("AS%d", n.ASN)),
			"as_name":      mmdbtype.String(n.ASOrg),
			"as_domain":    mmdbtype.String("as.example"),
		}
	})
}

func writeMMDB(path, dbType string, nets []Network, rec func(Network) mmdbtype.Map) error {
	// Documentation prefixes are reserved; the real databases leave them
	// out, so the writer must be told to accept them.
	w, err := mmdbwriter.New(mmdbwriter.Options{DatabaseType: dbType, IncludeReservedNetworks: true,
		BuildEpoch: time.Date(2026, 1, 6, 0, 0, 0, 0, time.UTC).Unix()})
	if err != nil {
		return fmt.Errorf("mmdb %s: %w", dbType, err)
	}
	for _, n := range nets {
		_, ipnet, err := net.ParseCIDR(n.Prefix)
		if err != nil {
			return fmt.Errorf("mmdb %s: %w", dbType, err)
		}
		if err := w.Insert(ipnet, rec(n)); err != nil {
			return fmt.Errorf("mmdb %s: insert %s: %w", dbType, n.Prefix, err)
		}
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("mmdb %s: %w", dbType, err)
	}
	if _, err := w.WriteTo(f); err != nil {
		return fmt.Errorf("mmdb %s: %w", dbType, errors.Join(err, f.Close()))
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("mmdb %s: %w", dbType, err)
	}
	return nil
}

// RDAPServer is an RDAP server on loopback answering ip/, autnum/ and
// domain/ queries from what it was given. Unknown objects are 404.
type RDAPServer struct {
	*httptest.Server

	mu       sync.Mutex
	nets     []Network
	domains  map[string][2]string // name → registrar, registrar abuse
	fail     map[string]int       // path prefix → status
	requests []string
}

// NewRDAPServer starts a server; Close it when done.
func NewRDAPServer() *RDAPServer {
	s := &RDAPServer{domains: map[string][2]string{}, fail: map[string]int{}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// AddNetwork makes the server answer for n's prefix and ASN.
func (s *RDAPServer) AddNetwork(n Network) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nets = append(s.nets, n)
}

// AddDomain makes the server answer for a registered domain.
func (s *RDAPServer) AddDomain(name, registrar, registrarAbuse string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.domains[strings.ToLower(name)] = [2]string{registrar, registrarAbuse}
}

// Fail makes requests whose path starts with prefix ("/ip/203.0.113.")
// answer status; status 0 ends that.
func (s *RDAPServer) Fail(prefix string, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if status == 0 {
		delete(s.fail, prefix)
		return
	}
	s.fail[prefix] = status
}

// Requests returns the paths requested so far.
func (s *RDAPServer) Requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.requests...)
}

// Bootstrap sends every query to this server.
func (s *RDAPServer) Bootstrap() trace.BootstrapConfig {
	u := s.URL + "/"
	return trace.BootstrapConfig{IP: map[string]string{"*": u}, Domain: map[string]string{"*": u},
		ASN: map[string]string{"*": u}}
}

func (s *RDAPServer) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, r.URL.Path)
	for p, status := range s.fail {
		if strings.HasPrefix(r.URL.Path, p) {
			http.Error(w, "simulated failure", status)
			return
		}
	}
	kind, q, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	var body any
	switch kind {
	case "ip":
		if ip, err := netip.ParseAddr(q); err == nil {
			for _, n := range s.nets {
				if p, err := netip.ParsePrefix(n.Prefix); err == nil && p.Contains(ip) {
					body = ipNetwork(p, n)
					break
				}
			}
		}
	case "autnum":
		for _, n := range s.nets {
			if fmt.Sprint(n.ASN) == q {
				body = autnum(n)
				break
			}
		}
	case "domain":
		if reg, ok := s.domains[strings.ToLower(q)]; ok {
			body = domain(q, reg[0], reg[1])
		}
	}
	if body == nil {
		w.Header().Set("Content-Type", "application/rdap+json")
		w.WriteHeader(http.StatusNotFound)
		_ = json.NewEncoder(w).Encode(map[string]any{"errorCode": 404, "title": "not found"})
		return
	}
	w.Header().Set("Content-Type", "application/rdap+json")
	_ = json.NewEncoder(w).Encode(body)
}

func vcard(props ...[]any) []any {
	all := [][]any{{"version", map[string]any{}, "text", "4.0"}}
	return []any{"vcard", append(all, props...)}
}

func fn(name string) []any    { return []any{"fn", map[string]any{}, "text", name} }
func email(addr string) []any { return []any{"email", map[string]any{}, "text", addr} }
func slug(s string) string {
	return strings.ToUpper(strings.NewReplacer(" ", "-", ".", "-").Replace(s))
}
func last(p netip.Prefix) string { // the prefix's last address
	a := p.Addr().As16()
	bits := p.Bits()
	if p.Addr().Is4() {
		bits += 96
	}
	for i := bits; i < 128; i++ {
		a[i/8] |= 1 << (7 - i%8)
	}
	return netip.AddrFrom16(a).Unmap().String()
}

// ipNetwork nests the abuse entity under the registrant, as RIPE does, so
// that the client's nested search is exercised.
func ipNetwork(p netip.Prefix, n Network) map[string]any {
	ver := "v4"
	if p.Addr().Is6() {
		ver = "v6"
	}
	return map[string]any{
		"rdapConformance": []string{"rdap_level_0"},
		"objectClassName": "ip network",
		"handle":          "NET-" + slug(p.String()),
		"startAddress":    p.Masked().Addr().String(),
		"endAddress":      last(p),
		"ipVersion":       ver,
		"name":            n.Name,
		"country":         n.RDAPCountry,
		"entities":        []any{owner(n)},
	}
}

func owner(n Network) map[string]any {
	e := map[string]any{"objectClassName": "entity", "handle": "ORG-" + slug(n.Owner),
		"roles": []string{"registrant"}, "vcardArray": vcard(fn(n.Owner))}
	if n.Abuse != "" {
		e["entities"] = []any{map[string]any{"objectClassName": "entity", "handle": "ABUSE-" + slug(n.Owner),
			"roles": []string{"abuse"}, "vcardArray": vcard(fn("Abuse desk "+n.Owner), email(n.Abuse))}}
	}
	return e
}

// autnum puts the abuse entity at the top level, as ARIN does.
func autnum(n Network) map[string]any {
	return map[string]any{
		"rdapConformance": []string{"rdap_level_0"},
		"objectClassName": "autnum",
		"handle":          fmt.Sprintf("AS%d", n.ASN),
		"startAutnum":     n.ASN,
		"endAutnum":       n.ASN,
		"name":            n.ASOrg,
		"country":         n.RDAPCountry,
		"entities": []any{
			map[string]any{"objectClassName": "entity", "handle": "ORG-AS", "roles": []string{"registrant"},
				"vcardArray": vcard(fn(n.ASOrg))},
			map[string]any{"objectClassName": "entity", "handle": "ABUSE-AS", "roles": []string{"abuse"},
				"vcardArray": vcard(fn("Network abuse"), email(fmt.Sprintf("abuse@as%d.example", n.ASN)))},
		},
	}
}

func domain(name, registrar, abuse string) map[string]any {
	reg := map[string]any{"objectClassName": "entity", "handle": "REG-" + slug(registrar),
		"roles": []string{"registrar"}, "vcardArray": vcard(fn(registrar)),
		"publicIds": []any{map[string]any{"type": "IANA Registrar ID", "identifier": "9999"}}}
	if abuse != "" {
		reg["entities"] = []any{map[string]any{"objectClassName": "entity", "roles": []string{"abuse"},
			"vcardArray": vcard(fn("Registrar abuse"), email(abuse))}}
	}
	return map[string]any{
		"rdapConformance": []string{"rdap_level_0"},
		"objectClassName": "domain",
		"ldhName":         name,
		"entities":        []any{reg},
	}
}

// Resolver is a scripted DNS: one CNAME hop per LookupCNAME call, like a
// real DNS answer, so the tracer's chain following is exercised.
type Resolver struct {
	mu     sync.Mutex
	cnames map[string]string
	addrs  map[string][]netip.Addr
}

// NewResolver returns a Resolver that knows no names.
func NewResolver() *Resolver {
	return &Resolver{cnames: map[string]string{}, addrs: map[string][]netip.Addr{}}
}

// CNAME makes alias point at target.
func (r *Resolver) CNAME(alias, target string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.cnames[strings.ToLower(alias)] = strings.ToLower(target)
}

// Addrs sets the addresses of name (the end of a chain).
func (r *Resolver) Addrs(name string, addrs ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, a := range addrs {
		r.addrs[strings.ToLower(name)] = append(r.addrs[strings.ToLower(name)], netip.MustParseAddr(a))
	}
}

func (r *Resolver) notFound(host string) error {
	return &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

// LookupCNAME returns the next hop, or host itself when it has addresses
// but no CNAME (what net.Resolver does).
func (r *Resolver) LookupCNAME(_ context.Context, host string) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	h := strings.TrimSuffix(strings.ToLower(host), ".")
	if t, ok := r.cnames[h]; ok {
		return t + ".", nil
	}
	if _, ok := r.addrs[h]; ok {
		return h + ".", nil
	}
	return "", r.notFound(host)
}

// LookupNetIP follows the CNAME chain and returns the addresses at its end.
func (r *Resolver) LookupNetIP(_ context.Context, network, host string) ([]netip.Addr, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	h := strings.TrimSuffix(strings.ToLower(host), ".")
	for range 16 {
		t, ok := r.cnames[h]
		if !ok {
			break
		}
		h = t
	}
	var out []netip.Addr
	for _, a := range r.addrs[h] {
		if network == "ip" || (network == "ip4") == a.Is4() {
			out = append(out, a)
		}
	}
	if len(out) == 0 {
		return nil, r.notFound(host)
	}
	return out, nil
}
