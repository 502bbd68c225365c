package route_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/vigil-hotline/vigil/internal/route"
	"github.com/vigil-hotline/vigil/internal/trace"
	"github.com/vigil-hotline/vigil/internal/trace/tracetest"
)

// traceOf traces url in a loopback world: a Belgian, a Dutch and an
// American host, and a CDN edge that geolocates to Belgium.
func traceOf(t *testing.T, url string) *trace.Trace {
	t.Helper()
	nets := []tracetest.Network{
		{Prefix: "192.0.2.0/24", Country: "BE", ASN: 64500, ASOrg: "Example Hosting BE", Name: "BE",
			Owner: "Example Hosting BV", Abuse: "abuse@hosting-be.example", RDAPCountry: "BE"},
		{Prefix: "198.51.100.0/24", Country: "NL", ASN: 64501, ASOrg: "Voorbeeld Hosting", Name: "NL",
			Owner: "Voorbeeld Hosting BV", Abuse: "abuse@hosting-nl.example", RDAPCountry: "NL"},
		{Prefix: "203.0.113.0/25", Country: "US", ASN: 64502, ASOrg: "Example Hosting US", Name: "US",
			Owner: "Example Hosting Inc", Abuse: "abuse@hosting-us.example", RDAPCountry: "US"},
		{Prefix: "203.0.113.128/25", Country: "BE", ASN: 13335, ASOrg: "Example CDN", Name: "CDN",
			Owner: "Example CDN Inc", Abuse: "abuse@cdn.example", RDAPCountry: "US"},
	}
	srv := tracetest.NewRDAPServer()
	t.Cleanup(srv.Close)
	for _, n := range nets {
		srv.AddNetwork(n)
	}
	srv.AddDomain("be-site.example", "Example Registrar SA", "abuse@registrar.example")
	res := tracetest.NewResolver()
	res.Addrs("www.be-site.example", "192.0.2.10")
	res.Addrs("www.nl-site.example", "198.51.100.10")
	res.Addrs("www.us-site.example", "203.0.113.10")
	res.Addrs("www.cdn-site.example", "203.0.113.200")
	c, a, err := tracetest.WriteGeoLite2(t.TempDir(), nets)
	if err != nil {
		t.Fatal(err)
	}
	tracer, err := trace.New(trace.Config{CountryDB: c, ASNDB: a, RDAP: srv.Bootstrap()}, trace.Deps{Resolver: res})
	if err != nil {
		t.Fatal(err)
	}
	defer tracer.Close()
	tr, err := tracer.Trace(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

var brussels = func() *time.Location {
	l, err := time.LoadLocation("Europe/Brussels")
	if err != nil {
		panic(err)
	}
	return l
}()

// Friday 6 March 2026, 15:00 in Brussels.
var assessed = time.Date(2026, 3, 6, 15, 0, 0, 0, brussels)
var monday = time.Date(2026, 3, 9, 15, 0, 0, 0, brussels)

func one(t *testing.T, routes []route.Route, k route.Kind) route.Route {
	t.Helper()
	var found []route.Route
	for _, r := range routes {
		if r.Kind == k {
			found = append(found, r)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d %s routes in %+v", len(found), k, routes)
	}
	return found[0]
}

func TestDecideHome(t *testing.T) {
	rules := route.Default()
	routes := rules.Decide(traceOf(t, "https://www.be-site.example/a"), "A1", assessed)
	if len(routes) != 1 {
		t.Fatalf("routes = %+v, want the police only", routes)
	}
	r := one(t, routes, route.Police)
	if r.Recipient.Email != "fccu@example.invalid" || r.Severity != "A1" || r.Country != "BE" {
		t.Errorf("route = %+v", r)
	}
	if !r.Deadline.Equal(monday) || r.DeadlineRule != "1 working day" {
		t.Errorf("deadline %v (%s), want Monday 15:00", r.Deadline, r.DeadlineRule)
	}
	if !r.IncludeMedia || r.Recipient.PublicKey == "" {
		t.Error("police route without media or key")
	}
	if !strings.Contains(strings.Join(r.Reasons, "; "), "home country") {
		t.Errorf("reasons %q", r.Reasons)
	}
	// An urgent severity has its own deadline.
	r = one(t, rules.Decide(traceOf(t, "www.be-site.example"), "Urgent", assessed), route.Police)
	if !r.Deadline.Equal(assessed.Add(4*time.Hour)) || r.DeadlineRule != "4h0m0s" {
		t.Errorf("urgent deadline %v (%s)", r.Deadline, r.DeadlineRule)
	}
	if !r.Overdue(assessed.Add(5*time.Hour)) || r.Overdue(assessed.Add(3*time.Hour)) {
		t.Error("Overdue")
	}
}

func TestDecidePartnerHotline(t *testing.T) {
	routes := route.Default().Decide(traceOf(t, "https://www.nl-site.example/a"), "A1", assessed)
	if len(routes) != 1 {
		t.Fatalf("routes = %+v, want the hotline only", routes)
	}
	r := one(t, routes, route.Hotline)
	if r.Recipient.Name != "Offlimits (example)" || r.Recipient.Email != "reports.nl@example.invalid" ||
		r.Recipient.Language != "nl" || r.NoticeLanguage != "nl" || !strings.HasPrefix(r.Recipient.PublicKey, "age1") {
		t.Errorf("route = %+v", r)
	}
	if r.IncludeMedia || !r.Deadline.Equal(monday) || r.RenoticeInterval != 0 {
		t.Errorf("options: media %v deadline %v renotice %v", r.IncludeMedia, r.Deadline, r.RenoticeInterval)
	}
}

func TestDecideThirdCountry(t *testing.T) {
	tr := traceOf(t, "https://www.us-site.example/a")
	routes := route.Default().Decide(tr, "B", assessed)
	if len(routes) != 2 {
		t.Fatalf("routes = %+v, want provider and police", routes)
	}
	p := one(t, routes, route.Provider)
	if p.Recipient.Email != "abuse@hosting-us.example" || p.Country != "US" || p.IncludeMedia || p.NoticeLanguage != "en" {
		t.Errorf("provider route = %+v", p)
	}
	if p.RenoticeInterval != 24*time.Hour || p.EscalateAfter != 3 || len(p.Escalation) != 2 ||
		p.Escalation[0].To != "upstream" || p.Escalation[0].Recipient.Email != "abuse@as64502.example" ||
		p.Escalation[1].To != "police" || p.Escalation[1].Recipient.Email != "fccu@example.invalid" {
		t.Errorf("provider follow-up = %v every %v after %d: %+v", p.Kind, p.RenoticeInterval, p.EscalateAfter, p.Escalation)
	}
	if !p.Deadline.Equal(monday) {
		t.Errorf("provider deadline %v", p.Deadline)
	}
	if pol := one(t, routes, route.Police); pol.Severity != "B" {
		t.Errorf("police route = %+v", pol)
	}
	data, err := json.Marshal(routes)
	if err != nil || !strings.Contains(string(data), `"kind":"provider"`) {
		t.Errorf("JSON %s %v", data, err)
	}

	// A per-country rule turns the provider notice off.
	cfg := route.Default().Config()
	f := false
	cfg.Countries = map[string]route.CountryRule{"US": {Provider: &f}}
	rules := mustParse(t, cfg)
	routes = rules.Decide(tr, "B", assessed)
	if len(routes) != 1 || routes[0].Kind != route.Police {
		t.Errorf("with US provider off: %+v", routes)
	}
}

func TestDecideCDN(t *testing.T) {
	routes := route.Default().Decide(traceOf(t, "https://www.cdn-site.example/a"), "A1", assessed)
	p := one(t, routes, route.Provider)
	if p.Recipient.Email != "abuse@cdn.example" || p.Country != "US" {
		t.Errorf("CDN provider route = %+v", p)
	}
	if !strings.Contains(strings.Join(p.Reasons, "; "), "behind the CDN Cloudflare") {
		t.Errorf("reasons %q", p.Reasons)
	}
	one(t, routes, route.Police)
}

func TestDecideWithoutContactsOrCountry(t *testing.T) {
	rules := route.Default()
	r := one(t, rules.Decide(nil, "A1", assessed), route.Police)
	if !strings.Contains(r.Reasons[0], "unknown") {
		t.Errorf("reasons %q", r.Reasons)
	}
	// Elsewhere with the police off and no abuse contact: the police all
	// the same, rather than nobody.
	cfg := rules.Config()
	f := false
	cfg.Elsewhere.Police = &f
	rules = mustParse(t, cfg)
	routes := rules.Decide(&trace.Trace{Country: "JP", CountryFrom: "geo"}, "A1", assessed)
	r = one(t, routes, route.Police)
	if len(routes) != 1 || !strings.Contains(strings.Join(r.Reasons, "; "), "no abuse contact") {
		t.Errorf("routes %+v", routes)
	}
	// With a contact, only the provider.
	routes = rules.Decide(&trace.Trace{Country: "JP", Abuse: &trace.Contact{Email: "abuse@jp.example"}}, "A1", assessed)
	if len(routes) != 1 || routes[0].Kind != route.Provider || len(routes[0].Escalation) != 1 {
		t.Errorf("routes %+v (no upstream known: police escalation only)", routes)
	}
}

func mustParse(t *testing.T, cfg route.Config) *route.Rules {
	t.Helper()
	data, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	r, err := route.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestDefaultConfig(t *testing.T) {
	cfg := route.Default().Config()
	if cfg.HomeCountry != "BE" || cfg.Police.Name != "Federal Computer Crime Unit" || len(cfg.Hotlines) == 0 {
		t.Errorf("default = %+v", cfg)
	}
	emails := []string{cfg.Police.Email}
	for _, h := range cfg.Hotlines {
		emails = append(emails, h.Email)
	}
	for _, e := range emails {
		if !strings.HasSuffix(e, ".invalid") {
			t.Errorf("default address %q is not an example address", e)
		}
	}
	// An empty file is valid apart from the police, which has no default.
	_, err := route.Parse([]byte(`{"police": {"name": "P", "email": "p@example.invalid"}}`))
	if err != nil {
		t.Errorf("minimal config: %v", err)
	}
}

func TestValidation(t *testing.T) {
	cfg := `{
  "home_country": "BE",
  "time_zone": "Mars/Olympus",
  "holidays": ["2026-13-01"],
  "police": {
    "name": "",
    "email": "not an address",
    "options": {"include_media": true, "escalate_after": 2}
  },
  "hotlines": [
    {"countries": ["NL"], "name": "A", "email": "a@example.invalid", "public_key": "age1nope"},
    {"countries": ["nl", "BE", "XYZ"], "name": "B", "email": "b@example.invalid",
     "options": {"deadline": "soon"}}
  ],
  "provider": {"options": {"escalate_to": ["upstream", "mayor"], "renotice_interval": "1s"}},
  "countries": {"usa": {}}
}`
	_, err := route.Parse([]byte(cfg))
	if err == nil {
		t.Fatal("invalid config accepted")
	}
	msg := err.Error()
	for _, want := range []string{
		`line 3: time_zone: "Mars/Olympus"`,
		`line 4: holidays[0]: "2026-13-01"`,
		`line 6: police.name: required`,
		`line 7: police.email: "not an address" is not a plain e-mail address`,
		`line 8: police.options: renotice_interval, escalate_after and escalate_to apply to provider notices only`,
		`police.public_key: required when include_media is true`,
		`line 11: hotlines[0].public_key: not an age X25519 recipient`,
		`line 12: hotlines[1].countries[0]: NL already has a partner hotline`,
		`line 12: hotlines[1].countries[1]: BE is the home country`,
		`line 12: hotlines[1].countries[2]: "XYZ" is not an ISO 3166-1 alpha-2`,
		`line 13: hotlines[1].options.deadline: deadline "soon"`,
		`line 15: provider.options.escalate_to[1]: "mayor"`,
		`line 15: provider.options.renotice_interval: "1s"`,
		`line 16: countries.usa: "USA" is not an ISO`,
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("missing %q in:\n%s", want, msg)
		}
	}
	var fe *route.FieldError
	if !errors.As(err, &fe) || fe.Field == "" {
		t.Errorf("errors are not *FieldError: %T", err)
	}

	for in, want := range map[string]string{
		"{\n  \"home_country\": \"BE\",\n  \"polise\": {}\n}":          `line 3: polise: unknown field`,
		"{\n  \"home_country\": \"BE\"\n  \"police\": {}\n}":           `line 3: (syntax)`,
		"{\n  \"holidays\": \"2026-01-01\"\n}":                         `line 2: holidays: want []string`,
		"{\n  \"police\": {\"options\": {\"escalate_after\": \"3\"}}}": `police.options.escalate_after: want int`,
		"":      `(file): empty`,
		"{} {}": `data after the configuration object`,
	} {
		_, err := route.Parse([]byte(in))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Parse(%q) = %v, want %q", in, err, want)
		}
	}
}

// TestDecideSelfReported: content the person shown asked to have removed
// goes to the provider with priority, wherever it is hosted (even at home
// or in a partner hotline's country), within 4 hours by default; to the
// police only when no provider can be found or when configured.
func TestDecideSelfReported(t *testing.T) {
	rules := route.Default()
	for _, country := range []string{"BE", "NL", "JP"} {
		routes := rules.Decide(&trace.Trace{Country: country, Abuse: &trace.Contact{Email: "abuse@host.example"}},
			route.SelfReported, assessed)
		if len(routes) != 1 || routes[0].Kind != route.Provider || !routes[0].Priority ||
			!routes[0].Deadline.Equal(assessed.Add(4*time.Hour)) {
			t.Errorf("%s: routes %+v", country, routes)
		}
	}
	r := one(t, rules.Decide(&trace.Trace{Country: "JP"}, route.SelfReported, assessed), route.Police)
	if !strings.Contains(strings.Join(r.Reasons, "; "), "no abuse contact") {
		t.Errorf("reasons %q", r.Reasons)
	}
	cfg := rules.Config()
	yes := true
	cfg.Victim.Police = &yes
	routes := mustParse(t, cfg).Decide(&trace.Trace{Country: "JP", Abuse: &trace.Contact{Email: "abuse@host.example"}},
		route.SelfReported, assessed)
	if len(routes) != 2 {
		t.Errorf("with victim.police: %+v", routes)
	}
}
