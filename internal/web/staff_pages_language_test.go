package web_test

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

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
	return html.UnescapeString(body + " " + strings.Join(seen, " "))
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

// TestStaffAdminPagesLanguages: the partners, exchanges and suppressed
// entries pages (and their notices) read in each staff language, with
// labels instead of codes and no key left untranslated.
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
	// An exchange with one entry, which an analyst disputes.
	ctx := context.Background()
	b := &vigil.Bank{Name: "te-bank", Source: vigil.SourceOther, Kind: vigil.BankBlock, PDQThreshold: 31, Enabled: true}
	if err := db.CreateBank(ctx, b); err != nil {
		t.Fatal(err)
	}
	x := &vigil.Exchange{Name: "te", Kind: vigil.ExchangeThreatExchange, BankID: b.ID, URL: "https://graph.facebook.com/v21.0/1",
		Schedule: 12 * time.Hour, Enabled: true}
	if err := db.CreateExchange(ctx, x, vigil.ExchangeCredentials{Token: "1|s"}); err != nil {
		t.Fatal(err)
	}
	if err := db.AcquireExchangeLease(ctx, x.ID, "p", time.Minute); err != nil {
		t.Fatal(err)
	}
	entry := &vigil.BankEntry{Signal: vigil.SignalPDQ, Value: fmt.Sprintf("%064x", 3), UpstreamID: "555"}
	if _, err := db.StoreExchangePage(ctx, x.ID, "p", &vigil.ExchangePage{Checkpoint: "c", Entries: []*vigil.BankEntry{entry}}); err != nil {
		t.Fatal(err)
	}
	e.addUser("ann", vigil.RoleAnalyst, "ann-password-1")
	ann := e.login("ann", "ann-password-1")
	dispute := "/staff/upstream/" + strconv.FormatInt(entry.ID, 10) + "/dispute"
	if resp, _ := e.postForm(ann, dispute, url.Values{"csrf": {csrfOf(t, e, ann)}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("dispute: %d", resp.StatusCode)
	}
	for _, tc := range []struct {
		lang                        vigil.Language
		title, email, media, notice string
		exch                        []string
		suppressed                  []string
	}{
		{vigil.LangEN, "Partner hotlines", "e-mail package", "hashes only", "The partner was added.",
			[]string{"Hash exchanges", "every 12 h", "hash list over HTTP(S)", "Bank", "The exchange was disabled"},
			[]string{"Suppressed upstream entries", "disputed by an analyst", "The entry was released"}},
		{vigil.LangNL, "Partnerhotlines", "e-mailpakket", "enkel hashes", "De partner is toegevoegd.",
			[]string{"Hashuitwisselingen", "om de 12 u", "hashlijst via HTTP(S)", "Hashlijst", "De uitwisseling is uitgeschakeld"},
			[]string{"Opgeschorte vermeldingen", "betwist door een analist", "De vermelding is vrijgegeven"}},
		{vigil.LangFR, "Hotlines partenaires", "paquet par e-mail", "empreintes seulement", "Le partenaire a été ajouté.",
			[]string{"Échanges d'empreintes", "intervalle : 12 h", "liste d'empreintes par HTTP(S)", "Liste d'empreintes", "L'échange a été désactivé"},
			[]string{"Entrées de sources suspendues", "contestée par un analyste", "L'entrée a été libérée"}},
		{vigil.LangDE, "Partner-Hotlines", "E-Mail-Paket", "nur Hashes", "Der Partner wurde hinzugefügt.",
			[]string{"Hash-Austausch", "alle 12 Std.", "Hashliste über HTTP(S)", "Hashliste", "Der Austausch wurde deaktiviert"},
			[]string{"Gesperrte Einträge", "von der Analyse bestritten", "Der Eintrag wurde freigegeben"}},
	} {
		t.Run(string(tc.lang), func(t *testing.T) {
			q := "&lang=" + string(tc.lang)
			resp, body := e.get(admin, "/staff/partners?done=added"+q)
			if resp.StatusCode != 200 {
				t.Fatalf("partners: %d", resp.StatusCode)
			}
			checkLanguage(t, "partners", body, tc.title, tc.email, tc.media, tc.notice)
			resp, body = e.get(admin, "/staff/exchanges?done=disabled"+q)
			if resp.StatusCode != 200 || !strings.Contains(body, `<option value="http-list"`) {
				t.Fatalf("exchanges: %d", resp.StatusCode)
			}
			checkLanguage(t, "exchanges", body, tc.exch...)
			resp, body = e.get(admin, "/staff/exchanges/suppressed?done=released"+q)
			if resp.StatusCode != 200 {
				t.Fatalf("suppressed: %d", resp.StatusCode)
			}
			checkLanguage(t, "suppressed", body, tc.suppressed...)
		})
	}
	// A refusal on the exchanges page is in the staff member's language.
	form := url.Values{"csrf": {e.formToken(admin, "/staff/exchanges")}, "name": {"iwf"}, "kind": {"http-list"}, "bank": {"te-bank"},
		"url": {"https://lists.example/iwf.csv"}, "schedule": {"soon"}}
	resp, body := e.postForm(admin, "/staff/exchanges?lang=nl", form)
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("bad schedule: %d", resp.StatusCode)
	}
	checkLanguage(t, "exchanges refusal", body, "De planning moet een duur zijn")
	form.Set("schedule", "12h")
	form.Set("signals", "md4")
	_, body = e.postForm(admin, "/staff/exchanges?lang=fr", form)
	checkLanguage(t, "exchanges refusal", body, "« md4 » n'est pas un type de signal")
	form.Set("signals", "")
	form.Set("kind", "ncmec")
	_, body = e.postForm(admin, "/staff/exchanges?lang=de", form)
	checkLanguage(t, "exchanges refusal", body, "Die API des NCMEC nutzt Basic-Authentifizierung")
	resp, body = e.postForm(admin, "/staff/exchanges/"+strconv.FormatInt(x.ID, 10)+"/remove?lang=de", url.Values{"csrf": {"forged"}})
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("forged removal: %d", resp.StatusCode)
	}
	checkLanguage(t, "exchanges forged form", body, "Hash-Austausch")
	// A domain refusal (a bad key) reads in the language too.
	bad := url.Values{"csrf": {e.formToken(admin, "/staff/partners")}, "name": {"lu"}, "countries": {"LU"}, "public_key": {"not a key"}}
	resp, body = e.postForm(admin, "/staff/partners?lang=fr", bad)
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("bad partner key: %d", resp.StatusCode)
	}
	checkLanguage(t, "partners refusal", body, "La clé publique doit être une clé Ed25519")
	bad.Set("countries", "L1")
	_, body = e.postForm(admin, "/staff/partners?lang=de", bad)
	checkLanguage(t, "partners refusal", body, "„L1“ ist kein Ländercode")
	// And on the users page.
	_, body = e.postForm(admin, "/staff/users?lang=nl", url.Values{"csrf": {e.formToken(admin, "/staff/users")}, "name": {"nieuw"},
		"role": {"analyst"}, "password": {"kort"}})
	checkLanguage(t, "users refusal", body, "Een wachtwoord moet 12 tot")
	// A refusal with no page of its own is a plain text in the language.
	resp, body = e.postForm(ann, dispute+"?lang=fr", url.Values{"csrf": {"forged"}})
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "Le formulaire a expiré") {
		t.Errorf("forged dispute: %d %q", resp.StatusCode, body)
	}
}
