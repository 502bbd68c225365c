package route

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/mail"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"

	"filippo.io/age"
)

// Config is the routing file (JSON; see default.json for a full example).
// Omitted fields take the defaults documented on each.
type Config struct {
	Comment     string   `json:"comment,omitempty"`      // ignored: JSON has no comments
	HomeCountry string   `json:"home_country,omitempty"` // ISO alpha-2; default "BE"
	TimeZone    string   `json:"time_zone,omitempty"`    // IANA zone for working days; default "Europe/Brussels"
	Holidays    []string `json:"holidays,omitempty"`     // public holidays, YYYY-MM-DD
	// Defaults apply to every route; the sections below override them.
	Defaults  Options                `json:"defaults"`
	Police    Contact                `json:"police"`
	Hotlines  []PartnerHotline       `json:"hotlines,omitempty"`
	Provider  ProviderRule           `json:"provider"`
	Home      HomeRule               `json:"home"`
	Elsewhere ElsewhereRule          `json:"elsewhere"`
	Countries map[string]CountryRule `json:"countries,omitempty"` // per hosting country, overriding Elsewhere
	// Victim is the route of matches in the victim bank (issue 20).
	Victim VictimRule `json:"victim"`
	// Simulation allows renotice intervals under a minute, for the demo and
	// tests, which compress days into seconds. Never set it in production.
	Simulation bool `json:"simulation,omitempty"`
}

// Contact is a recipient of forwards, with its options.
type Contact struct {
	Comment   string  `json:"comment,omitempty"`
	Name      string  `json:"name"`
	Email     string  `json:"email"`
	PublicKey string  `json:"public_key,omitempty"` // age X25519 recipient, "age1…"
	Language  string  `json:"language,omitempty"`   // e.g. "nl", "fr", "en"
	Options   Options `json:"options"`
}

// PartnerHotline is a partner hotline and the hosting countries it covers.
type PartnerHotline struct {
	Countries []string `json:"countries"`
	Contact
}

// ProviderRule holds the options of notices sent straight to providers.
type ProviderRule struct {
	Options Options `json:"options"`
}

// HomeRule: content in the home country always goes to the police; with
// Provider, the provider is also notified (default: the police decide).
type HomeRule struct {
	Provider bool `json:"provider,omitempty"`
}

// ElsewhereRule is for countries with no partner hotline. Police defaults
// to true; Provider to false.
type ElsewhereRule struct {
	Police   *bool `json:"police,omitempty"`
	Provider bool  `json:"provider,omitempty"`
}

// VictimRule routes content that the person shown asked to have removed
// (severity SelfReported): a priority notice to the provider wherever it
// is hosted, since the person wants it gone, not investigated. Provider
// defaults to true, Police to false; with no provider contact it goes to
// the police. Options default to the provider's, with a deadline of 4
// hours and renotices every 12 hours.
type VictimRule struct {
	Provider *bool   `json:"provider,omitempty"`
	Police   *bool   `json:"police,omitempty"`
	Options  Options `json:"options"`
}

// SelfReported is the severity (and classification) of victim-bank
// matches: "reported by the person shown" (vigil.ClassSelfReported).
const SelfReported = "self-reported"

// CountryRule overrides ElsewhereRule for one country.
type CountryRule struct {
	Police   *bool `json:"police,omitempty"`
	Provider *bool `json:"provider,omitempty"`
}

// Options tune a route. Empty fields inherit.
type Options struct {
	Deadline           string            `json:"deadline,omitempty"`             // default "1 working day"
	DeadlineBySeverity map[string]string `json:"deadline_by_severity,omitempty"` // severity → deadline
	IncludeMedia       *bool             `json:"include_media,omitempty"`        // default false; needs public_key
	NoticeLanguage     string            `json:"notice_language,omitempty"`      // default: the recipient's, else "en"
	RenoticeInterval   string            `json:"renotice_interval,omitempty"`    // provider only; default "24h"
	EscalateAfter      *int              `json:"escalate_after,omitempty"`       // provider only; renotices before escalating; default 3, 0: never
	EscalateTo         []string          `json:"escalate_to,omitempty"`          // provider only; "upstream", "registrar", "police"; default ["upstream"]
}

// EscalationTargets are the values escalate_to accepts.
var EscalationTargets = []string{"upstream", "registrar", "police"}

//go:embed default.json
var defaultJSON []byte

// DefaultJSON returns the example configuration: home BE, the police
// and INHOPE partner hotlines with example (.invalid) addresses and
// example keys nobody holds. A deployment replaces every contact.
func DefaultJSON() []byte { return bytes.Clone(defaultJSON) }

// Default returns the rules of DefaultJSON.
func Default() *Rules {
	r, err := Parse(defaultJSON)
	if err != nil {
		panic("route: default.json: " + err.Error())
	}
	return r
}

// MaxConfigBytes bounds a routing file: a real one is a few kilobytes, and
// a file of any size must not take the server's memory at start-up.
const MaxConfigBytes = 1 << 20

// Load reads and validates a routing file.
func Load(path string) (*Rules, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("route config: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxConfigBytes+1))
	if err != nil {
		return nil, fmt.Errorf("route config: %w", err)
	}
	r, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("route config %s: %w", path, err)
	}
	return r, nil
}

// FieldError is one problem in a routing file.
type FieldError struct {
	Line  int    // 1-based; 0 when unknown
	Field string // JSON path such as "hotlines[1].email"
	Msg   string
}

// Error quotes at most a short prefix of the field and message, which may
// hold text of the file (a key or a value of any length).
func (e *FieldError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("line %d: %s: %s", e.Line, short(e.Field, 80), short(e.Msg, 200))
	}
	return fmt.Sprintf("%s: %s", short(e.Field, 80), short(e.Msg, 200))
}

func short(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "…"
}

// Parse decodes and validates a routing file. Every problem found is
// reported (joined *FieldError values), not just the first.
func Parse(data []byte) (*Rules, error) {
	if len(data) > MaxConfigBytes {
		return nil, &FieldError{Field: "(file)", Msg: fmt.Sprintf("larger than %d bytes", MaxConfigBytes)}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var cfg Config
	if err := dec.Decode(&cfg); err != nil {
		return nil, jsonError(data, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, &FieldError{Line: lineAt(data, int(dec.InputOffset())), Field: "(file)", Msg: "data after the configuration object"}
	}
	v := &validator{pos: positions(data), data: data, minInterval: time.Minute}
	if cfg.Simulation {
		v.minInterval = time.Millisecond
	}
	r := compile(cfg, v)
	if len(v.errs) > 0 {
		return nil, errors.Join(v.errs...)
	}
	return r, nil
}

// jsonError turns a decoding error into a FieldError with its line.
func jsonError(data []byte, err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return &FieldError{Line: lineAt(data, int(syn.Offset)), Field: "(syntax)", Msg: syn.Error()}
	case errors.As(err, &typ):
		return &FieldError{Line: lineAt(data, int(typ.Offset)), Field: typ.Field,
			Msg: fmt.Sprintf("want %s, not a JSON %s", typ.Type, typ.Value)}
	case strings.HasPrefix(err.Error(), "json: unknown field"):
		// encoding/json gives no offset for unknown fields; find the key.
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		line := 0
		if i := bytes.Index(data, []byte(`"`+name+`"`)); i >= 0 {
			line = lineAt(data, i)
		}
		return &FieldError{Line: line, Field: name, Msg: "unknown field"}
	case errors.Is(err, io.EOF):
		return &FieldError{Field: "(file)", Msg: "empty"}
	}
	return &FieldError{Field: "(file)", Msg: err.Error()}
}

func lineAt(data []byte, off int) int {
	off = min(max(off, 0), len(data))
	return bytes.Count(data[:off], []byte("\n")) + 1
}

// positions maps JSON paths ("hotlines[1].email") to byte offsets so that
// semantic errors can name a line.
func positions(data []byte) map[string]int {
	pos := map[string]int{}
	dec := json.NewDecoder(bytes.NewReader(data))
	var walk func(path string) error
	walk = func(path string) error {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		if _, ok := pos[path]; !ok {
			pos[path] = int(dec.InputOffset())
		}
		switch tok {
		case json.Delim('{'):
			for dec.More() {
				k, err := dec.Token()
				if err != nil {
					return err
				}
				p := fmt.Sprint(k)
				if path != "" {
					p = path + "." + p
				}
				pos[p] = int(dec.InputOffset())
				if err := walk(p); err != nil {
					return err
				}
			}
			_, err = dec.Token()
		case json.Delim('['):
			for i := 0; dec.More(); i++ {
				if err := walk(fmt.Sprintf("%s[%d]", path, i)); err != nil {
					return err
				}
			}
			_, err = dec.Token()
		}
		return err
	}
	_ = walk("")
	return pos
}

type validator struct {
	pos  map[string]int
	data []byte
	errs []error
	// minInterval is the shortest renotice interval accepted.
	minInterval time.Duration
}

// errf records a problem at field (or its nearest present parent).
func (v *validator) errf(field, format string, args ...any) {
	line := 0
	for p := field; p != ""; {
		if off, ok := v.pos[p]; ok {
			line = lineAt(v.data, off)
			break
		}
		i := strings.LastIndexAny(p, ".[")
		if i < 0 {
			break
		}
		p = p[:i]
	}
	v.errs = append(v.errs, &FieldError{Line: line, Field: field, Msg: fmt.Sprintf(format, args...)})
}

var (
	countryRE  = regexp.MustCompile(`^[A-Z]{2}$`)
	languageRE = regexp.MustCompile(`^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$`)
)

func (v *validator) country(field, c string) string {
	c = strings.ToUpper(strings.TrimSpace(c))
	if !countryRE.MatchString(c) {
		v.errf(field, "%q is not an ISO 3166-1 alpha-2 country code", c)
	}
	return c
}

// contact checks a recipient's fields.
func (v *validator) contact(field string, c Contact) Recipient {
	if strings.TrimSpace(c.Name) == "" {
		v.errf(field+".name", "required")
	}
	email := strings.TrimSpace(c.Email)
	if email == "" {
		v.errf(field+".email", "required")
	} else if a, err := mail.ParseAddress(email); err != nil || a.Address != email {
		v.errf(field+".email", "%q is not a plain e-mail address", email)
	}
	if c.PublicKey != "" {
		if _, err := age.ParseX25519Recipient(strings.TrimSpace(c.PublicKey)); err != nil {
			v.errf(field+".public_key", "not an age X25519 recipient (age1…): %v", err)
		}
	}
	if c.Language != "" && !languageRE.MatchString(c.Language) {
		v.errf(field+".language", "%q is not a language tag such as \"nl\" or \"fr-BE\"", c.Language)
	}
	return Recipient{Name: strings.TrimSpace(c.Name), Email: email,
		PublicKey: strings.TrimSpace(c.PublicKey), Language: c.Language}
}

// settings are resolved Options.
type settings struct {
	deadline      Deadline
	bySeverity    map[string]Deadline
	includeMedia  bool
	language      string
	renotice      time.Duration
	escalateAfter int
	escalateTo    []string
}

var builtin = settings{deadline: Deadline{WorkingDays: 1}, renotice: 24 * time.Hour,
	escalateAfter: 3, escalateTo: []string{"upstream"}}

// options layers o over base. providerOnly fields are refused outside
// provider and default sections: police and hotlines are forwarded once,
// and follow-up is theirs.
func (v *validator) options(field string, base settings, o Options, provider bool) settings {
	s := base
	s.bySeverity = map[string]Deadline{}
	for k, d := range base.bySeverity {
		s.bySeverity[k] = d
	}
	if o.Deadline != "" {
		d, err := ParseDeadline(o.Deadline)
		if err != nil {
			v.errf(field+".deadline", "%v", err)
		}
		s.deadline = d
	}
	for sev, ds := range o.DeadlineBySeverity {
		d, err := ParseDeadline(ds)
		if err != nil {
			v.errf(field+".deadline_by_severity."+sev, "%v", err)
		}
		s.bySeverity[normSeverity(sev)] = d
	}
	if o.IncludeMedia != nil {
		s.includeMedia = *o.IncludeMedia
	}
	if o.NoticeLanguage != "" {
		if !languageRE.MatchString(o.NoticeLanguage) {
			v.errf(field+".notice_language", "%q is not a language tag", o.NoticeLanguage)
		}
		s.language = o.NoticeLanguage
	}
	if !provider && (o.RenoticeInterval != "" || o.EscalateAfter != nil || o.EscalateTo != nil) {
		v.errf(field, "renotice_interval, escalate_after and escalate_to apply to provider notices only")
	}
	if o.RenoticeInterval != "" {
		d, err := time.ParseDuration(o.RenoticeInterval)
		if err != nil || d < v.minInterval {
			v.errf(field+".renotice_interval", "%q: want a duration of at least %s, such as \"24h\"", o.RenoticeInterval, v.minInterval)
		}
		s.renotice = d
	}
	if o.EscalateAfter != nil {
		if *o.EscalateAfter < 0 {
			v.errf(field+".escalate_after", "must not be negative")
		}
		s.escalateAfter = *o.EscalateAfter
	}
	if o.EscalateTo != nil {
		s.escalateTo = nil
		for i, t := range o.EscalateTo {
			if !slices.Contains(EscalationTargets, t) {
				v.errf(fmt.Sprintf("%s.escalate_to[%d]", field, i), "%q: want one of %s", t, strings.Join(EscalationTargets, ", "))
			}
			s.escalateTo = append(s.escalateTo, t)
		}
	}
	return s
}

func normSeverity(s string) string { return strings.ToLower(strings.TrimSpace(s)) }
