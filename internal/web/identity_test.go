package web_test

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-hotline/vigil/internal/storetest"
	"github.com/vigil-hotline/vigil/internal/web"
)

// publicPages returns every public page in lang, the thank-you page
// included, as a visitor sees them.
func publicPages(t *testing.T, e *env, lang string) map[string]string {
	t.Helper()
	c := e.browser()
	pages := map[string]string{}
	for _, p := range []string{"/", "/status", "/imprint", "/privacy", "/remove", "/remove/status"} {
		resp, body := e.get(c, p+"?lang="+lang)
		if resp.StatusCode != 200 {
			t.Fatalf("%s in %s: status %d", p, lang, resp.StatusCode)
		}
		pages[p] = body
	}
	tok := e.formToken(c, "/?lang="+lang)
	resp, body := e.postForm(c, "/report", url.Values{"csrf": {tok}, "lang": {lang}, "urls": {"https://example.com/" + lang}})
	if resp.StatusCode != 200 || !codeRE.MatchString(body) {
		t.Fatalf("report in %s: status %d", lang, resp.StatusCode)
	}
	pages["thank-you"] = body
	return pages
}

// TestHelpRoutesOnEveryPublicPage: with no configuration, every public
// page in every language shows the emergency number, Stop it Now!, the
// helpline and victim support, and names Vigil only as the default.
func TestHelpRoutesOnEveryPublicPage(t *testing.T) {
	db := storetest.Open(t, "sqlite")
	e := newEnv(t, db, withVictims(db))
	for _, lang := range []string{"nl", "fr", "de", "en"} {
		for name, body := range publicPages(t, e, lang) {
			for _, want := range []string{`id="help"`, `href="tel:112"`, "Stop it Now!", "stopitnow", `href="tel:116000"`,
				`href="tel:116006"`, `id="footer"`, "Vigil"} {
				if !strings.Contains(body, want) {
					t.Errorf("%s in %s lacks %q", name, lang, want)
				}
			}
		}
	}
	// Staff pages carry no help routes and no public footer.
	if _, body := e.get(e.browser(), "/staff/login"); strings.Contains(body, `id="help"`) {
		t.Error("the staff login page shows the public help routes")
	}
}

// TestConfiguredIdentity: a configured name, logo, colours, legal texts
// and help routes replace Vigil's on the public pages; Vigil stays in the
// footer.
func TestConfiguredIdentity(t *testing.T) {
	dir := t.TempDir()
	img := image.NewRGBA(image.Rect(0, 0, 8, 8))
	img.Set(1, 1, color.RGBA{200, 0, 0, 255})
	var logo bytes.Buffer
	if err := png.Encode(&logo, img); err != nil {
		t.Fatal(err)
	}
	logoPath := filepath.Join(dir, "logo.png")
	if err := os.WriteFile(logoPath, logo.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	idPath := filepath.Join(dir, "identity.json")
	err := os.WriteFile(idPath, []byte(`{
	  "name": {"": "Child Focus", "fr": "Child Focus FR"},
	  "logo": "`+logoPath+`",
	  "colours": {"accent": "#e30613"},
	  "imprint": {"": "Child Focus, Avenue Houba de Strooper 292, 1020 Brussels."},
	  "help": {"nl": [
	    {"kind": "emergency", "label": "Noodnummer", "phone": "112"},
	    {"kind": "helpline", "label": "Child Focus", "phone": "116 000"},
	    {"kind": "stop-it-now", "label": "Stop it Now! Vlaanderen", "url": "https://stopitnow.be"}
	  ]}
	}`), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	id, err := web.LoadIdentity(idPath)
	if err != nil {
		t.Fatal(err)
	}
	db := storetest.Open(t, "sqlite")
	e := newEnv(t, db, withVictims(db), func(c *web.Config) { c.Identity = id })
	for _, lang := range []string{"nl", "fr", "de", "en"} {
		want := "Child Focus"
		if lang == "fr" {
			want = "Child Focus FR"
		}
		for name, body := range publicPages(t, e, lang) {
			if !strings.Contains(body, `<span id="site-name">`+want+`</span>`) || !strings.Contains(body, `src="/identity/logo"`) ||
				!strings.Contains(body, "· "+want+"</title>") || !strings.Contains(body, `href="tel:112"`) {
				t.Errorf("%s in %s: the configured name, logo or help routes are missing", name, lang)
			}
			if strings.Contains(body, "Vigil reporting point") {
				t.Errorf("%s in %s still names Vigil as the site", name, lang)
			}
			if lang == "nl" && !strings.Contains(body, "Stop it Now! Vlaanderen") {
				t.Errorf("%s in nl lacks the configured help route", name)
			}
		}
	}
	c := e.browser()
	resp, body := e.get(c, "/identity/logo")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/png" || body != logo.String() {
		t.Errorf("logo: status %d type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if _, css := e.get(c, "/identity.css"); !strings.Contains(css, "--accent: #e30613") {
		t.Errorf("identity.css: %q", css)
	}
	if _, body := e.get(c, "/imprint?lang=de"); !strings.Contains(body, "Houba de Strooper") {
		t.Error("the configured imprint is not shown")
	}

	for _, bad := range []string{
		`{"colours": {"accent": "red; background: url(x)"}}`,
		`{"help": {"en": [{"kind": "helpline", "label": "x", "phone": "116 000"}]}}`,
		`{"help": {"xx": []}}`,
		`{"logo": "` + idPath + `"}`,
		`{"nom": "x"}`,
	} {
		p := filepath.Join(dir, "bad.json")
		_ = os.WriteFile(p, []byte(bad), 0o600)
		if _, err := web.LoadIdentity(p); err == nil {
			t.Errorf("identity %s accepted", bad)
		}
	}
}
