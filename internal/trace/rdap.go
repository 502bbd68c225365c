package trace

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/openrdap/rdap"
)

// RDAP answers registration questions. *RDAPClient implements it; tests
// and the lead may substitute their own.
type RDAP interface {
	IP(ctx context.Context, ip netip.Addr) (*Registration, Meta, error)
	Domain(ctx context.Context, name string) (*Domain, Meta, error)
	Autnum(ctx context.Context, asn uint32) (*Registration, Meta, error)
}

// Meta says where an answer came from.
type Meta struct {
	Source string // the RDAP URL queried (or that was queried when cached)
	Cached bool
}

// Registration is an RDAP IP network or autonomous system.
type Registration struct {
	Handle    string    `json:"handle,omitempty"`
	Name      string    `json:"name,omitempty"`
	Range     string    `json:"range,omitempty"` // "first - last" address or AS number
	Country   string    `json:"country,omitempty"`
	Owner     string    `json:"owner,omitempty"` // the registrant's name or organisation
	Abuse     *Contact  `json:"abuse,omitempty"`
	Source    string    `json:"source"`
	FetchedAt time.Time `json:"fetched_at"`
}

// Domain is an RDAP domain registration.
type Domain struct {
	Name string `json:"name"` // the registered domain queried (eTLD+1)
	// Registrar's Email is its abuse contact (the ICANN profile nests an
	// abuse entity under the registrar), else the registrar's own e-mail.
	Registrar *Contact  `json:"registrar,omitempty"`
	Source    string    `json:"source"`
	FetchedAt time.Time `json:"fetched_at"`
}

// Contact is an RDAP entity reduced to what a notice needs.
type Contact struct {
	Name   string `json:"name,omitempty"`
	Email  string `json:"email,omitempty"`
	Handle string `json:"handle,omitempty"`
	// From says how the contact was found, for the evidence record.
	From string `json:"from,omitempty"`
}

// ErrNoServer means the bootstrap has no RDAP server for the query.
var ErrNoServer = errors.New("no RDAP server configured")

// RDAPClient queries RDAP servers chosen by a Bootstrap, caching answers.
// Failures are not cached, so the next trace tries again.
type RDAPClient struct {
	Bootstrap *Bootstrap
	HTTP      *http.Client     // nil: http.DefaultClient
	Cache     Cache            // nil: no cache
	TTL       time.Duration    // cache lifetime; 0: 24h
	Timeout   time.Duration    // per query; 0: 15s
	Now       func() time.Time // nil: time.Now
	UserAgent string
	Logger    *slog.Logger // nil: discard
}

func (c *RDAPClient) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c *RDAPClient) logger() *slog.Logger {
	if c.Logger != nil {
		return c.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// IP returns the network registration holding ip.
func (c *RDAPClient) IP(ctx context.Context, ip netip.Addr) (*Registration, Meta, error) {
	ip = ip.Unmap()
	base, ok := c.Bootstrap.ForIP(ip)
	if !ok {
		return nil, Meta{}, fmt.Errorf("rdap ip %s: %w", ip, ErrNoServer)
	}
	return cachedQuery(ctx, c, "rdap:ip:"+ip.String(), func() (*Registration, string, error) {
		req := rdap.NewIPRequest(net.IP(ip.AsSlice()))
		obj, src, err := c.do(ctx, req, base)
		if err != nil {
			return nil, src, fmt.Errorf("rdap ip %s: %w", ip, err)
		}
		n, ok := obj.(*rdap.IPNetwork)
		if !ok {
			return nil, src, fmt.Errorf("rdap ip %s: unexpected %T in answer", ip, obj)
		}
		r := &Registration{Handle: n.Handle, Name: n.Name, Country: strings.ToUpper(n.Country),
			Source: src, FetchedAt: c.now().UTC()}
		if n.StartAddress != "" {
			r.Range = n.StartAddress + " - " + n.EndAddress
		}
		r.Owner, r.Abuse = ownerAndAbuse(n.Entities)
		if r.Owner == "" {
			r.Owner = n.Name
		}
		return r, src, nil
	})
}

// Autnum returns the registration of an autonomous system.
func (c *RDAPClient) Autnum(ctx context.Context, asn uint32) (*Registration, Meta, error) {
	base, ok := c.Bootstrap.ForASN(asn)
	if !ok {
		return nil, Meta{}, fmt.Errorf("rdap autnum AS%d: %w", asn, ErrNoServer)
	}
	return cachedQuery(ctx, c, "rdap:autnum:"+strconv.FormatUint(uint64(asn), 10), func() (*Registration, string, error) {
		obj, src, err := c.do(ctx, rdap.NewAutnumRequest(asn), base)
		if err != nil {
			return nil, src, fmt.Errorf("rdap autnum AS%d: %w", asn, err)
		}
		a, ok := obj.(*rdap.Autnum)
		if !ok {
			return nil, src, fmt.Errorf("rdap autnum AS%d: unexpected %T in answer", asn, obj)
		}
		r := &Registration{Handle: a.Handle, Name: a.Name, Country: strings.ToUpper(a.Country),
			Source: src, FetchedAt: c.now().UTC()}
		if a.StartAutnum != nil && a.EndAutnum != nil {
			r.Range = fmt.Sprintf("AS%d - AS%d", *a.StartAutnum, *a.EndAutnum)
		}
		r.Owner, r.Abuse = ownerAndAbuse(a.Entities)
		if r.Owner == "" {
			r.Owner = a.Name
		}
		return r, src, nil
	})
}

// Domain returns the registration of name, which should be a registered
// domain (eTLD+1); the tracer computes that from the host.
func (c *RDAPClient) Domain(ctx context.Context, name string) (*Domain, Meta, error) {
	name = canonicalName(name)
	base, ok := c.Bootstrap.ForDomain(name)
	if !ok {
		return nil, Meta{}, fmt.Errorf("rdap domain %s: %w", name, ErrNoServer)
	}
	return cachedQuery(ctx, c, "rdap:domain:"+name, func() (*Domain, string, error) {
		obj, src, err := c.do(ctx, rdap.NewDomainRequest(name), base)
		if err != nil {
			return nil, src, fmt.Errorf("rdap domain %s: %w", name, err)
		}
		d, ok := obj.(*rdap.Domain)
		if !ok {
			return nil, src, fmt.Errorf("rdap domain %s: unexpected %T in answer", name, obj)
		}
		out := &Domain{Name: name, Source: src, FetchedAt: c.now().UTC()}
		if reg := findRole(d.Entities, "registrar"); reg != nil {
			out.Registrar = contactOf(reg, "registrar entity")
			if ab := findRole(reg.Entities, "abuse"); ab != nil && vcardEmail(ab) != "" {
				out.Registrar.Email = vcardEmail(ab)
				out.Registrar.From = "abuse entity of the registrar"
			}
			for _, id := range reg.PublicIDs {
				if out.Registrar.Handle == "" || strings.EqualFold(id.Type, "IANA Registrar ID") {
					out.Registrar.Handle = id.Identifier
				}
			}
		}
		return out, src, nil
	})
}

// cachedQuery answers from c.Cache when it can, else runs fetch and
// stores its answer. A cache that fails is logged and bypassed: losing the
// cache must not lose the trace.
func cachedQuery[T any](ctx context.Context, c *RDAPClient, key string, fetch func() (*T, string, error)) (*T, Meta, error) {
	if c.Cache != nil {
		data, ok, err := c.Cache.Get(ctx, key)
		if err != nil {
			c.logger().WarnContext(ctx, "rdap cache get failed", "key", key, "err", err)
		} else if ok {
			var v struct {
				Value  *T     `json:"value"`
				Source string `json:"source"`
			}
			if err := json.Unmarshal(data, &v); err == nil && v.Value != nil {
				return v.Value, Meta{Source: v.Source, Cached: true}, nil
			}
		}
	}
	v, src, err := fetch()
	if err != nil {
		return nil, Meta{Source: src}, err
	}
	if c.Cache != nil {
		ttl := c.TTL
		if ttl <= 0 {
			ttl = 24 * time.Hour
		}
		data, err := json.Marshal(struct {
			Value  *T     `json:"value"`
			Source string `json:"source"`
		}{v, src})
		if err == nil {
			err = c.Cache.Set(ctx, key, data, ttl)
		}
		if err != nil {
			c.logger().WarnContext(ctx, "rdap cache set failed", "key", key, "err", err)
		}
	}
	return v, Meta{Source: src}, nil
}

// do sends req to base. The server is always given, so openrdap never
// bootstraps over the network by itself.
func (c *RDAPClient) do(ctx context.Context, req *rdap.Request, base string) (any, string, error) {
	server, err := url.Parse(base)
	if err != nil {
		return nil, base, fmt.Errorf("server %q: %w", base, err)
	}
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = 15 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req = req.WithServer(server).WithContext(ctx)
	src := req.URL().String()
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	client := &rdap.Client{HTTP: hc, UserAgent: c.UserAgent}
	resp, err := client.Do(req)
	if err != nil {
		// openrdap's error for a failed server hides the cause; add it.
		if resp != nil {
			for _, h := range resp.HTTP {
				switch {
				case h.Error != nil:
					err = fmt.Errorf("%w: %w", err, h.Error)
				case h.Response != nil && h.Response.StatusCode >= 300:
					err = fmt.Errorf("%w: HTTP %s", err, h.Response.Status)
				}
			}
		}
		return nil, src, err
	}
	if e, ok := resp.Object.(*rdap.Error); ok {
		return nil, src, fmt.Errorf("server error %d: %s", derefUint(e.ErrorCode), e.Title)
	}
	return resp.Object, src, nil
}

func derefUint(p *uint16) uint16 {
	if p == nil {
		return 0
	}
	return *p
}

// ownerAndAbuse finds the registrant's name and the abuse contact. Abuse
// entities sit at the top level (ARIN, most ccTLD registries) or nested
// under the registrant (RIPE, APNIC); the shallowest wins.
func ownerAndAbuse(ents []rdap.Entity) (string, *Contact) {
	var owner string
	if reg := findRole(ents, "registrant"); reg != nil {
		owner = vcardName(reg)
	}
	var abuse *Contact
	if ab := findRole(ents, "abuse"); ab != nil {
		abuse = contactOf(ab, "RDAP entity with role abuse")
		if abuse.Email == "" && abuse.Name == "" {
			abuse = nil
		}
	}
	return owner, abuse
}

// findRole returns the first entity with role, breadth first.
func findRole(ents []rdap.Entity, role string) *rdap.Entity {
	level := make([]*rdap.Entity, 0, len(ents))
	for i := range ents {
		level = append(level, &ents[i])
	}
	for depth := 0; len(level) > 0 && depth < 8; depth++ {
		var next []*rdap.Entity
		for _, e := range level {
			if slices.ContainsFunc(e.Roles, func(r string) bool { return strings.EqualFold(r, role) }) {
				return e
			}
			for i := range e.Entities {
				next = append(next, &e.Entities[i])
			}
		}
		level = next
	}
	return nil
}

func contactOf(e *rdap.Entity, from string) *Contact {
	return &Contact{Name: vcardName(e), Email: vcardEmail(e), Handle: e.Handle, From: from}
}

func vcardName(e *rdap.Entity) string {
	if e.VCard == nil {
		return ""
	}
	if n := strings.TrimSpace(e.VCard.Name()); n != "" {
		return n
	}
	return strings.TrimSpace(e.VCard.Org())
}

func vcardEmail(e *rdap.Entity) string {
	if e.VCard == nil {
		return ""
	}
	return strings.TrimSpace(e.VCard.Email())
}
