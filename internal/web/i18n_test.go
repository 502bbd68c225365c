package web

import (
	"encoding/json"
	"io/fs"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/vigil-hotline/vigil"
)

// draftAreas may be in English only for now: their pages fall back to
// English in the other languages. An area added without translations goes
// here until it has them; the shipped pages are held to completeness.
var draftAreas = map[string]bool{}

// TestCatalogComplete: every key of every area's English file is in the
// same area's file of every other language, no language has a key English
// lacks, and every key the templates ask for exists.
func TestCatalogComplete(t *testing.T) {
	read := func(name string) map[string]string {
		b, err := i18nFS.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]string{}
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return m
	}
	english, err := fs.Glob(i18nFS, "i18n/*en.json")
	if err != nil || len(english) < 2 {
		t.Fatalf("English files: %v %v", english, err)
	}
	all := map[string]bool{}
	for _, enName := range english {
		area := strings.TrimSuffix(strings.TrimPrefix(enName, "i18n/"), "en.json")
		en := read(enName)
		for k, v := range en {
			all[k] = true
			if strings.TrimSpace(v) == "" {
				t.Errorf("%s: %q is empty", enName, k)
			}
		}
		if draftAreas[strings.TrimSuffix(area, ".")] {
			continue
		}
		for _, l := range vigil.Languages[1:] {
			name := "i18n/" + area + string(l) + ".json"
			other := read(name)
			for k := range en {
				if strings.TrimSpace(other[k]) == "" {
					t.Errorf("%s lacks %q (English: %q)", name, k, en[k])
				}
			}
			for k := range other {
				if _, ok := en[k]; !ok {
					t.Errorf("%s has %q, which %s lacks", name, k, enName)
				}
			}
			// Placeholders must survive translation.
			for k, v := range en {
				for _, ph := range placeholderRE.FindAllString(v, -1) {
					if o, ok := other[k]; ok && !strings.Contains(o, ph) {
						t.Errorf("%s: %q lacks the placeholder %s", name, k, ph)
					}
				}
			}
		}
	}
	pages, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pages {
		b, err := templateFS.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var keys []string
		for _, m := range textKeyRE.FindAllStringSubmatch(string(b), -1) {
			keys = append(keys, m[1])
		}
		for _, m := range funcKeyRE.FindAllStringSubmatch(string(b), -1) {
			if m[1] == "N" {
				keys = append(keys, m[2]+"_one", m[2]+"_other")
			} else {
				keys = append(keys, m[2])
			}
		}
		for _, k := range keys {
			if !all[k] {
				t.Errorf("%s uses %q, which no catalogue file has", p, k)
			}
		}
	}
}

var (
	placeholderRE = regexp.MustCompile(`\{(n|[0-9])\}`)
	// .T.key, and $.Tf "key" or $.N "key".
	textKeyRE = regexp.MustCompile(`\.T\.([A-Za-z0-9_]+)`)
	funcKeyRE = regexp.MustCompile(`\$\.(Tf|N) "([a-z0-9_]+)"`)
)

func TestPlurals(t *testing.T) {
	c, err := loadCatalog()
	if err != nil {
		t.Fatal(err)
	}
	pg := func(l vigil.Language) *page { return &page{Lang: l, T: c.texts[l]} }
	for _, tc := range []struct {
		lang vigil.Language
		n    int
		want string
	}{
		{vigil.LangEN, 1, "1 URL removed"}, {vigil.LangEN, 2, "2 URLs removed"}, {vigil.LangEN, 0, "0 URLs removed"},
		{vigil.LangEN, 1234, "1,234 URLs removed"},
		{vigil.LangNL, 1, "1 URL verwijderd"}, {vigil.LangNL, 2, "2 URL's verwijderd"}, {vigil.LangNL, 1234, "1.234 URL's verwijderd"},
		{vigil.LangFR, 0, "0 URL retirée"}, {vigil.LangFR, 1, "1 URL retirée"}, {vigil.LangFR, 2, "2 URL retirées"},
		{vigil.LangDE, 1, "1 URL entfernt"}, {vigil.LangDE, 3, "3 URLs entfernt"}, {vigil.LangDE, 1234, "1.234 URLs entfernt"},
	} {
		if got := pg(tc.lang).N("td_urls_removed", tc.n); got != tc.want {
			t.Errorf("%s %d: %q, want %q", tc.lang, tc.n, got, tc.want)
		}
	}
	// French groups thousands with a (narrow) no-break space.
	if got := pg(vigil.LangFR).Num(1234); strings.Trim(got, "1234") == "" || !strings.HasPrefix(got, "1") || !strings.HasSuffix(got, "234") {
		t.Errorf("French 1234: %q", got)
	}
}

func TestCodesDatesDurations(t *testing.T) {
	c, err := loadCatalog()
	if err != nil {
		t.Fatal(err)
	}
	brussels, err := time.LoadLocation("Europe/Brussels")
	if err != nil {
		t.Skip("no time zone data")
	}
	at := time.Date(2026, 11, 29, 22, 5, 9, 0, time.UTC)
	for _, tc := range []struct {
		lang              vigil.Language
		class, when, dur  string
		verdict, unknownC string
	}{
		{vigil.LangEN, "IWF category B", "2026-11-29 23:05", "1 h 2 min", "Baseline CSAM", "local-law-7"},
		{vigil.LangNL, "IWF-categorie B", "29-11-2026 23:05", "1 u 2 min", "Baseline-CSAM", "local-law-7"},
		{vigil.LangFR, "IWF catégorie B", "29/11/2026 23:05", "1 h 2 min", "CSAM (baseline)", "local-law-7"},
		{vigil.LangDE, "IWF-Kategorie B", "29.11.2026 23:05", "1 Std. 2 Min.", "Baseline-CSAM", "local-law-7"},
	} {
		p := &page{Lang: tc.lang, T: c.texts[tc.lang], loc: brussels}
		if got := p.Code("classification", "iwf-b"); got != tc.class {
			t.Errorf("%s iwf-b: %q", tc.lang, got)
		}
		if got := p.Code("verdict", vigil.VerdictBaseline); got != tc.verdict {
			t.Errorf("%s baseline: %q", tc.lang, got)
		}
		// A label nobody translated is shown as it is.
		if got := p.Code("classification", "local-law-7"); got != tc.unknownC {
			t.Errorf("%s unknown label: %q", tc.lang, got)
		}
		if got := string(p.When(at)); !strings.Contains(got, ">"+tc.when+"<") || !strings.Contains(got, `class="nowrap"`) {
			t.Errorf("%s when: %q", tc.lang, got)
		}
		if got := p.Duration(3725); got != tc.dur {
			t.Errorf("%s duration: %q, want %q", tc.lang, got, tc.dur)
		}
	}
	p := &page{Lang: vigil.LangEN, T: c.texts[vigil.LangEN]}
	if p.When(time.Time{}) != "" || p.When((*time.Time)(nil)) != "" || p.Duration(0) != "–" || p.Duration(45) != "45 s" || p.Duration(90061) != "1 d 1 h" {
		t.Errorf("edge cases: %q %q %q %q", p.When(time.Time{}), p.Duration(0), p.Duration(45), p.Duration(90061))
	}
}

func TestStaffBack(t *testing.T) {
	for in, want := range map[string]string{
		"/staff/queue":                     "/staff/queue",
		"/staff/statistics?lang=fr&from=1": "/staff/statistics?from=1",
		"/staff/takedowns?state=removed":   "/staff/takedowns?state=removed",
		"https://evil.example/":            "/staff/",
		"//evil.example/staff/":            "/staff/",
		"/staff//evil.example":             "/staff/",
		"/public":                          "/staff/",
	} {
		if got := staffBack(in); got != want {
			t.Errorf("staffBack(%q) = %q, want %q", in, got, want)
		}
	}
}
