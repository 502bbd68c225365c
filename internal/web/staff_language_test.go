package web_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/storetest"
)

// TestStaffLanguageChoice: the staff pages follow the browser until the
// staff member chooses a language in the menu; the choice is the
// account's, kept over the browser's; ?lang= shows one page in another.
func TestStaffLanguageChoice(t *testing.T) {
	e := newEnv(t, storetest.Open(t, "sqlite"))
	e.addUser("ilse", vigil.RoleAdmin, "a long admin password")
	lang := func(body string) string {
		_, rest, _ := strings.Cut(body, `<html lang="`)
		l, _, _ := strings.Cut(rest, `"`)
		return l
	}
	// The sign-in page has its own switch; a refusal keeps its language.
	anon := e.browser()
	if _, body := e.get(anon, "/staff/login?lang=nl"); lang(body) != "nl" || !strings.Contains(body, "Aanmelden") {
		t.Errorf("sign-in ?lang=nl: page in %q", lang(body))
	}
	tok := e.formToken(anon, "/staff/login")
	if _, body := e.postForm(anon, "/staff/login", url.Values{"csrf": {tok}, "lang": {"de"}, "name": {"ilse"}, "password": {"wrong password!"}}); lang(body) != "de" ||
		!strings.Contains(body, "Falscher Name oder falsches Passwort") {
		t.Errorf("refused sign-in in de: page in %q", lang(body))
	}
	c := e.login("ilse", "a long admin password")
	if _, body := e.get(c, "/staff/", "Accept-Language", "fr-BE,fr;q=0.9"); lang(body) != "fr" || !strings.Contains(body, "Aperçu") ||
		!strings.Contains(body, "administrateur") {
		t.Errorf("Accept-Language fr: page in %q", lang(body))
	}
	if _, body := e.get(c, "/staff/"); lang(body) != "en" || !strings.Contains(body, `id="staff-langs"`) {
		t.Errorf("no Accept-Language: page in %q, or no language switch", lang(body))
	}
	tok = e.formToken(c, "/staff/")
	if resp, _ := e.postForm(c, "/staff/language", url.Values{"lang": {"nl"}, "back": {"/staff/users"}}); resp.StatusCode != 403 {
		t.Errorf("language without the form token: %d", resp.StatusCode)
	}
	if resp, _ := e.postForm(c, "/staff/language", url.Values{"csrf": {tok}, "lang": {"xx"}, "back": {"/staff/users"}}); resp.StatusCode != 400 {
		t.Errorf("language xx: %d", resp.StatusCode)
	}
	resp, _ := e.postForm(c, "/staff/language", url.Values{"csrf": {tok}, "lang": {"nl"}, "back": {"/staff/users?lang=fr"}})
	if resp.StatusCode != 303 || resp.Header.Get("Location") != "/staff/users" {
		t.Errorf("language nl: %d → %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if u := e.user("ilse"); u.Language != vigil.LangNL {
		t.Errorf("stored language %q", u.Language)
	}
	if _, body := e.get(c, "/staff/", "Accept-Language", "fr"); lang(body) != "nl" || !strings.Contains(body, "Overzicht") {
		t.Errorf("after choosing nl, with Accept-Language fr: page in %q", lang(body))
	}
	if _, body := e.get(c, "/staff/?lang=de"); lang(body) != "de" || !strings.Contains(body, "Übersicht") {
		t.Errorf("?lang=de: page in %q", lang(body))
	}
}
