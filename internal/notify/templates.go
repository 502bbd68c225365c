package notify

import (
	"bytes"
	"embed"
	"fmt"
	"io/fs"
	"strings"
	"text/template"
	"time"
)

//go:embed templates/*.tmpl
var embedded embed.FS

// DefaultTemplates are the embedded templates: one file per language,
// templates/LANG.tmpl, each defining every name in templateNames.
var DefaultTemplates fs.FS = embedded

// templateNames are the templates every language must define.
var templateNames = []string{
	"notice.subject", "notice.body",
	"renotice.subject", "renotice.body",
	"escalation.subject", "escalation.body",
	"forward.subject", "forward.body",
	"summary",
}

var funcs = template.FuncMap{
	// Times are shown in UTC so that rendering never depends on the
	// server's zone.
	"utc":  func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") },
	"date": func(t time.Time) string { return t.UTC().Format("2006-01-02") },
	"join": strings.Join,
	"inc":  func(i int) int { return i + 1 },
}

// templates holds one parsed set per language.
type templates map[Language]*template.Template

// loadTemplates parses templates/LANG.tmpl for every language from fsys
// and proves each one by rendering sample data, so that a missing language,
// a missing template or a misspelt field fails at start-up.
func loadTemplates(fsys fs.FS) (templates, error) {
	ts := templates{}
	for _, l := range Languages {
		name := "templates/" + string(l) + ".tmpl"
		src, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("notify: templates for %s: %w", l, err)
		}
		t, err := template.New(string(l)).Funcs(funcs).Option("missingkey=error").Parse(string(src))
		if err != nil {
			return nil, fmt.Errorf("notify: templates for %s: %w", l, err)
		}
		for _, n := range templateNames {
			if t.Lookup(n) == nil {
				return nil, fmt.Errorf("notify: templates for %s: %q is not defined", l, n)
			}
		}
		ts[l] = t
	}
	if err := ts.selfTest(); err != nil {
		return nil, err
	}
	return ts, nil
}

// execute renders one named template in one language; no language means
// English, the network's common language.
func (ts templates) execute(l Language, name string, data any) (string, error) {
	if l == "" {
		l = EN
	}
	t, ok := ts[l]
	if !ok {
		return "", fmt.Errorf("notify: unsupported language %q", l)
	}
	var b bytes.Buffer
	if err := t.ExecuteTemplate(&b, name, data); err != nil {
		return "", fmt.Errorf("notify: template %s/%s: %w", l, name, err)
	}
	return b.String(), nil
}

// selfTest renders every template with sample data.
func (ts templates) selfTest() error {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	n := noticeView{Notice: Notice{
		ID: "self-test", Kind: KindRenotice, Lang: EN, URL: "https://example.com/x",
		SeenAt: at, Category: "a", EvidenceRef: "ev-1", CaseRef: "C-1",
		Count: 2, FirstNoticeAt: at, Provider: "Example Hosting",
	}, Hotline: "Hotline"}
	f := forwardView{Hotline: "Hotline", CaseRef: "C-1", Items: 1, PackageName: "p.tar.age",
		PackageSHA256: strings.Repeat("0", 64), Encrypted: true, MediaIncluded: true}
	m := summaryView{Manifest: sampleManifest(at), Hotline: "Hotline"}
	for _, l := range Languages {
		for _, name := range templateNames {
			var data any = n
			switch {
			case strings.HasPrefix(name, "forward."):
				data = f
			case name == "summary":
				data = m
			}
			if _, err := ts.execute(l, name, data); err != nil {
				return err
			}
		}
	}
	return nil
}

// noticeView is what notice, renotice and escalation templates see.
type noticeView struct {
	Notice
	Hotline string
}

// forwardView is what the forward cover note sees: never URLs, which stay
// inside the (encrypted) package.
type forwardView struct {
	Hotline       string
	CaseRef       string
	Items         int
	PackageName   string
	PackageSHA256 string
	Encrypted     bool
	MediaIncluded bool
}

// summaryView is what summary.txt is rendered from.
type summaryView struct {
	Manifest
	Hotline string
}

func sampleManifest(at time.Time) Manifest {
	return Manifest{
		Format: ManifestFormat, ID: "self-test", CaseRef: "C-1", CreatedAt: at,
		Sender:    Party{Name: "Hotline", Country: "BE"},
		Recipient: Party{Name: "Police", Kind: "police", Country: "BE"},
		Items: []Item{{
			URL: "https://example.com/x", SeenAt: []time.Time{at, at}, Classification: "a", Severity: "high",
			Hosting: &Hosting{TracedAt: at, Host: "example.com", Addresses: []string{"192.0.2.1"},
				Country: "BE", ASN: 64500, Network: "Example", AbuseContact: "abuse@example.com",
				Registrar: "Registrar", CDN: "CDN"},
			EvidenceRefs: []string{"ev-1"},
			Media:        []Media{{SHA256: strings.Repeat("0", 64), MD5: strings.Repeat("0", 32), PDQ: strings.Repeat("0", 64), File: "media/x.age"}},
		}},
	}
}
