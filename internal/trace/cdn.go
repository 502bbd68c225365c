package trace

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// CDN describes a content delivery network. An address is behind it when
// its ASN is listed, it lies in a listed prefix, or the host's CNAME chain
// ends in a listed suffix. Behind a CDN the address is the CDN's edge, not
// the host: its geolocation says where the visitor is served from, so the
// trace takes the CDN's country (Country, else the RDAP network country)
// as the hosting country and the CDN's abuse contact as the provider's.
type CDN struct {
	Name          string   `json:"name"`
	ASNs          []uint32 `json:"asns,omitempty"`
	Prefixes      []string `json:"prefixes,omitempty"`
	CNAMESuffixes []string `json:"cname_suffixes,omitempty"`
	Country       string   `json:"country,omitempty"`
	// AbuseEmail overrides the abuse contact RDAP gives for the CDN's
	// addresses, for CDNs with a dedicated CSAM reporting channel.
	AbuseEmail string `json:"abuse_email,omitempty"`
}

// DefaultCDNs are the networks recognised when none are configured.
//
// Choices: Cloudflare (AS13335), Akamai (AS20940, AS16625) and Fastly
// (AS54113) are recognised by ASN because those ASNs carry little but CDN
// traffic. Amazon CloudFront is recognised only by CNAME (*.cloudfront.net)
// or by a configured prefix list (AWS publishes ip-ranges.json with the
// CLOUDFRONT service), because its AS16509 is all of AWS and most of it is
// ordinary hosting whose customer is the host. Google's AS15169 is not a
// CDN here: it serves Google's own hosting (Blogger, Sites, Drive) where
// Google is the host, and Google Cloud CDN shares addresses with Google
// Cloud load balancers. No abuse addresses are built in; RDAP supplies them.
func DefaultCDNs() []CDN {
	return []CDN{
		{Name: "Cloudflare", ASNs: []uint32{13335}, CNAMESuffixes: []string{"cdn.cloudflare.net"}, Country: "US"},
		{Name: "Akamai", ASNs: []uint32{20940, 16625}, CNAMESuffixes: []string{"akamaiedge.net", "edgekey.net", "edgesuite.net", "akamai.net"}, Country: "US"},
		{Name: "Fastly", ASNs: []uint32{54113}, CNAMESuffixes: []string{"fastly.net", "fastlylb.net"}, Country: "US"},
		{Name: "Amazon CloudFront", CNAMESuffixes: []string{"cloudfront.net"}, Country: "US"},
	}
}

// cdnSet is a checked list of CDNs.
type cdnSet struct {
	cdns     []CDN
	prefixes [][]netip.Prefix // per CDN
}

func newCDNSet(cdns []CDN) (*cdnSet, error) {
	s := &cdnSet{cdns: cdns, prefixes: make([][]netip.Prefix, len(cdns))}
	for i, c := range cdns {
		if strings.TrimSpace(c.Name) == "" {
			return nil, fmt.Errorf("cdn %d: name is required", i+1)
		}
		for _, p := range c.Prefixes {
			pfx, err := netip.ParsePrefix(strings.TrimSpace(p))
			if err != nil {
				return nil, fmt.Errorf("cdn %q: prefix: %w", c.Name, err)
			}
			s.prefixes[i] = append(s.prefixes[i], pfx.Masked())
		}
	}
	return s, nil
}

// match returns the CDN an address belongs to and why.
func (s *cdnSet) match(ip netip.Addr, asn uint32, cnames []string) (*CDN, string) {
	if s == nil {
		return nil, ""
	}
	ip = ip.Unmap()
	for i := range s.cdns {
		c := &s.cdns[i]
		if asn != 0 && slices.Contains(c.ASNs, asn) {
			return c, fmt.Sprintf("AS%d", asn)
		}
		for _, p := range s.prefixes[i] {
			if p.Contains(ip) {
				return c, "prefix " + p.String()
			}
		}
		for _, name := range cnames {
			for _, suf := range c.CNAMESuffixes {
				suf = canonicalName(suf)
				if name == suf || strings.HasSuffix(name, "."+suf) {
					return c, "CNAME " + name
				}
			}
		}
	}
	return nil, ""
}
