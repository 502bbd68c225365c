// Package route decides where assessed content is forwarded: by hosting
// country, to the police (home country), to a partner hotline (its
// countries), or to the police and the provider (elsewhere), each route
// with a deadline counted in working days and its notice options. Rules
// come from a JSON file (Config); Decide is pure, so a decision can be
// recomputed and explained.
package route

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/vigil-hotline/vigil/internal/trace"
)

// Kind is the kind of recipient.
type Kind string

// Route kinds.
const (
	Police   Kind = "police"
	Hotline  Kind = "hotline"
	Provider Kind = "provider"
)

// Recipient is who receives a route's message.
type Recipient struct {
	Name      string `json:"name"`
	Email     string `json:"email"`
	PublicKey string `json:"public_key,omitempty"` // age X25519 recipient for packages
	Language  string `json:"language,omitempty"`
}

// Escalation is where a provider notice goes once renotices are exhausted.
type Escalation struct {
	To        string    `json:"to"` // "upstream", "registrar" or "police"
	Recipient Recipient `json:"recipient"`
}

// Route is one message to send about one assessed URL.
type Route struct {
	Kind      Kind      `json:"kind"`
	Recipient Recipient `json:"recipient"`
	Country   string    `json:"country,omitempty"`  // the hosting country that chose the route
	Severity  string    `json:"severity,omitempty"` // the assessment's severity, passed on
	Deadline  time.Time `json:"deadline"`
	// DeadlineRule is the rule Deadline came from, e.g. "1 working day".
	DeadlineRule   string `json:"deadline_rule"`
	IncludeMedia   bool   `json:"include_media"`
	NoticeLanguage string `json:"notice_language,omitempty"`
	// Provider routes only: renotice while the content stays up, and
	// escalate after EscalateAfter renotices (0: never).
	RenoticeInterval time.Duration `json:"renotice_interval,omitempty"`
	EscalateAfter    int           `json:"escalate_after,omitempty"`
	Escalation       []Escalation  `json:"escalation,omitempty"`
	Reasons          []string      `json:"reasons"`
	// Priority marks a notice the person shown asked for: the provider
	// is asked to act first on it.
	Priority bool `json:"priority,omitempty"`
}

// Overdue reports whether the route's deadline has passed at now.
func (r Route) Overdue(now time.Time) bool { return now.After(r.Deadline) }

// Rules are a validated Config.
type Rules struct {
	cfg        Config
	home       string
	cal        *Calendar
	police     Recipient
	policeSet  settings
	hotlines   map[string]hotlineRule
	provider   settings
	homeProv   bool
	elsePolice bool
	elseProv   bool
	countries  map[string]CountryRule
	victimProv bool
	victimPol  bool
	victimSet  settings
}

type hotlineRule struct {
	recipient Recipient
	set       settings
}

// Config returns the configuration the rules were built from.
func (r *Rules) Config() Config { return r.cfg }

// Calendar returns the working-day calendar deadlines are counted in.
func (r *Rules) Calendar() *Calendar { return r.cal }

// compile checks cfg, recording problems in v.
func compile(cfg Config, v *validator) *Rules {
	r := &Rules{cfg: cfg, hotlines: map[string]hotlineRule{}, countries: map[string]CountryRule{}}
	r.home = "BE"
	if cfg.HomeCountry != "" {
		r.home = v.country("home_country", cfg.HomeCountry)
	}
	tz := cfg.TimeZone
	if tz == "" {
		tz = "Europe/Brussels"
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		v.errf("time_zone", "%q: %v", tz, err)
		loc = time.UTC
	}
	r.cal = &Calendar{loc: loc, holidays: map[string]bool{}}
	for i, h := range cfg.Holidays {
		d, err := time.Parse(time.DateOnly, strings.TrimSpace(h))
		if err != nil {
			v.errf(fmt.Sprintf("holidays[%d]", i), "%q: want YYYY-MM-DD", h)
			continue
		}
		r.cal.holidays[d.Format(time.DateOnly)] = true
	}

	base := v.options("defaults", builtin, cfg.Defaults, true)
	r.police = v.contact("police", cfg.Police)
	r.policeSet = v.options("police.options", base, cfg.Police.Options, false)
	v.mediaNeedsKey("police", r.police, r.policeSet)

	for i, h := range cfg.Hotlines {
		field := fmt.Sprintf("hotlines[%d]", i)
		rec := v.contact(field, h.Contact)
		set := v.options(field+".options", base, h.Options, false)
		v.mediaNeedsKey(field, rec, set)
		if len(h.Countries) == 0 {
			v.errf(field+".countries", "required: the hosting countries this hotline covers")
		}
		for j, c := range h.Countries {
			cf := fmt.Sprintf("%s.countries[%d]", field, j)
			c = v.country(cf, c)
			switch _, dup := r.hotlines[c]; {
			case c == r.home:
				v.errf(cf, "%s is the home country, which goes to the police", c)
			case dup:
				v.errf(cf, "%s already has a partner hotline", c)
			}
			r.hotlines[c] = hotlineRule{recipient: rec, set: set}
		}
	}
	r.provider = v.options("provider.options", base, cfg.Provider.Options, true)
	r.homeProv = cfg.Home.Provider
	r.elsePolice = cfg.Elsewhere.Police == nil || *cfg.Elsewhere.Police
	r.elseProv = cfg.Elsewhere.Provider
	r.victimProv = cfg.Victim.Provider == nil || *cfg.Victim.Provider
	r.victimPol = cfg.Victim.Police != nil && *cfg.Victim.Police
	vbase := r.provider
	vbase.deadline, vbase.renotice = Deadline{Duration: 4 * time.Hour}, min(12*time.Hour, r.provider.renotice)
	r.victimSet = v.options("victim.options", vbase, cfg.Victim.Options, true)
	for c, rule := range cfg.Countries {
		r.countries[v.country("countries."+c, c)] = rule
	}
	return r
}

// mediaNeedsKey refuses media for a recipient without a key: media only
// ever travel encrypted.
func (v *validator) mediaNeedsKey(field string, rec Recipient, s settings) {
	if s.includeMedia && rec.PublicKey == "" {
		v.errf(field+".public_key", "required when include_media is true: media are only sent encrypted")
	}
}

// Decide returns the routes for content traced as tr, assessed with
// severity, the assessment confirmed at assessed. A nil or empty trace
// routes as "country unknown": to the police, which is never wrong.
func (r *Rules) Decide(tr *trace.Trace, severity string, assessed time.Time) []Route {
	if tr == nil {
		tr = &trace.Trace{}
	}
	country := strings.ToUpper(tr.Country)
	var why []string
	switch {
	case country == "":
		why = append(why, "hosting country unknown: the trace found no location")
	case tr.CDN != "":
		why = append(why, fmt.Sprintf("behind the CDN %s: hosting country %s (%s), notices to the CDN", tr.CDN, country, tr.CountryFrom))
	default:
		why = append(why, fmt.Sprintf("hosted in %s (%s)", country, cmpOr(tr.CountryFrom, "trace")))
	}
	if len(tr.Countries) > 1 {
		why = append(why, fmt.Sprintf("addresses in several countries (%s); routed by the first", strings.Join(tr.Countries, ", ")))
	}

	var routes []Route
	police := func(extra ...string) {
		routes = append(routes, r.route(Police, r.police, r.policeSet, country, severity, assessed, append(slices.Clone(why), extra...)))
	}
	provider := func(extra ...string) bool {
		rt, ok := r.providerRoute(tr, country, severity, assessed, append(slices.Clone(why), extra...))
		if ok {
			routes = append(routes, rt)
		} else {
			why = append(why, rt.Reasons[len(rt.Reasons)-1])
		}
		return ok
	}

	if normSeverity(severity) == SelfReported {
		return r.decideVictim(tr, country, severity, assessed, why)
	}
	if h, ok := r.hotlines[country]; ok {
		return []Route{r.route(Hotline, h.recipient, h.set, country, severity, assessed,
			append(why, fmt.Sprintf("%s has a partner hotline: %s", country, h.recipient.Name)))}
	}
	if country != "" && country == r.home {
		if r.homeProv {
			provider("the rules also notify the provider in the home country")
		}
		police(fmt.Sprintf("%s is the home country: to the police with the severity", country))
		return routes
	}
	rule := r.countries[country]
	wantProv := r.elseProv
	if rule.Provider != nil {
		wantProv = *rule.Provider
	}
	wantPolice := r.elsePolice
	if rule.Police != nil {
		wantPolice = *rule.Police
	}
	if wantProv {
		provider("no partner hotline: the rules notify the provider directly")
	}
	if wantPolice || len(routes) == 0 {
		msg := "no partner hotline: to the police"
		if !wantPolice {
			msg = "no other route is possible: to the police"
		}
		police(msg)
	}
	return routes
}

// decideVictim routes a victim-bank match: the priority notice to the
// provider, the police when configured or when no provider can be found.
func (r *Rules) decideVictim(tr *trace.Trace, country, severity string, assessed time.Time, why []string) []Route {
	var routes []Route
	if r.victimProv {
		// The provider notice with the victim route's settings.
		vr := *r
		vr.provider = r.victimSet
		rt, ok := vr.providerRoute(tr, country, severity, assessed,
			append(slices.Clone(why), "reported by the person shown: priority notice to the provider"))
		if ok {
			rt.Priority = true
			routes = append(routes, rt)
		} else {
			why = append(why, rt.Reasons[len(rt.Reasons)-1])
		}
	}
	if r.victimPol || len(routes) == 0 {
		routes = append(routes, r.route(Police, r.police, r.policeSet, country, severity, assessed,
			append(slices.Clone(why), "reported by the person shown: to the police")))
	}
	return routes
}

// route builds a forward (police or hotline).
func (r *Rules) route(k Kind, rec Recipient, s settings, country, severity string, at time.Time, why []string) Route {
	d := s.deadline
	if sd, ok := s.bySeverity[normSeverity(severity)]; ok {
		d = sd
		why = append(why, fmt.Sprintf("deadline for severity %q: %s", severity, d))
	}
	return Route{Kind: k, Recipient: rec, Country: country, Severity: severity,
		Deadline: d.From(at, r.cal), DeadlineRule: d.String(), IncludeMedia: s.includeMedia,
		NoticeLanguage: cmpOr(s.language, rec.Language, "en"), Reasons: why}
}

// providerRoute builds the notice to the provider's abuse contact; ok is
// false (with the reason last) when the trace found none.
func (r *Rules) providerRoute(tr *trace.Trace, country, severity string, at time.Time, why []string) (Route, bool) {
	if tr.Abuse == nil || tr.Abuse.Email == "" {
		return Route{Reasons: append(why, "no provider notice: the trace found no abuse contact")}, false
	}
	rec := Recipient{Name: cmpOr(tr.Abuse.Name, tr.CDN, tr.ASOrg), Email: tr.Abuse.Email}
	rt := r.route(Provider, rec, r.provider, country, severity, at, append(why,
		fmt.Sprintf("abuse contact %s (%s)", rec.Email, cmpOr(tr.Abuse.From, "trace"))))
	rt.IncludeMedia = false // never media to a provider
	rt.RenoticeInterval = r.provider.renotice
	rt.EscalateAfter = r.provider.escalateAfter
	if rt.EscalateAfter == 0 {
		return rt, true
	}
	for _, to := range r.provider.escalateTo {
		var c *trace.Contact
		switch to {
		case "police":
			rt.Escalation = append(rt.Escalation, Escalation{To: to, Recipient: r.police})
			continue
		case "upstream":
			c = tr.Upstream
		case "registrar":
			if tr.Domain != nil {
				c = tr.Domain.Registrar
			}
		}
		if c == nil || c.Email == "" {
			rt.Reasons = append(rt.Reasons, fmt.Sprintf("no %s contact to escalate to", to))
			continue
		}
		rt.Escalation = append(rt.Escalation, Escalation{To: to, Recipient: Recipient{Name: c.Name, Email: c.Email}})
	}
	return rt, true
}

func cmpOr(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
