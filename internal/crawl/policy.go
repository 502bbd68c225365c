package crawl

import (
	"fmt"
	"net/netip"
	"slices"
)

// Policy decides which addresses the fetcher may connect to. The zero value
// is the safe production setting: only globally routable unicast addresses,
// any port.
type Policy struct {
	// AllowLoopback lets the fetcher connect to 127.0.0.0/8 and ::1. For the
	// demo only; tests should prefer AllowAddrs, which opens exactly the
	// simulated servers and keeps every other loopback port refused.
	AllowLoopback bool
	// AllowAddrs are exact address:port pairs allowed whatever their class.
	AllowAddrs []netip.AddrPort
	// Allow are prefixes allowed whatever their class (an operator's own
	// network, say). Deny wins over Allow.
	Allow []netip.Prefix
	// Deny are prefixes refused on top of the built-in list.
	Deny []netip.Prefix
	// Ports, when not empty, are the only destination ports allowed.
	Ports []uint16
}

// RefusedError says that an address was refused by the Policy. The dialer
// returns it before any packet is sent to the address.
type RefusedError struct {
	Host     string         // the host name as given in the URL
	Addr     netip.AddrPort // the address refused
	Class    string         // why: "loopback", "private", "cloud metadata", ...
	Resolved []netip.Addr   // every address the host resolved to
}

func (e *RefusedError) Error() string {
	if e.Class == "port" {
		return fmt.Sprintf("refused: port %d is not allowed", e.Addr.Port())
	}
	return fmt.Sprintf("refused: address %s is %s", e.Addr.Addr(), e.Class)
}

// Check returns a *RefusedError when the policy refuses ap, nil otherwise.
func (p *Policy) Check(ap netip.AddrPort) error {
	addr := ap.Addr().WithZone("")
	ap = netip.AddrPortFrom(addr, ap.Port())
	if !addr.IsValid() {
		return &RefusedError{Addr: ap, Class: "invalid"}
	}
	for _, pfx := range p.Deny {
		if pfx.Contains(addr) || pfx.Contains(addr.Unmap()) {
			return &RefusedError{Addr: ap, Class: "denied by policy"}
		}
	}
	if slices.Contains(p.AllowAddrs, ap) || slices.Contains(p.AllowAddrs, netip.AddrPortFrom(addr.Unmap(), ap.Port())) {
		return nil
	}
	if len(p.Ports) > 0 && !slices.Contains(p.Ports, ap.Port()) {
		return &RefusedError{Addr: ap, Class: "port"}
	}
	class := Classify(addr)
	if class == "" {
		return nil
	}
	if class == "loopback" && p.AllowLoopback {
		return nil
	}
	for _, pfx := range p.Allow {
		if pfx.Contains(addr) || pfx.Contains(addr.Unmap()) {
			return nil
		}
	}
	return &RefusedError{Addr: ap, Class: class}
}

type special struct {
	prefix netip.Prefix
	class  string
}

func mustPrefixes(class string, ss ...string) []special {
	out := make([]special, len(ss))
	for i, s := range ss {
		out[i] = special{netip.MustParsePrefix(s), class}
	}
	return out
}

// The order matters: the first match names the class, so the metadata
// addresses come before the ranges that contain them.
var specialV4 = slices.Concat(
	mustPrefixes("cloud metadata", "169.254.169.254/32", "169.254.170.2/32", "100.100.100.200/32", "192.0.0.192/32"),
	mustPrefixes("unspecified", "0.0.0.0/8"),
	mustPrefixes("loopback", "127.0.0.0/8"),
	mustPrefixes("private", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"),
	mustPrefixes("carrier-grade NAT", "100.64.0.0/10"),
	mustPrefixes("link-local", "169.254.0.0/16"),
	mustPrefixes("reserved", "192.0.0.0/24", "192.88.99.0/24", "240.0.0.0/4"),
	mustPrefixes("documentation", "192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24"),
	mustPrefixes("benchmarking", "198.18.0.0/15"),
	mustPrefixes("multicast", "224.0.0.0/4"),
)

var specialV6 = slices.Concat(
	mustPrefixes("cloud metadata", "fd00:ec2::254/128"),
	mustPrefixes("unspecified", "::/128"),
	mustPrefixes("loopback", "::1/128"),
	mustPrefixes("link-local", "fe80::/10"),
	mustPrefixes("site-local", "fec0::/10"),
	mustPrefixes("private", "fc00::/7"),
	mustPrefixes("multicast", "ff00::/8"),
	mustPrefixes("documentation", "2001:db8::/32", "3fff::/20"),
	mustPrefixes("discard", "100::/64"),
	mustPrefixes("local NAT64", "64:ff9b:1::/48"),
	mustPrefixes("Teredo", "2001::/32"),
	mustPrefixes("benchmarking", "2001:2::/48"),
	mustPrefixes("ORCHID", "2001:10::/28", "2001:20::/28"),
)

var (
	nat64     = netip.MustParsePrefix("64:ff9b::/96")
	sixToFour = netip.MustParsePrefix("2002::/16")
	v4compat  = netip.MustParsePrefix("::/96")
	v4xlat    = netip.MustParsePrefix("::ffff:0:0:0/96") // IPv4-translated (RFC 2765)
	global6   = netip.MustParsePrefix("2000::/3")
)

// Classify names the class of a non-public address ("loopback", "private",
// "cloud metadata", ...) and returns "" for a globally routable unicast
// address. IPv6 forms that embed an IPv4 address (mapped, compatible,
// translated, NAT64, 6to4) are judged by the embedded address.
func Classify(addr netip.Addr) string {
	addr = addr.WithZone("")
	if !addr.IsValid() {
		return "invalid"
	}
	if addr.Is4In6() {
		return Classify(addr.Unmap())
	}
	if addr.Is4() {
		if addr == netip.AddrFrom4([4]byte{255, 255, 255, 255}) {
			return "broadcast"
		}
		for _, s := range specialV4 {
			if s.prefix.Contains(addr) {
				return s.class
			}
		}
		return ""
	}
	for _, s := range specialV6 {
		if s.prefix.Contains(addr) {
			return s.class
		}
	}
	b := addr.As16()
	switch {
	case nat64.Contains(addr):
		// The last four bytes are the IPv4 address the translator reaches.
		return Classify(netip.AddrFrom4([4]byte(b[12:16])))
	case v4compat.Contains(addr), v4xlat.Contains(addr):
		// Deprecated forms that some stacks still route to the embedded
		// IPv4 address: never legitimate on the public internet.
		if c := Classify(netip.AddrFrom4([4]byte(b[12:16]))); c != "" {
			return c
		}
		return "IPv4-compatible"
	case sixToFour.Contains(addr):
		return Classify(netip.AddrFrom4([4]byte(b[2:6])))
	case !global6.Contains(addr):
		return "not global unicast"
	}
	return ""
}
