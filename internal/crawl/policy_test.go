package crawl

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"
	"testing"

	"github.com/vigil-hotline/vigil/internal/simnet"
)

func TestClassify(t *testing.T) {
	cases := map[string]string{
		"8.8.8.8":                  "",
		"93.184.216.34":            "",
		"2606:4700::1111":          "",
		"127.0.0.1":                "loopback",
		"127.255.255.254":          "loopback",
		"::1":                      "loopback",
		"::ffff:127.0.0.1":         "loopback",
		"::127.0.0.1":              "loopback", // IPv4-compatible
		"::ffff:0:127.0.0.1":       "loopback", // IPv4-translated
		"::8.8.8.8":                "IPv4-compatible",
		"10.1.2.3":                 "private",
		"172.16.0.1":               "private",
		"172.31.255.255":           "private",
		"172.32.0.1":               "",
		"192.168.1.1":              "private",
		"::ffff:192.168.1.1":       "private",
		"fc00::1":                  "private",
		"fd12:3456::1":             "private",
		"169.254.169.254":          "cloud metadata",
		"::ffff:169.254.169.254":   "cloud metadata",
		"fd00:ec2::254":            "cloud metadata",
		"100.100.100.200":          "cloud metadata",
		"169.254.1.1":              "link-local",
		"fe80::1":                  "link-local",
		"fe80::1%eth0":             "link-local",
		"224.0.0.1":                "multicast",
		"ff02::1":                  "multicast",
		"0.0.0.0":                  "unspecified",
		"0.1.2.3":                  "unspecified",
		"::":                       "unspecified",
		"255.255.255.255":          "broadcast",
		"100.64.0.1":               "carrier-grade NAT",
		"100.127.255.255":          "carrier-grade NAT",
		"64:ff9b::10.0.0.1":        "private",
		"64:ff9b::127.0.0.1":       "loopback",
		"64:ff9b::169.254.169.254": "cloud metadata",
		"64:ff9b::8.8.8.8":         "",
		"2002:7f00:1::":            "loopback", // 6to4 of 127.0.0.1
		"2002:0808:0808::":         "",
		"2001:db8::1":              "documentation",
		"192.0.2.1":                "documentation",
		"198.18.0.1":               "benchmarking",
		"240.0.0.1":                "reserved",
		"2001::1":                  "Teredo",
		"4000::1":                  "not global unicast",
	}
	for s, want := range cases {
		if got := Classify(netip.MustParseAddr(s)); got != want {
			t.Errorf("Classify(%s) = %q, want %q", s, got, want)
		}
	}
}

func TestPolicyCheck(t *testing.T) {
	sim := netip.MustParseAddrPort("127.0.0.1:41234")
	p := Policy{AllowAddrs: []netip.AddrPort{sim}}
	check := func(p Policy, s string) string {
		err := p.Check(netip.MustParseAddrPort(s))
		if err == nil {
			return ""
		}
		var re *RefusedError
		if !errors.As(err, &re) {
			t.Fatalf("%s: %T is not *RefusedError", s, err)
		}
		return err.Error()
	}
	for s, want := range map[string]string{
		"127.0.0.1:41234":            "",
		"[::ffff:127.0.0.1]:41234":   "",
		"127.0.0.1:80":               "refused: address 127.0.0.1 is loopback",
		"127.0.0.2:41234":            "refused: address 127.0.0.2 is loopback",
		"[::1]:41234":                "refused: address ::1 is loopback",
		"169.254.169.254:80":         "refused: address 169.254.169.254 is cloud metadata",
		"[fd00:ec2::254]:80":         "refused: address fd00:ec2::254 is cloud metadata",
		"10.0.0.7:41234":             "refused: address 10.0.0.7 is private",
		"[::ffff:10.0.0.7]:443":      "refused: address ::ffff:10.0.0.7 is private",
		"8.8.8.8:443":                "",
		"[2606:4700::1111]:443":      "",
		"[64:ff9b::a00:7]:80":        "refused: address 64:ff9b::a00:7 is private",
		"100.100.100.200:80":         "refused: address 100.100.100.200 is cloud metadata",
		"[::ffff:169.254.169.254]:1": "refused: address ::ffff:169.254.169.254 is cloud metadata",
	} {
		if got := check(p, s); got != want {
			t.Errorf("Check(%s) = %q, want %q", s, got, want)
		}
	}

	lo := Policy{AllowLoopback: true}
	if got := check(lo, "127.0.0.1:80"); got != "" {
		t.Errorf("AllowLoopback refused loopback: %s", got)
	}
	if got := check(lo, "169.254.169.254:80"); got == "" {
		t.Error("AllowLoopback let the metadata address through")
	}
	if got := check(Policy{}, "127.0.0.1:41234"); got == "" {
		t.Error("the zero Policy allowed loopback")
	}
	deny := Policy{Deny: []netip.Prefix{netip.MustParsePrefix("8.8.0.0/16")}, AllowLoopback: true}
	if got := check(deny, "8.8.8.8:443"); !strings.Contains(got, "denied") {
		t.Errorf("Deny: %q", got)
	}
	allow := Policy{Allow: []netip.Prefix{netip.MustParsePrefix("10.9.0.0/16")}}
	if check(allow, "10.9.1.1:80") != "" || check(allow, "10.8.1.1:80") == "" {
		t.Error("Allow prefixes misapplied")
	}
	ports := Policy{Ports: []uint16{80, 443}}
	if check(ports, "8.8.8.8:443") != "" || check(ports, "8.8.8.8:22") != "refused: port 22 is not allowed" {
		t.Error("Ports misapplied")
	}
}

// fakeConnect stands in for the TCP connect: it records the address and
// fails, so no packet is sent anywhere.
type fakeConnect struct{ got []netip.AddrPort }

var errNotConnecting = errors.New("test: not connecting")

func (f *fakeConnect) connect(_ context.Context, _ string, ap netip.AddrPort) (net.Conn, error) {
	f.got = append(f.got, ap)
	return nil, errNotConnecting
}

// TestDialerNoSecondLookup plays DNS rebinding against the dialer alone: the
// name answers a public-looking address first and loopback afterwards. The
// dialer must connect to exactly the address it checked, after one lookup.
func TestDialerNoSecondLookup(t *testing.T) {
	r := simnet.NewResolver()
	public := netip.MustParseAddr("203.0.113.7") // TEST-NET-3, allowed below
	r.Script("rebind.test", []netip.Addr{public}, []netip.Addr{netip.MustParseAddr("127.0.0.1")})
	fc := &fakeConnect{}
	d := &Dialer{
		Resolver: r,
		Policy:   Policy{Allow: []netip.Prefix{netip.MustParsePrefix("203.0.113.0/24")}},
		Connect:  fc.connect,
	}
	ctx := context.Background()
	if _, err := d.DialContext(ctx, "tcp", "rebind.test:80"); !errors.Is(err, errNotConnecting) {
		t.Fatalf("first dial: %v", err)
	}
	if len(fc.got) != 1 || fc.got[0] != netip.AddrPortFrom(public, 80) || r.Lookups("rebind.test") != 1 {
		t.Fatalf("connected to %v after %d lookups; want %v after 1", fc.got, r.Lookups("rebind.test"), public)
	}
	// The next dial looks up again, gets loopback, and is refused
	// before connecting.
	_, err := d.DialContext(ctx, "tcp", "rebind.test:80")
	var re *RefusedError
	if !errors.As(err, &re) || re.Class != "loopback" || re.Host != "rebind.test" {
		t.Fatalf("second dial: %v", err)
	}
	if len(fc.got) != 1 {
		t.Errorf("second dial connected to %v", fc.got[1:])
	}
}

func TestDialerRefusesBeforeConnecting(t *testing.T) {
	r := simnet.NewResolver()
	r.Set("mixed.test", netip.MustParseAddr("203.0.113.7"), netip.MustParseAddr("10.0.0.1"))
	r.Set("meta.test", netip.MustParseAddr("169.254.169.254"))
	r.Set("mapped.test", netip.MustParseAddr("::ffff:127.0.0.1"))
	fc := &fakeConnect{}
	d := &Dialer{Resolver: r, Connect: fc.connect,
		Policy: Policy{Allow: []netip.Prefix{netip.MustParsePrefix("203.0.113.0/24")}}}
	for addr, class := range map[string]string{
		"mixed.test:80":           "private", // one bad answer refuses the name
		"meta.test:80":            "cloud metadata",
		"mapped.test:80":          "loopback",
		"169.254.169.254:80":      "cloud metadata",
		"[fd00:ec2::254]:80":      "cloud metadata",
		"[::ffff:10.1.1.1]:443":   "private",
		"[fe80::1%25lo]:80":       "link-local",
		"100.100.100.200:80":      "cloud metadata",
		"[64:ff9b::7f00:1]:80":    "loopback",
		"0.0.0.0:80":              "unspecified",
		"[::]:80":                 "unspecified",
		"255.255.255.255:80":      "broadcast",
		"100.64.1.1:80":           "carrier-grade NAT",
		"[::ffff:100.64.1.1]:443": "carrier-grade NAT",
	} {
		_, err := d.DialContext(context.Background(), "tcp", addr)
		var re *RefusedError
		if !errors.As(err, &re) || re.Class != class {
			t.Errorf("%s: %v, want class %q", addr, err, class)
		}
	}
	if len(fc.got) != 0 {
		t.Errorf("connected to %v", fc.got)
	}
	if r.Lookups("169.254.169.254") != 0 {
		t.Error("a literal address was looked up")
	}
}
