package trace

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"sort"
	"strconv"
	"strings"
)

// BootstrapConfig says which RDAP server answers for what. Values are base
// URLs ending before "ip/…", "domain/…" or "autnum/…". The key "*" is a
// fallback. Entries are configured rather than fetched from IANA so that
// tracing never depends on (or leaks to) a bootstrap service; the IANA
// files (RFC 9224: ipv4.json, ipv6.json, dns.json, asn.json) can be
// downloaded by an operator and listed in IANAFiles.
type BootstrapConfig struct {
	IP        map[string]string `json:"ip,omitempty"`     // prefix ("192.0.2.0/24", "2001:db8::/32") → URL
	Domain    map[string]string `json:"domain,omitempty"` // TLD or suffix ("be", "co.uk") → URL
	ASN       map[string]string `json:"asn,omitempty"`    // "13335" or range "64496-64511" → URL
	IANAFiles []string          `json:"iana_files,omitempty"`
}

// Bootstrap finds the RDAP server for a query: longest prefix for
// addresses, longest suffix for domains, first matching range for ASNs.
type Bootstrap struct {
	ips      []ipEntry // longest prefix first
	domains  map[string]string
	asns     []asnEntry
	fallback map[string]string // kind → URL
}

type ipEntry struct {
	prefix netip.Prefix
	url    string
}

type asnEntry struct {
	lo, hi uint32
	url    string
}

// NewBootstrap checks and indexes cfg.
func NewBootstrap(cfg BootstrapConfig) (*Bootstrap, error) {
	b := &Bootstrap{domains: map[string]string{}, fallback: map[string]string{}}
	for k, u := range cfg.IP {
		if err := b.addIP(k, u); err != nil {
			return nil, err
		}
	}
	for k, u := range cfg.Domain {
		b.addDomain(k, u)
	}
	for k, u := range cfg.ASN {
		if err := b.addASN(k, u); err != nil {
			return nil, err
		}
	}
	for _, f := range cfg.IANAFiles {
		if err := b.loadIANA(f); err != nil {
			return nil, err
		}
	}
	sort.SliceStable(b.ips, func(i, j int) bool { return b.ips[i].prefix.Bits() > b.ips[j].prefix.Bits() })
	return b, nil
}

func (b *Bootstrap) addIP(key, u string) error {
	if key == "*" {
		b.fallback["ip"] = u
		return nil
	}
	p, err := netip.ParsePrefix(strings.TrimSpace(key))
	if err != nil {
		return fmt.Errorf("rdap bootstrap ip %q: %w", key, err)
	}
	b.ips = append(b.ips, ipEntry{prefix: p.Masked(), url: u})
	return nil
}

func (b *Bootstrap) addDomain(key, u string) {
	if key == "*" {
		b.fallback["domain"] = u
		return
	}
	b.domains[strings.Trim(strings.ToLower(strings.TrimSpace(key)), ".")] = u
}

func (b *Bootstrap) addASN(key, u string) error {
	if key == "*" {
		b.fallback["asn"] = u
		return nil
	}
	lo, hi, isRange := strings.Cut(strings.TrimPrefix(strings.ToUpper(strings.TrimSpace(key)), "AS"), "-")
	if !isRange {
		hi = lo
	}
	l, err1 := strconv.ParseUint(lo, 10, 32)
	h, err2 := strconv.ParseUint(hi, 10, 32)
	if err1 != nil || err2 != nil || h < l {
		return fmt.Errorf("rdap bootstrap asn %q: want a number or a range lo-hi", key)
	}
	b.asns = append(b.asns, asnEntry{lo: uint32(l), hi: uint32(h), url: u})
	return nil
}

// loadIANA reads an RFC 9224 bootstrap file. Its kind is told by its
// entries: prefixes have a '/', ASN ranges are digits, the rest are TLDs.
func (b *Bootstrap) loadIANA(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("rdap bootstrap file: %w", err)
	}
	var f struct {
		Services [][][]string `json:"services"`
	}
	if err := json.Unmarshal(data, &f); err != nil {
		return fmt.Errorf("rdap bootstrap file %s: %w", path, err)
	}
	for i, svc := range f.Services {
		if len(svc) != 2 || len(svc[1]) == 0 {
			return fmt.Errorf("rdap bootstrap file %s: service %d: want [[entries], [urls]]", path, i)
		}
		u := svc[1][0]
		for _, cand := range svc[1] {
			if strings.HasPrefix(cand, "https://") {
				u = cand // RFC 9224 lists http and https; prefer https
				break
			}
		}
		for _, e := range svc[0] {
			switch {
			case strings.Contains(e, "/"):
				err = b.addIP(e, u)
			case e != "" && strings.Trim(e, "0123456789-") == "":
				err = b.addASN(e, u)
			default:
				b.addDomain(e, u)
			}
			if err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
		}
	}
	return nil
}

// ForIP returns the server for ip.
func (b *Bootstrap) ForIP(ip netip.Addr) (string, bool) {
	ip = ip.Unmap()
	for _, e := range b.ips {
		if e.prefix.Contains(ip) {
			return e.url, true
		}
	}
	u, ok := b.fallback["ip"]
	return u, ok
}

// ForDomain returns the server for name, by its longest configured suffix.
func (b *Bootstrap) ForDomain(name string) (string, bool) {
	name = canonicalName(name)
	for s := name; s != ""; {
		if u, ok := b.domains[s]; ok {
			return u, true
		}
		_, rest, found := strings.Cut(s, ".")
		if !found {
			break
		}
		s = rest
	}
	u, ok := b.fallback["domain"]
	return u, ok
}

// ForASN returns the server for asn.
func (b *Bootstrap) ForASN(asn uint32) (string, bool) {
	for _, e := range b.asns {
		if asn >= e.lo && asn <= e.hi {
			return e.url, true
		}
	}
	u, ok := b.fallback["asn"]
	return u, ok
}
