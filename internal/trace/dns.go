package trace

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
)

// Resolver looks up a host's addresses. *net.Resolver satisfies it, and so
// does the simulated internet's resolver (internal/simnet).
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// CNAMEResolver is a Resolver that can also report canonical names. The
// tracer uses it when the Resolver implements it.
//
// The standard library's LookupCNAME returns the end of the CNAME chain,
// not the next hop, so with *net.Resolver the recorded chain is at most
// [canonical name]: intermediate aliases are invisible without a DNS
// library (github.com/miekg/dns is not a dependency). The tracer follows
// LookupCNAME until the answer stops changing, so a resolver that returns
// one hop per call (a test fake, or a future DNS-library implementation)
// yields the full chain with no change here.
type CNAMEResolver interface {
	Resolver
	LookupCNAME(ctx context.Context, host string) (string, error)
}

// maxCNAMEHops bounds chain following; real chains are rarely over 4 and a
// loop must not hang a trace.
const maxCNAMEHops = 10

// canonicalName lower-cases host and drops the root dot.
func canonicalName(host string) string {
	return strings.TrimSuffix(strings.ToLower(strings.TrimSpace(host)), ".")
}

// cnameChain follows CNAMEs from host. It returns the chain (host
// excluded) and an error only when the first lookup fails for another
// reason than "no such record"; a later failure ends the chain.
func cnameChain(ctx context.Context, r CNAMEResolver, host string) ([]string, error) {
	var chain []string
	seen := map[string]bool{host: true}
	cur := host
	for range maxCNAMEHops {
		next, err := r.LookupCNAME(ctx, cur)
		if err != nil {
			if len(chain) > 0 {
				return chain, nil
			}
			return nil, fmt.Errorf("cname %s: %w", cur, err)
		}
		next = canonicalName(next)
		if next == "" || next == cur {
			return chain, nil
		}
		if seen[next] {
			return chain, fmt.Errorf("cname %s: %w", cur, errCNAMELoop)
		}
		seen[next] = true
		chain = append(chain, next)
		cur = next
	}
	return chain, fmt.Errorf("cname %s: more than %d hops: %w", host, maxCNAMEHops, errCNAMELoop)
}

var errCNAMELoop = errors.New("CNAME loop or chain too long")
