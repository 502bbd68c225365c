package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/vigil-hotline/vigil"
)

// Identity is the hotline's own face on the public pages: its name, logo,
// colours, imprint, privacy notice and the help routes shown on every
// public page. The zero Identity is valid: the pages then carry Vigil's
// neutral defaults and the EU-wide help numbers, so a fresh deployment
// works with no configuration.
type Identity struct {
	// Name per language ("" key: every language), e.g. "Child Focus".
	Name map[string]string `json:"name,omitempty"`
	// Logo is a PNG, JPEG, WebP or SVG file, read once at start-up.
	Logo string `json:"logo,omitempty"`
	// Colours of the public pages, as #rrggbb.
	Colours struct {
		Accent     string `json:"accent,omitempty"`
		Background string `json:"background,omitempty"`
		Text       string `json:"text,omitempty"`
	} `json:"colours"`
	// Imprint and Privacy are the legal notices per language, as plain
	// text (blank lines separate paragraphs). Empty: Vigil's own texts.
	Imprint map[string]string `json:"imprint,omitempty"`
	Privacy map[string]string `json:"privacy,omitempty"`
	// Help lists the help routes per language; a language not listed
	// gets the defaults (112, 116 000, Stop it Now!, 116 006).
	Help map[string][]HelpRoute `json:"help,omitempty"`

	logo     []byte
	logoType string
}

// HelpRoute is one place a visitor can turn to for help.
type HelpRoute struct {
	// Kind is emergency, helpline, stop-it-now or victims: what the
	// route is for, used to order and mark the routes.
	Kind  string `json:"kind"`
	Label string `json:"label"`
	Phone string `json:"phone,omitempty"`
	URL   string `json:"url,omitempty"`
	Text  string `json:"text,omitempty"`
}

// Tel is the phone number as dialled: no spaces.
func (r HelpRoute) Tel() string { return strings.ReplaceAll(r.Phone, " ", "") }

// Help-route kinds. Every language must keep an emergency number and a
// Stop it Now! link: the public pages promise them.
const (
	HelpEmergency = "emergency"
	HelpHelpline  = "helpline"
	HelpStopItNow = "stop-it-now"
	HelpVictims   = "victims"
)

var (
	colourRE = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)
	phoneRE  = regexp.MustCompile(`^[0-9+ ]{2,20}$`)
)

// maxLogoBytes keeps a logo a logo.
const maxLogoBytes = 512 << 10

// LoadIdentity reads an identity file (JSON) and the logo it names. An
// empty path gives the zero Identity.
func LoadIdentity(path string) (Identity, error) {
	var id Identity
	if path == "" {
		return id, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return id, fmt.Errorf("identity: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&id); err != nil {
		return id, fmt.Errorf("identity: %s: %w", path, err)
	}
	if err := id.Validate(); err != nil {
		return id, fmt.Errorf("identity: %s: %w", path, err)
	}
	return id, nil
}

// Validate checks the identity and reads its logo.
func (id *Identity) Validate() error {
	for _, c := range []string{id.Colours.Accent, id.Colours.Background, id.Colours.Text} {
		if c != "" && !colourRE.MatchString(c) {
			return fmt.Errorf("colour %q: want #rrggbb", c)
		}
	}
	for field, m := range map[string]map[string]string{"name": id.Name, "imprint": id.Imprint, "privacy": id.Privacy} {
		for l, s := range m {
			if _, ok := vigil.ParseLanguage(l); !ok && l != "" {
				return fmt.Errorf("%s: unknown language %q", field, l)
			}
			if !utf8.ValidString(s) || len(s) > 20000 || field == "name" && len(s) > 100 {
				return fmt.Errorf("%s (%s): too long or not valid text", field, l)
			}
		}
	}
	for l, routes := range id.Help {
		if _, ok := vigil.ParseLanguage(l); !ok {
			return fmt.Errorf("help: unknown language %q", l)
		}
		var emergency, stop bool
		for i, r := range routes {
			switch r.Kind {
			case HelpEmergency:
				emergency = true
			case HelpStopItNow:
				stop = true
			case HelpHelpline, HelpVictims:
			default:
				return fmt.Errorf("help.%s[%d]: kind %q: want emergency, helpline, stop-it-now or victims", l, i, r.Kind)
			}
			if r.Label == "" || len(r.Label) > 200 || len(r.Text) > 1000 {
				return fmt.Errorf("help.%s[%d]: a label (at most 200 bytes) is required, text at most 1000", l, i)
			}
			if r.Phone != "" && !phoneRE.MatchString(r.Phone) {
				return fmt.Errorf("help.%s[%d]: phone %q: digits, spaces and + only", l, i, r.Phone)
			}
			if r.URL != "" {
				if u, err := url.Parse(r.URL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
					return fmt.Errorf("help.%s[%d]: url %q: want an http(s) address", l, i, r.URL)
				}
			}
		}
		if !emergency || !stop {
			return fmt.Errorf("help.%s: an emergency number and a Stop it Now! route are required", l)
		}
	}
	if id.Logo != "" {
		b, err := os.ReadFile(id.Logo)
		if err != nil {
			return fmt.Errorf("logo: %w", err)
		}
		if len(b) > maxLogoBytes {
			return fmt.Errorf("logo: %d bytes, at most %d", len(b), maxLogoBytes)
		}
		t := http.DetectContentType(b)
		if strings.HasSuffix(strings.ToLower(id.Logo), ".svg") && bytes.Contains(b[:min(len(b), 1024)], []byte("<svg")) {
			t = "image/svg+xml"
		}
		switch t {
		case "image/png", "image/jpeg", "image/webp", "image/svg+xml":
		default:
			return fmt.Errorf("logo: %s is not a PNG, JPEG, WebP or SVG image", t)
		}
		id.logo, id.logoType = b, t
	}
	return nil
}

// name is the hotline's name in lang, or "" when none is configured.
func (id *Identity) name(lang vigil.Language) string {
	if n := id.Name[string(lang)]; n != "" {
		return n
	}
	return id.Name[""]
}

func (id *Identity) text(m map[string]string, lang vigil.Language) string {
	if s := m[string(lang)]; s != "" {
		return s
	}
	return m[""]
}

// defaultHelp holds the help routes a deployment gets without
// configuration: the EU-wide numbers (112 for emergencies, 116 000 for
// missing and sexually exploited children, 116 006 for victims of crime)
// and Stop it Now!. Labels and texts come from the catalogue.
var defaultHelp = []HelpRoute{
	{Kind: HelpEmergency, Label: "help_emergency", Phone: "112", Text: "help_emergency_text"},
	{Kind: HelpHelpline, Label: "help_helpline", Phone: "116 000", Text: "help_helpline_text"},
	{Kind: HelpStopItNow, Label: "help_stopitnow", URL: "help_stopitnow_url", Text: "help_stopitnow_text"},
	{Kind: HelpVictims, Label: "help_victims", Phone: "116 006", Text: "help_victims_text"},
}

// helpRoutes are the help routes for lang: configured, or the defaults in
// lang's words.
func (s *Server) helpRoutes(lang vigil.Language) []HelpRoute {
	if r, ok := s.cfg.Identity.Help[string(lang)]; ok {
		return r
	}
	out := make([]HelpRoute, len(defaultHelp))
	for i, r := range defaultHelp {
		out[i] = HelpRoute{Kind: r.Kind, Label: s.catalog.T(lang, r.Label), Phone: r.Phone, Text: s.catalog.T(lang, r.Text)}
		if r.URL != "" {
			out[i].URL = s.catalog.T(lang, r.URL)
		}
	}
	return out
}

// identityCSS overrides the style sheet's colours with the hotline's.
// It is served as a file (/identity.css) because the CSP allows no inline
// styles.
func (id *Identity) css() []byte {
	var b bytes.Buffer
	b.WriteString(":root {")
	for _, v := range []struct{ prop, val string }{
		{"--accent", id.Colours.Accent}, {"--bg", id.Colours.Background}, {"--fg", id.Colours.Text},
	} {
		if v.val != "" {
			fmt.Fprintf(&b, " %s: %s;", v.prop, v.val)
		}
	}
	b.WriteString(" }\n")
	return b.Bytes()
}

// publicChrome is what the layout shows around every public page.
type publicChrome struct {
	// Name is the hotline's name, or the catalogue's default.
	Name    string
	HasLogo bool
	Help    []HelpRoute
	// Remove: the victim's pages are served.
	Remove bool
}

func (s *Server) chrome(lang vigil.Language) *publicChrome {
	c := &publicChrome{Name: s.cfg.Identity.name(lang), HasLogo: s.cfg.Identity.logo != nil, Help: s.helpRoutes(lang),
		Remove: s.cfg.Victims != nil}
	if c.Name == "" {
		c.Name = s.catalog.T(lang, "site_name")
	}
	return c
}

// paragraphs splits plain text at blank lines, for the legal pages.
func paragraphs(s string) []string {
	var out []string
	for _, p := range strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n\n") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
