package simnet

import (
	"context"
	"net"
	"net/netip"
	"strings"
	"sync"
)

// Resolver is a scriptable DNS for the simulated internet. It satisfies
// crawl.Resolver (LookupNetIP, like *net.Resolver) and never asks a real DNS.
type Resolver struct {
	mu      sync.Mutex
	answers map[string][][]netip.Addr
	lookups map[string]int
}

// NewResolver returns an empty Resolver: every name is unknown.
func NewResolver() *Resolver {
	return &Resolver{answers: map[string][][]netip.Addr{}, lookups: map[string]int{}}
}

func canonical(host string) string { return strings.TrimSuffix(strings.ToLower(host), ".") }

// Set makes host resolve to addrs, always.
func (r *Resolver) Set(host string, addrs ...netip.Addr) {
	r.Script(host, addrs)
}

// Script makes the n-th lookup of host return answers[n]; the last answer
// repeats. It is how tests play DNS rebinding: a harmless answer for the
// first lookup, an internal address afterwards.
func (r *Resolver) Script(host string, answers ...[]netip.Addr) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.answers[canonical(host)] = answers
	r.lookups[canonical(host)] = 0
}

// Lookups returns how many times host has been looked up.
func (r *Resolver) Lookups(host string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.lookups[canonical(host)]
}

// LookupNetIP answers from the script. network is "ip", "ip4" or "ip6".
func (r *Resolver) LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	h := canonical(host)
	r.mu.Lock()
	script, ok := r.answers[h]
	n := r.lookups[h]
	r.lookups[h] = n + 1
	r.mu.Unlock()
	notFound := &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	if !ok || len(script) == 0 {
		return nil, notFound
	}
	ans := script[min(n, len(script)-1)]
	var out []netip.Addr
	for _, a := range ans {
		if network == "ip4" && !a.Is4() || network == "ip6" && !a.Is6() {
			continue
		}
		out = append(out, a)
	}
	if len(out) == 0 {
		return nil, notFound
	}
	return out, nil
}
