package web_test

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"regexp"
	"strings"
	"testing"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/storetest"
	"github.com/vigil-hotline/vigil/internal/web"
)

// anyKeyRE finds a catalogue key left on a page (a text nobody
// translated shows as its key, such as "partners_title").
var anyKeyRE = regexp.MustCompile(`\b[a-z]{2,}_[a-z0-9_]*[a-z]\b`)

// pageText is what a reader sees of a page: its text and the titles,
// placeholders and confirmations of its elements, without markup.
func pageText(body string) string {
	body = regexp.MustCompile(`(?s)<script.*?</script>`).ReplaceAllString(body, " ")
	var seen []string
	for _, m := range regexp.MustCompile(`(?:title|placeholder|aria-label|data-confirm)="([^"]*)"`).FindAllStringSubmatch(body, -1) {
		seen = append(seen, m[1])
	}
	body = regexp.MustCompile(`(?s)<[^>]*>`).ReplaceAllString(body, " ")
	return body + " " + strings.Join(seen, " ")
}

// checkLanguage fails when a page shows a raw key or lacks the texts of
// its language.
func checkLanguage(t *testing.T, what, body string, want ...string) {
	t.Helper()
	text := pageText(body)
	if k := anyKeyRE.FindAllString(text, -1); len(k) > 0 {
		t.Errorf("%s shows raw keys %q", what, k)
	}
	for _, w := range want {
		if !strings.Contains(text, w) {
			t.Errorf("%s lacks %q:\n%s", what, w, text)
		}
	}
}

// TestStaffAdminPagesLanguages: the partners page (and its notices) reads
// in each staff language, with no key left untranslated.
func TestStaffAdminPagesLanguages(t *testing.T) {
	db := storetest.Open(t, "sqlite")
	e := newEnv(t, db, func(c *web.Config) { c.Federation.PublicKey = "OUR-PUBLIC-KEY" })
	e.addUser("admin", vigil.RoleAdmin, "a long admin password")
	admin := e.login("admin", "a long admin password")
	pub, _, _ := ed25519.GenerateKey(nil)
	for _, p := range []*vigil.Partner{
		{Name: "meldpunt", Countries: []string{"NL"}, BaseURL: "https://vigil.example.nl", APIKey: "vgl_their_key", AcceptBaseline: true},
		{Name: "pointdecontact", Countries: []string{"FR"}},
	} {
		p.PublicKey = base64.StdEncoding.EncodeToString(pub)
		if err := db.CreatePartner(context.Background(), p); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		lang                        vigil.Language
		title, email, media, notice string
	}{
		{vigil.LangEN, "Partner hotlines", "e-mail package", "hashes only", "The partner was added."},
		{vigil.LangNL, "Partnerhotlines", "e-mailpakket", "enkel hashes", "De partner is toegevoegd."},
		{vigil.LangFR, "Hotlines partenaires", "paquet par e-mail", "empreintes seulement", "Le partenaire a été ajouté."},
		{vigil.LangDE, "Partner-Hotlines", "E-Mail-Paket", "nur Hashes", "Der Partner wurde hinzugefügt."},
	} {
		t.Run(string(tc.lang), func(t *testing.T) {
			resp, body := e.get(admin, "/staff/partners?done=added&lang="+string(tc.lang))
			if resp.StatusCode != 200 {
				t.Fatalf("partners: %d", resp.StatusCode)
			}
			checkLanguage(t, "partners", body, tc.title, tc.email, tc.media, tc.notice)
		})
	}
}
