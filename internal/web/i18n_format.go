package web

import (
	"fmt"
	"html/template"
	"strconv"
	"strings"
	"time"

	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/vigil-hotline/vigil"
)

// Texts with numbers, plurals, codes and dates, for the templates: methods
// of page, so that every page formats in its own language.
//
// How to add staff texts (see also internal/web/i18n/README.md): put the
// key in i18n/staff.en.json (or an AREA.en.json of your own) and in the
// nl, fr and de files beside it; templates read it as {{$.T.key}}, with
// arguments as {{$.Tf "key" .A .B}} ("{1}", "{2}" in the text), a count as
// {{$.N "key" .Count}} (keys key_one and key_other, "{n}" in the text), a
// code as {{$.Code "kind" .Value}} (key code_kind_value; an unknown code
// shows as itself) and a time as {{$.When .At}}. A key missing in a
// language falls back to English; TestCatalogComplete fails for it.

// pluralOne reports whether n takes the "one" form in lang, by the CLDR
// cardinal rules for integers: English, Dutch and German use it for 1
// alone, French for 0 and 1.
func pluralOne(lang vigil.Language, n int64) bool {
	if lang == vigil.LangFR {
		return n == 0 || n == 1
	}
	return n == 1
}

func toInt64(v any) (int64, bool) {
	switch x := v.(type) {
	case int:
		return int64(x), true
	case int64:
		return x, true
	case int32:
		return int64(x), true
	case uint:
		return int64(x), true
	case uint64:
		return int64(x), true
	}
	return 0, false
}

// Num writes a number with the language's digit grouping (1,234 in
// English, 1.234 in Dutch and German, 1 234 in French).
func (p *page) Num(v any) string {
	return message.NewPrinter(language.Make(string(p.lang()))).Sprint(v)
}

func (p *page) lang() vigil.Language {
	if p.Lang == "" {
		return vigil.LangEN
	}
	return p.Lang
}

func (p *page) text(key string) string {
	if s, ok := p.T[key]; ok {
		return s
	}
	return key
}

// Tf is the text of key with {1}, {2}… replaced by the arguments (numbers
// written as Num does), so that each language orders a sentence its way.
func (p *page) Tf(key string, args ...any) string {
	s := p.text(key)
	for i, a := range args {
		var v string
		if _, ok := toInt64(a); ok {
			v = p.Num(a)
		} else {
			v = fmt.Sprint(a)
		}
		s = strings.ReplaceAll(s, "{"+strconv.Itoa(i+1)+"}", v)
	}
	return s
}

// N is the text of key for the count n in its plural form: key_one or
// key_other, with {n} replaced by the number and {1}… by the arguments.
func (p *page) N(key string, n any, args ...any) string {
	c, _ := toInt64(n)
	form := key + "_other"
	if pluralOne(p.lang(), c) {
		form = key + "_one"
	}
	return strings.ReplaceAll(p.Tf(form, args...), "{n}", p.Num(n))
}

// Code is the label of a code (a state, a verdict, a classification): the
// text of code_KIND_VALUE, or the code itself when it has none, so that a
// label nobody translated (a partner's classification) is still shown.
func (p *page) Code(kind string, value any) string {
	v := fmt.Sprint(value)
	if v == "" {
		return ""
	}
	if s, ok := p.T["code_"+kind+"_"+v]; ok {
		return s
	}
	return v
}

// dateLayouts are the languages' short numeric date forms (CLDR); English
// keeps ISO dates, which no English reader misreads.
var dateLayouts = map[vigil.Language]string{
	vigil.LangEN: "2006-01-02",
	vigil.LangNL: "2-1-2006",
	vigil.LangFR: "02/01/2006",
	vigil.LangDE: "02.01.2006",
}

// When writes a time in the hotline's time zone and the page's language,
// in a <time> element that does not wrap; zero times are empty.
func (p *page) When(t any) template.HTML { return p.when(t, " 15:04") }

// WhenS is When to the second (logs, messages, fetches).
func (p *page) WhenS(t any) template.HTML { return p.when(t, " 15:04:05") }

func (p *page) when(t any, clock string) template.HTML {
	var at time.Time
	switch x := t.(type) {
	case time.Time:
		at = x
	case *time.Time:
		if x == nil {
			return ""
		}
		at = *x
	default:
		return ""
	}
	if at.IsZero() {
		return ""
	}
	if p.loc != nil {
		at = at.In(p.loc)
	}
	s := at.Format(dateLayouts[p.lang()] + clock)
	return template.HTML(`<time class="nowrap" datetime="` + at.Format(time.RFC3339) + `">` + template.HTMLEscapeString(s) + `</time>`)
}

// Duration writes a number of seconds (a median time) in the largest
// fitting units, two at most ("3 h 12 min"), with the language's unit
// abbreviations; none (0 or less) is a dash.
func (p *page) Duration(seconds float64) string {
	if seconds <= 0 {
		return "–"
	}
	d := int64(seconds + 0.5)
	units := []struct {
		size int64
		key  string
	}{{86400, "dur_d"}, {3600, "dur_h"}, {60, "dur_min"}, {1, "dur_s"}}
	var parts []string
	for _, u := range units {
		if d >= u.size || (len(parts) == 0 && u.size == 1) {
			parts = append(parts, p.Tf(u.key, d/u.size))
			d %= u.size
			if len(parts) == 2 || d == 0 {
				break
			}
		} else if len(parts) > 0 {
			break
		}
	}
	return strings.Join(parts, " ")
}
