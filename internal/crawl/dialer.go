package crawl

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"syscall"
	"time"
)

// Resolver looks host names up. *net.Resolver satisfies it; tests and the
// demo inject simnet's.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// Dialer resolves a host itself, checks every address it resolved to against
// the Policy and connects to one of the checked addresses: there is no second
// lookup for a DNS rebinding answer to slip into. Every hop of a redirect
// chain dials, so every hop is checked.
type Dialer struct {
	Policy   Policy
	Resolver Resolver      // nil: net.DefaultResolver
	Timeout  time.Duration // per connection attempt; 0: 10s
	// Connect, when set, replaces the TCP connect to a checked address.
	// Tests use it to prove which address would be reached without
	// sending a packet anywhere.
	Connect func(ctx context.Context, network string, addr netip.AddrPort) (net.Conn, error)
}

// Conn is a connection made by Dialer; it remembers what the host resolved
// to so that evidence can be recorded even when the connection is reused.
type Conn struct {
	net.Conn
	Host     string
	Resolved []netip.Addr
	Addr     netip.AddrPort
}

// DialContext has the signature of http.Transport.DialContext.
func (d *Dialer) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	host, portStr, err := net.SplitHostPort(address)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", address, err)
	}
	port, err := strconv.ParseUint(portStr, 10, 16)
	if err != nil {
		return nil, fmt.Errorf("dial %s: bad port: %w", address, err)
	}
	addrs, err := d.resolve(ctx, network, host)
	if err != nil {
		return nil, err
	}
	// One refused address refuses the host: a name that mixes public and
	// internal answers is hostile, and trying the others would let the
	// attacker pick by timing.
	for _, a := range addrs {
		ap := netip.AddrPortFrom(a, uint16(port))
		if err := d.Policy.Check(ap); err != nil {
			var re *RefusedError
			if errors.As(err, &re) {
				re.Host, re.Resolved = host, addrs
			}
			return nil, err
		}
	}
	var firstErr error
	for _, a := range addrs {
		ap := netip.AddrPortFrom(a, uint16(port))
		c, err := d.connect(ctx, network, ap)
		if err == nil {
			return &Conn{Conn: c, Host: host, Resolved: addrs, Addr: ap}, nil
		}
		if firstErr == nil {
			firstErr = err
		}
		if ctx.Err() != nil {
			break
		}
	}
	return nil, firstErr
}

func (d *Dialer) resolve(ctx context.Context, network, host string) ([]netip.Addr, error) {
	if a, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{a.WithZone("").Unmap()}, nil
	}
	r := d.Resolver
	if r == nil {
		r = net.DefaultResolver
	}
	ipNet := "ip"
	switch network {
	case "tcp4":
		ipNet = "ip4"
	case "tcp6":
		ipNet = "ip6"
	}
	addrs, err := r.LookupNetIP(ctx, ipNet, host)
	if err != nil {
		return nil, &ResolveError{Host: host, Err: err}
	}
	if len(addrs) == 0 {
		return nil, &ResolveError{Host: host, Err: errors.New("no addresses")}
	}
	out := make([]netip.Addr, len(addrs))
	for i, a := range addrs {
		out[i] = a.WithZone("").Unmap()
	}
	return out, nil
}

// ResolveError says a host name could not be resolved.
type ResolveError struct {
	Host string
	Err  error
}

func (e *ResolveError) Error() string { return fmt.Sprintf("dns: %s: %v", e.Host, e.Err) }
func (e *ResolveError) Unwrap() error { return e.Err }

func (d *Dialer) connect(ctx context.Context, network string, ap netip.AddrPort) (net.Conn, error) {
	if d.Connect != nil {
		return d.Connect(ctx, network, ap)
	}
	timeout := d.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	nd := net.Dialer{
		Timeout: timeout,
		// Defence in depth: the socket's actual destination is checked
		// once more just before connect(2).
		Control: func(_, address string, _ syscall.RawConn) error {
			got, err := netip.ParseAddrPort(address)
			if err != nil {
				return fmt.Errorf("dial: unexpected address %q: %w", address, err)
			}
			if got.Addr().Unmap() != ap.Addr() || got.Port() != ap.Port() {
				return fmt.Errorf("dial: connecting to %s, checked %s", got, ap)
			}
			return d.Policy.Check(got)
		},
	}
	c, err := nd.DialContext(ctx, network, ap.String())
	if err != nil {
		return nil, fmt.Errorf("connect %s: %w", ap, err)
	}
	return c, nil
}
