package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/vigil-hotline/vigil/internal/store"
	"github.com/vigil-hotline/vigil/internal/storetest"
	"github.com/vigil-hotline/vigil/internal/web"
)

var titles = map[string]string{
	"en": "Report child sexual abuse material",
	"nl": "Meld beelden van seksueel misbruik van kinderen",
	"fr": "Signaler des images d&#39;abus sexuels sur des enfants",
	"de": "Darstellungen sexuellen Missbrauchs von Kindern melden",
}

func TestFormLanguageAndHeaders(t *testing.T) {
	e := newEnv(t, storetest.Open(t, "sqlite"))
	c := e.browser()
	for accept, want := range map[string]string{
		"nl-BE,nl;q=0.9,en;q=0.5": "nl", "fr-BE": "fr", "de-DE,de;q=0.8": "de", "en-GB": "en", "ja-JP": "en", "": "en",
	} {
		resp, body := e.get(c, "/", "Accept-Language", accept)
		if resp.StatusCode != 200 || !strings.Contains(body, titles[want]) || !strings.Contains(body, `<html lang="`+want+`">`) {
			t.Errorf("Accept-Language %q: status %d, want the %s page", accept, resp.StatusCode, want)
		}
	}
	// The switcher overrides the browser.
	if _, body := e.get(c, "/?lang=de", "Accept-Language", "fr"); !strings.Contains(body, titles["de"]) {
		t.Error("?lang=de did not give the German page")
	}
	resp, _ := e.get(e.browser(), "/")
	h := resp.Header
	for name, want := range map[string]string{
		"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY",
		"Cache-Control": "no-store",
	} {
		if h.Get(name) != want {
			t.Errorf("%s = %q, want %q", name, h.Get(name), want)
		}
	}
	csp := h.Get("Content-Security-Policy")
	for _, part := range []string{"default-src 'none'", "frame-ancestors 'none'", "form-action 'self'", "style-src 'self'"} {
		if !strings.Contains(csp, part) {
			t.Errorf("CSP %q lacks %q", csp, part)
		}
	}
	if strings.Contains(csp, "http") || strings.Contains(csp, "unsafe") {
		t.Errorf("CSP allows more than Vigil itself: %q", csp)
	}
	// The CSRF cookie is the only cookie, HttpOnly and SameSite=Strict.
	cookies := resp.Cookies()
	if len(cookies) != 1 || cookies[0].Name != "vigil_csrf" || !cookies[0].HttpOnly || cookies[0].SameSite != http.SameSiteStrictMode {
		t.Errorf("cookies: %+v", cookies)
	}
	if resp, _ := e.get(c, "/static/style.css"); resp.StatusCode != 200 || resp.Header.Get("Content-Security-Policy") == "" {
		t.Errorf("style sheet: %d", resp.StatusCode)
	}
}

// TestReportEachLanguage files a report in each language, on each store,
// and finds it on the status page.
func TestReportEachLanguage(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		for _, lang := range []string{"nl", "fr", "de", "en"} {
			c := e.browser()
			tok := e.formToken(c, "/?lang="+lang)
			resp, body := e.postForm(c, "/report", url.Values{
				"csrf": {tok}, "lang": {lang}, "urls": {"https://" + lang + ".example/gallery\r\nwww.example.net/x"},
				"saw_images": {"1"}, "description": {"test " + lang},
			})
			m := codeRE.FindStringSubmatch(body)
			if resp.StatusCode != 200 || m == nil {
				t.Fatalf("%s: status %d, no tracking code", lang, resp.StatusCode)
			}
			if !strings.Contains(body, `<html lang="`+lang+`">`) {
				t.Errorf("%s: confirmation not in the reporter's language", lang)
			}
			tok = e.formToken(c, "/status?lang="+lang)
			resp, body = e.postForm(c, "/status", url.Values{"csrf": {tok}, "lang": {lang}, "code": {strings.ToLower(m[1])}})
			if resp.StatusCode != 200 || !strings.Contains(body, `id="status"`) || !strings.Contains(body, m[1]) {
				t.Errorf("%s: status page: %d", lang, resp.StatusCode)
			}
		}
		if n := e.reportCount(); n != 4 {
			t.Errorf("%d reports stored, want 4", n)
		}
	})
}

func TestStatusUnknownCode(t *testing.T) {
	e := newEnv(t, storetest.Open(t, "sqlite"))
	c := e.browser()
	for code, want := range map[string]int{"AAAA-BBBB-CCCC-DDDD": 404, "nonsense": 400} {
		tok := e.formToken(c, "/status?lang=nl")
		resp, body := e.postForm(c, "/status", url.Values{"csrf": {tok}, "lang": {"nl"}, "code": {code}})
		if resp.StatusCode != want || !strings.Contains(body, `class="error"`) {
			t.Errorf("code %q: status %d, want %d", code, resp.StatusCode, want)
		}
	}
	resp, _ := e.postForm(c, "/status", url.Values{"code": {"AAAA-BBBB-CCCC-DDDD"}})
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("status look-up without CSRF token: %d", resp.StatusCode)
	}
}

// TestReportRefusals covers each bad input: a 4xx, a message in the
// reporter's language, and nothing stored.
func TestReportRefusals(t *testing.T) {
	e := newEnv(t, storetest.Open(t, "sqlite"))
	good := func() url.Values {
		return url.Values{"lang": {"fr"}, "urls": {"https://example.com/a"}, "description": {"vu"}}
	}
	with := func(k, v string) url.Values { f := good(); f.Set(k, v); return f }
	many := strings.Repeat("https://example.com/p\n", 50) + "https://example.com/last"
	cases := []struct {
		name   string
		form   url.Values
		noCSRF bool
		badTok bool
		status int
		msg    string
	}{
		{"no CSRF token", good(), true, false, 403, "Le formulaire a expiré"},
		{"forged CSRF token", good(), false, true, 403, "Le formulaire a expiré"},
		{"honeypot filled", with("website", "http://spam.example"), false, false, 400, "n&#39;a pas pu être accepté"},
		{"no URL", with("urls", "  \n "), false, false, 400, "au moins une adresse"},
		{"51 URLs", with("urls", many), false, false, 400, "50 adresses"},
		{"ftp URL", with("urls", "ftp://example.com/x"), false, false, 400, "http:// ou https://"},
		{"javascript URL", with("urls", "javascript:alert(1)"), false, false, 400, "http:// ou https://"},
		{"URL without host", with("urls", "http:///path"), false, false, 400, "nom de site"},
		{"URL with spaces", with("urls", "http://exa mple.com/"), false, false, 400, "pas valide"},
		{"URL too long", with("urls", "https://example.com/"+strings.Repeat("a", 2100)), false, false, 400, "trop longue"},
		{"invalid UTF-8", with("description", "caf\xe9"), false, false, 400, "illisibles"},
		{"description too long", with("description", strings.Repeat("é", 5001)), false, false, 400, "trop longue"},
		{"bad contact", with("contact", "not-an-address"), false, false, 400, "adresse e-mail"},
		{"body too large", with("description", strings.Repeat("x", 300<<10)), false, false, 413, "trop volumineux"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := e.browser()
			tok := e.formToken(c, "/?lang=fr")
			if !tc.noCSRF {
				if tc.badTok {
					tok = "forged.token"
				}
				tc.form.Set("csrf", tok)
			}
			// The form posts to /report?lang=…, so that even a body too
			// large to read is refused in the reporter's language.
			resp, body := e.postForm(c, "/report?lang=fr", tc.form)
			if resp.StatusCode != tc.status {
				t.Errorf("status %d, want %d", resp.StatusCode, tc.status)
			}
			if !strings.Contains(body, tc.msg) || !strings.Contains(body, `lang="fr"`) {
				t.Errorf("message %q not on the French page: %.300s", tc.msg, body[strings.Index(body, "<main>"):])
			}
			if n := e.reportCount(); n != 0 {
				t.Fatalf("%d reports stored after a refusal", n)
			}
		})
	}
}

func TestReportRateLimit(t *testing.T) {
	e := newEnv(t, storetest.Open(t, "sqlite"), func(c *web.Config) { c.FormRate = web.Rate{Count: 3, Per: 60e9} })
	c := e.browser()
	tok := e.formToken(c, "/?lang=de")
	for i := 0; i < 4; i++ {
		resp, body := e.postForm(c, "/report", url.Values{"csrf": {tok}, "lang": {"de"}, "urls": {"https://example.com/" + string(rune('a'+i))}})
		want := 200
		if i == 3 {
			want = 429
			if !strings.Contains(body, "Zu viele Meldungen") {
				t.Error("rate limit message not in German")
			}
		}
		if resp.StatusCode != want {
			t.Errorf("report %d: status %d, want %d", i, resp.StatusCode, want)
		}
	}
	if n := e.reportCount(); n != 3 {
		t.Errorf("%d reports stored, want 3", n)
	}
}
