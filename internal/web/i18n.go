package web

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"

	"golang.org/x/text/language"

	"github.com/vigil-hotline/vigil"
)

//go:embed i18n/*.json
var i18nFS embed.FS

// catalog holds the texts of the public and staff pages in every supported
// language: i18n/LANG.json and the areas' i18n/AREA.LANG.json files.
// English is complete; another language's missing key shows in English.
type catalog struct {
	texts   map[vigil.Language]map[string]string
	matcher language.Matcher
}

func loadCatalog() (*catalog, error) {
	c := &catalog{texts: map[vigil.Language]map[string]string{}}
	var tags []language.Tag
	for _, l := range vigil.Languages {
		b, err := i18nFS.ReadFile("i18n/" + string(l) + ".json")
		if err != nil {
			return nil, fmt.Errorf("i18n: %w", err)
		}
		m := map[string]string{}
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, fmt.Errorf("i18n: %s.json: %w", l, err)
		}
		// AREA.LANG.json files add the texts of one area (statistics…) to
		// the language's catalogue, so that areas do not share one file.
		extra, err := fs.Glob(i18nFS, "i18n/*."+string(l)+".json")
		if err != nil {
			return nil, fmt.Errorf("i18n: %w", err)
		}
		for _, name := range extra {
			b, err := i18nFS.ReadFile(name)
			if err != nil {
				return nil, fmt.Errorf("i18n: %w", err)
			}
			area := map[string]string{}
			if err := json.Unmarshal(b, &area); err != nil {
				return nil, fmt.Errorf("i18n: %s: %w", name, err)
			}
			for k, v := range area {
				if _, dup := m[k]; dup {
					return nil, fmt.Errorf("i18n: %s repeats the key %q", name, k)
				}
				m[k] = v
			}
		}
		c.texts[l] = m
		tags = append(tags, language.Make(string(l)))
	}
	// A key a language lacks falls back to English, so that a page added
	// in English only still works in every language (TestCatalogComplete
	// holds the shipped catalogue to completeness).
	base := c.texts[vigil.Languages[0]]
	for _, m := range c.texts {
		for k, v := range base {
			if _, ok := m[k]; !ok {
				m[k] = v
			}
		}
	}
	c.matcher = language.NewMatcher(tags)
	return c, nil
}

// T returns the text for key in lang, or the key itself when unknown (a
// visible mistake rather than an empty page).
func (c *catalog) T(lang vigil.Language, key string) string {
	if s, ok := c.texts[lang][key]; ok {
		return s
	}
	return key
}

// language picks the page's language: an explicit ?lang= or form field
// (the switcher) first, then the browser's Accept-Language.
func (c *catalog) language(r *http.Request) vigil.Language {
	if l, ok := vigil.ParseLanguage(r.URL.Query().Get("lang")); ok {
		return l
	}
	if r.Method == http.MethodPost {
		if l, ok := vigil.ParseLanguage(r.PostFormValue("lang")); ok {
			return l
		}
	}
	tags, _, err := language.ParseAcceptLanguage(r.Header.Get("Accept-Language"))
	if err != nil || len(tags) == 0 {
		return vigil.Languages[0]
	}
	_, i, conf := c.matcher.Match(tags...)
	if conf == language.No {
		return vigil.Languages[0]
	}
	return vigil.Languages[i]
}
