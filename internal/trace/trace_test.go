package trace_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-hotline/vigil/internal/trace"
	"github.com/vigil-hotline/vigil/internal/trace/tracetest"
)

// networks of the simulated internet: a Belgian host, a Dutch one, an
// American one, and a CDN whose edge geolocates to Belgium.
var networks = []tracetest.Network{
	{Prefix: "192.0.2.0/25", Country: "BE", ASN: 64500, ASOrg: "Example Hosting BE", Name: "HOSTING-BE",
		Owner: "Example Hosting BV", Abuse: "abuse@hosting-be.example", RDAPCountry: "BE"},
	{Prefix: "2001:db8:be::/48", Country: "BE", ASN: 64500, ASOrg: "Example Hosting BE", Name: "HOSTING-BE-V6",
		Owner: "Example Hosting BV", Abuse: "abuse@hosting-be.example", RDAPCountry: "BE"},
	{Prefix: "198.51.100.0/24", Country: "NL", ASN: 64501, ASOrg: "Voorbeeld Hosting", Name: "HOSTING-NL",
		Owner: "Voorbeeld Hosting BV", Abuse: "abuse@hosting-nl.example", RDAPCountry: "NL"},
	{Prefix: "203.0.113.0/25", Country: "US", ASN: 64502, ASOrg: "Example Hosting US", Name: "HOSTING-US",
		Owner: "Example Hosting Inc", Abuse: "abuse@hosting-us.example", RDAPCountry: "US"},
	{Prefix: "203.0.113.128/25", Country: "BE", ASN: 13335, ASOrg: "Example CDN", Name: "CDN-EDGE",
		Owner: "Example CDN Inc", Abuse: "abuse@cdn.example", RDAPCountry: "US"},
	// In the databases but not in RDAP, for failure tests.
	{Prefix: "192.0.2.128/25", Country: "FR", ASN: 64503, ASOrg: "Example Hosting FR"},
}

type world struct {
	rdap     *tracetest.RDAPServer
	resolver *tracetest.Resolver
	cfg      trace.Config
	clock    *clock
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newWorld(t *testing.T, layout string) *world {
	t.Helper()
	w := &world{rdap: tracetest.NewRDAPServer(), resolver: tracetest.NewResolver(),
		clock: &clock{t: time.Date(2026, 3, 6, 14, 0, 0, 0, time.UTC)}}
	t.Cleanup(w.rdap.Close)
	for _, n := range networks {
		if n.Owner != "" {
			w.rdap.AddNetwork(n)
		}
	}
	w.rdap.AddDomain("shop.example", "Example Registrar SA", "abuse@registrar.example")
	w.rdap.AddDomain("nl-site.example", "Example Registrar SA", "abuse@registrar.example")
	w.rdap.AddDomain("cdn-site.test", "Other Registrar", "")

	w.resolver.CNAME("www.shop.example", "shop.example")
	w.resolver.CNAME("shop.example", "host1.hosting-be.example")
	w.resolver.Addrs("host1.hosting-be.example", "2001:db8:be::10", "192.0.2.10")
	w.resolver.Addrs("www.nl-site.example", "198.51.100.20")
	w.resolver.Addrs("us-site.example", "203.0.113.30")
	w.resolver.Addrs("www.cdn-site.test", "203.0.113.200")
	w.resolver.Addrs("fr-site.example", "192.0.2.200")

	dir := t.TempDir()
	switch layout {
	case "geolite2":
		c, a, err := tracetest.WriteGeoLite2(dir, networks)
		if err != nil {
			t.Fatal(err)
		}
		w.cfg.CountryDB, w.cfg.ASNDB = c, a
	case "ipinfo":
		p, err := tracetest.WriteIPinfoLite(dir, networks)
		if err != nil {
			t.Fatal(err)
		}
		w.cfg.CountryDB, w.cfg.ASNDB = p, p
	}
	w.cfg.RDAP = w.rdap.Bootstrap()
	return w
}

func (w *world) tracer(t *testing.T) *trace.Tracer {
	t.Helper()
	tr, err := trace.New(w.cfg, trace.Deps{Resolver: w.resolver, Now: w.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tr.Close() })
	return tr
}

func noFailures(t *testing.T, tr *trace.Trace) {
	t.Helper()
	for _, l := range tr.Failed() {
		t.Errorf("lookup %s %s failed: %s", l.Kind, l.Query, l.Error)
	}
}

func TestTraceBelgianHost(t *testing.T) {
	for _, layout := range []string{"geolite2", "ipinfo"} {
		t.Run(layout, func(t *testing.T) {
			w := newWorld(t, layout)
			tr, err := w.tracer(t).Trace(context.Background(), "https://www.shop.example/gallery?id=1")
			if err != nil {
				t.Fatal(err)
			}
			noFailures(t, tr)
			if tr.Host != "www.shop.example" || tr.URL != "https://www.shop.example/gallery?id=1" {
				t.Errorf("host %q url %q", tr.Host, tr.URL)
			}
			if want := []string{"shop.example", "host1.hosting-be.example"}; !slices.Equal(tr.CNAMEs, want) {
				t.Errorf("CNAMEs = %v, want %v", tr.CNAMEs, want)
			}
			if len(tr.Addresses) != 2 || tr.Addresses[0].IP.String() != "192.0.2.10" || tr.Addresses[1].IP.String() != "2001:db8:be::10" {
				t.Fatalf("addresses = %+v, want IPv4 first", tr.Addresses)
			}
			a := tr.Addresses[0]
			if a.Country != "BE" || a.ASN != 64500 || a.ASOrg != "Example Hosting BE" {
				t.Errorf("geo = %s AS%d %q", a.Country, a.ASN, a.ASOrg)
			}
			if a.Network == nil || a.Network.Owner != "Example Hosting BV" || a.Network.Name != "HOSTING-BE" || a.Network.Country != "BE" {
				t.Errorf("network = %+v", a.Network)
			}
			if a.Network.Range != "192.0.2.0 - 192.0.2.127" {
				t.Errorf("range = %q", a.Network.Range)
			}
			if tr.Addresses[1].Country != "BE" || tr.Addresses[1].Network == nil {
				t.Errorf("IPv6 address = %+v", tr.Addresses[1])
			}
			if tr.Country != "BE" || tr.CountryFrom != "geo" || tr.ASN != 64500 || tr.CDN != "" || tr.Countries != nil {
				t.Errorf("summary: country %q from %q, AS%d, cdn %q, countries %v", tr.Country, tr.CountryFrom, tr.ASN, tr.CDN, tr.Countries)
			}
			if tr.Abuse == nil || tr.Abuse.Email != "abuse@hosting-be.example" {
				t.Errorf("abuse = %+v (nested under the registrant)", tr.Abuse)
			}
			if tr.Upstream == nil || tr.Upstream.Email != "abuse@as64500.example" {
				t.Errorf("upstream = %+v", tr.Upstream)
			}
			if tr.Domain == nil || tr.Domain.Name != "shop.example" || tr.Domain.Registrar == nil ||
				tr.Domain.Registrar.Name != "Example Registrar SA" || tr.Domain.Registrar.Email != "abuse@registrar.example" ||
				tr.Domain.Registrar.Handle != "9999" {
				t.Errorf("domain = %+v registrar %+v", tr.Domain, tr.Domain.Registrar)
			}
			if !tr.Started.Equal(w.clock.Now()) || tr.Duration <= 0 {
				t.Errorf("started %v duration %v", tr.Started, tr.Duration)
			}
			kinds := map[string]int{}
			for _, l := range tr.Lookups {
				kinds[l.Kind]++
				if l.Source == "" {
					t.Errorf("lookup %+v has no source", l)
				}
			}
			want := map[string]int{trace.LookupCNAME: 1, trace.LookupAddr: 1, trace.LookupGeo: 2,
				trace.LookupRDAPIP: 2, trace.LookupRDAPDomain: 1, trace.LookupRDAPASN: 1}
			for k, n := range want {
				if kinds[k] != n {
					t.Errorf("%d %s lookups, want %d (all: %v)", kinds[k], k, n, kinds)
				}
			}
			for _, l := range tr.Lookups {
				if l.Kind == trace.LookupGeo && !strings.Contains(l.Source, "2026-01-06") {
					t.Errorf("geo source %q lacks the database build date", l.Source)
				}
			}

			// The trace is evidence: it must survive a JSON round trip.
			data, err := json.Marshal(tr)
			if err != nil {
				t.Fatal(err)
			}
			var back trace.Trace
			if err := json.Unmarshal(data, &back); err != nil {
				t.Fatal(err)
			}
			if back.Addresses[0].IP != a.IP || back.Abuse.Email != tr.Abuse.Email || len(back.Lookups) != len(tr.Lookups) ||
				!back.Started.Equal(tr.Started) || back.Duration != tr.Duration {
				t.Errorf("round trip lost data: %s", data)
			}
		})
	}
}

func TestTraceCDN(t *testing.T) {
	w := newWorld(t, "geolite2")
	tr, err := w.tracer(t).Trace(context.Background(), "http://www.cdn-site.test/x.jpg")
	if err != nil {
		t.Fatal(err)
	}
	noFailures(t, tr)
	// The edge geolocates to BE, but the content is not hosted in Belgium:
	// the CDN's country and abuse desk are what count.
	if tr.CDN != "Cloudflare" || tr.Addresses[0].CDNWhy != "AS13335" {
		t.Errorf("cdn = %q (%q)", tr.CDN, tr.Addresses[0].CDNWhy)
	}
	if tr.Country != "US" || !strings.HasPrefix(tr.CountryFrom, "cdn") {
		t.Errorf("country %q from %q, want US from the CDN", tr.Country, tr.CountryFrom)
	}
	if tr.Abuse == nil || tr.Abuse.Email != "abuse@cdn.example" {
		t.Errorf("abuse = %+v, want the CDN's", tr.Abuse)
	}
	if tr.Domain == nil || tr.Domain.Registrar.Email != "" || tr.Domain.Registrar.Name != "Other Registrar" {
		t.Errorf("domain = %+v", tr.Domain)
	}

	// A configured CDN recognised by CNAME, with its own abuse address.
	w.cfg.CDNs = []trace.CDN{{Name: "Test CDN", CNAMESuffixes: []string{"edge.cdn.test"},
		AbuseEmail: "csam@cdn.test"}}
	w.resolver.CNAME("img.nl-site.example", "nl-site.edge.cdn.test")
	w.resolver.Addrs("nl-site.edge.cdn.test", "198.51.100.99")
	tr, err = w.tracer(t).Trace(context.Background(), "img.nl-site.example")
	if err != nil {
		t.Fatal(err)
	}
	if tr.CDN != "Test CDN" || tr.Abuse == nil || tr.Abuse.Email != "csam@cdn.test" || tr.Abuse.From != "cdn config" {
		t.Errorf("cdn %q abuse %+v", tr.CDN, tr.Abuse)
	}
	// No country configured for the CDN: the RDAP registration's.
	if tr.Country != "NL" || tr.CountryFrom != "rdap network of cdn" {
		t.Errorf("country %q from %q", tr.Country, tr.CountryFrom)
	}
	// Cloudflare is no longer configured.
	tr, _ = w.tracer(t).Trace(context.Background(), "www.cdn-site.test")
	if tr.CDN != "" || tr.Country != "BE" {
		t.Errorf("with only Test CDN configured: cdn %q country %q", tr.CDN, tr.Country)
	}
}

func TestTraceCache(t *testing.T) {
	w := newWorld(t, "geolite2")
	tracer := w.tracer(t)
	ctx := context.Background()
	first, err := tracer.Trace(ctx, "https://www.shop.example/")
	if err != nil {
		t.Fatal(err)
	}
	n := len(w.rdap.Requests())
	if n != 4 { // two addresses, one domain, one AS
		t.Errorf("first trace made %d RDAP requests: %v", n, w.rdap.Requests())
	}
	w.clock.Add(time.Hour)
	second, _ := tracer.Trace(ctx, "https://www.shop.example/other")
	if got := w.rdap.Requests()[n:]; len(got) != 0 {
		t.Errorf("second trace made RDAP requests %v", got)
	}
	for _, l := range second.Lookups {
		if strings.HasPrefix(l.Kind, "rdap") && (!l.Cached || !strings.HasPrefix(l.Source, w.rdap.URL)) {
			t.Errorf("lookup %+v: want cached with its original source", l)
		}
	}
	if second.Abuse.Email != first.Abuse.Email || second.Domain.Registrar.Name != first.Domain.Registrar.Name {
		t.Errorf("cached trace differs: %+v vs %+v", second, first)
	}
	// After the TTL (24h by default) the cache is stale.
	w.clock.Add(24 * time.Hour)
	if _, err := tracer.Trace(ctx, "https://www.shop.example/"); err != nil {
		t.Fatal(err)
	}
	if got := len(w.rdap.Requests()) - n; got != 4 {
		t.Errorf("after expiry: %d requests, want 4", got)
	}
}

func TestTraceFailuresAreRecorded(t *testing.T) {
	w := newWorld(t, "geolite2")
	w.rdap.Fail("/ip/198.51.100.", http.StatusInternalServerError)
	tracer := w.tracer(t)
	ctx := context.Background()

	tr, err := tracer.Trace(ctx, "https://www.nl-site.example/")
	if err != nil {
		t.Fatal(err)
	}
	failed := map[string]string{}
	for _, l := range tr.Failed() {
		failed[l.Kind] = l.Error
	}
	if !strings.Contains(failed[trace.LookupRDAPIP], "500") {
		t.Errorf("rdap ip failure not recorded with its cause: %v", failed)
	}
	// The rest of the trace still answers.
	if tr.Country != "NL" || tr.ASN != 64501 || tr.Domain == nil || tr.Abuse != nil {
		t.Errorf("partial trace: country %q AS%d domain %+v abuse %+v", tr.Country, tr.ASN, tr.Domain, tr.Abuse)
	}
	// Failures are not cached: the next trace asks again and succeeds.
	w.rdap.Fail("/ip/198.51.100.", 0)
	n := len(w.rdap.Requests())
	tr, _ = tracer.Trace(ctx, "https://www.nl-site.example/")
	if len(w.rdap.Requests()) == n || tr.Abuse == nil || tr.Abuse.Email != "abuse@hosting-nl.example" {
		t.Errorf("retry after failure: abuse %+v, requests %v", tr.Abuse, w.rdap.Requests()[n:])
	}

	// Unknown to RDAP (404) and unknown domain.
	tr, _ = tracer.Trace(ctx, "fr-site.example")
	failed = map[string]string{}
	for _, l := range tr.Failed() {
		failed[l.Kind] = l.Error
	}
	if failed[trace.LookupRDAPIP] == "" || failed[trace.LookupRDAPDomain] == "" || failed[trace.LookupRDAPASN] == "" {
		t.Errorf("404s not recorded: %v", failed)
	}
	if tr.Country != "FR" {
		t.Errorf("country %q, want FR from geo", tr.Country)
	}

	// A name that does not resolve.
	tr, _ = tracer.Trace(ctx, "https://gone.example/")
	if len(tr.Addresses) != 0 || len(tr.Failed()) == 0 || tr.Failed()[0].Kind != trace.LookupCNAME && tr.Failed()[0].Kind != trace.LookupAddr {
		t.Errorf("unresolvable: %+v", tr)
	}
	// No RDAP server configured at all, nor databases.
	tracer, err = trace.New(trace.Config{CDNs: []trace.CDN{}}, trace.Deps{Resolver: w.resolver})
	if err != nil {
		t.Fatal(err)
	}
	tr, _ = tracer.Trace(ctx, "https://www.shop.example/")
	if len(tr.Addresses) != 2 || tr.Country != "" || len(tr.Failed()) != 3 {
		t.Errorf("no config: %d addresses, country %q, failed %+v", len(tr.Addresses), tr.Country, tr.Failed())
	}
	for _, l := range tr.Failed() {
		if !strings.Contains(l.Error, "no RDAP server configured") {
			t.Errorf("failure %+v", l)
		}
	}
	if _, err := tracer.Trace(ctx, "https:///nohost"); err == nil {
		t.Error("a URL without host traced")
	}
}

func TestTraceAddressLiteral(t *testing.T) {
	w := newWorld(t, "geolite2")
	tr, err := w.tracer(t).Trace(context.Background(), "http://[2001:db8:be::7]:8080/a")
	if err != nil {
		t.Fatal(err)
	}
	noFailures(t, tr)
	if tr.Host != "2001:db8:be::7" || len(tr.Addresses) != 1 || tr.Country != "BE" || tr.Domain != nil {
		t.Errorf("literal: %+v", tr)
	}
	for _, l := range tr.Lookups {
		if strings.HasPrefix(l.Kind, "dns") || l.Kind == trace.LookupRDAPDomain {
			t.Errorf("unexpected lookup %+v for an address", l)
		}
	}
}

func TestTraceConcurrent(t *testing.T) {
	w := newWorld(t, "geolite2")
	tracer := w.tracer(t)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			host := []string{"www.shop.example", "www.nl-site.example", "us-site.example", "www.cdn-site.test"}[i%4]
			if _, err := tracer.Trace(context.Background(), host); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
}
