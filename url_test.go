package vigil_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/vigil-hotline/vigil"
)

func TestNormalizeURL(t *testing.T) {
	for in, want := range map[string]string{
		"http://example.com":                               "http://example.com/",
		"HTTP://EXAMPLE.COM/Path":                          "http://example.com/Path",
		"https://Example.com:443/a?b=1#frag":               "https://example.com/a?b=1",
		"http://example.com:80/":                           "http://example.com/",
		"http://example.com:8080/":                         "http://example.com:8080/",
		"https://example.com:80/":                          "https://example.com:80/",
		"example.com/gallery":                              "http://example.com/gallery",
		"www.example.com:8080/x":                           "http://www.example.com:8080/x",
		"  https://example.com/x  ":                        "https://example.com/x",
		"https://bücher.example/":                          "https://xn--bcher-kva.example/",
		"https://BÜCHER.example/":                          "https://xn--bcher-kva.example/",
		"https://xn--bcher-kva.example/":                   "https://xn--bcher-kva.example/",
		"https://example.com./a":                           "https://example.com/a",
		"https://user:pass@example.com/a":                  "https://example.com/a",
		"https://example.com/%7euser/%2fx%3f":              "https://example.com/~user/%2Fx%3F",
		"https://example.com/a?":                           "https://example.com/a",
		"https://example.com/a?q=%c3%a9":                   "https://example.com/a?q=%C3%A9",
		"http://[2001:DB8::1]:8080/":                       "http://[2001:db8::1]:8080/",
		"http://192.0.2.1/x":                               "http://192.0.2.1/x",
		"https://example.com/a b":                          "",
		"ftp://example.com/":                               "",
		"javascript:alert(1)":                              "",
		"mailto:someone@example.com":                       "",
		"data:text/html,hi":                                "",
		"http:///path":                                     "",
		"http://":                                          "",
		"https://example.com:99999/":                       "",
		"https://exa%00mple.com/":                          "",
		"https://example.com/" + strings.Repeat("a", 2100): "",
	} {
		got, err := vigil.NormalizeURL(in)
		if want == "" {
			if err == nil {
				t.Errorf("NormalizeURL(%q) = %q, want an error", in, got)
			} else if vigil.ErrorCode(err) != vigil.EINVALID {
				t.Errorf("NormalizeURL(%q): error code %q", in, vigil.ErrorCode(err))
			}
			continue
		}
		if err != nil || got != want {
			t.Errorf("NormalizeURL(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

// FuzzNormalizeURL: never panics; what it accepts is an http(s) URL with a
// host, within the length limit, that normalises to itself.
func FuzzNormalizeURL(f *testing.F) {
	for _, s := range []string{"http://example.com", "example.com/a?b#c", "https://[::1]:443/", "https://bücher.example/%7e",
		"HTTP://a.b:80/%zz", "javascript:x", "http://a@b@c/", "//x", "http://%41.com/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := vigil.NormalizeURL(s)
		if err != nil {
			return
		}
		u, perr := url.Parse(n)
		if perr != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || len(n) > vigil.MaxURLLength {
			t.Fatalf("NormalizeURL(%q) = %q: not a valid http(s) URL", s, n)
		}
		n2, err := vigil.NormalizeURL(n)
		if err != nil || n2 != n {
			t.Fatalf("not idempotent: %q -> %q -> %q (%v)", s, n, n2, err)
		}
	})
}

func TestTrackingCode(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 1000; i++ {
		c := vigil.NewTrackingCode()
		if len(c) != 19 || seen[c] {
			t.Fatalf("bad or repeated code %q", c)
		}
		seen[c] = true
		n, err := vigil.NormalizeTrackingCode(strings.ToLower(strings.ReplaceAll(c, "-", " ")))
		if err != nil || n != c {
			t.Fatalf("NormalizeTrackingCode(%q) = %q, %v", c, n, err)
		}
	}
	if n, err := vigil.NormalizeTrackingCode("oooo-iiii-llll-0000"); err != nil || n != "0000-1111-1111-0000" {
		t.Errorf("look-alike letters: %q %v", n, err)
	}
	for _, bad := range []string{"", "ABC", "AAAA-BBBB-CCCC-DDDU", "AAAA-BBBB-CCCC-DDDD-E", "ÄAAA-BBBB-CCCC-DDDD"} {
		if _, err := vigil.NormalizeTrackingCode(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestNewReport(t *testing.T) {
	r, err := vigil.NewReport(vigil.ReportInput{
		URLs:     []string{"https://a.example/1", "", "HTTPS://A.EXAMPLE/1#x", "b.example"},
		Language: "FR", Contact: " me@example.org ",
	}, vigil.SourceForm, testTime)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.URLs) != 2 || r.URLs[0].URL != "https://a.example/1" || r.URLs[1].URL != "http://b.example/" {
		t.Errorf("urls: %v, %v", r.URLs[0], r.URLs[1])
	}
	if r.Language != vigil.LangFR || r.Contact != "me@example.org" || r.Status != vigil.ReportReceived {
		t.Errorf("report: %+v", r)
	}
	r, err = vigil.NewReport(vigil.ReportInput{URLs: []string{"https://a.example/"}}, vigil.SourceAPI, testTime)
	if err != nil || r.Language != vigil.LangEN {
		t.Errorf("no language: %v %v", r, err)
	}
	for name, in := range map[string]vigil.ReportInput{
		"no url":       {},
		"51 urls":      {URLs: strings.Split(strings.Repeat("https://a.example/x ", 51), " ")[:51]},
		"bad language": {URLs: []string{"https://a.example/"}, Language: "xx"},
		"bad utf8":     {URLs: []string{"https://a.example/"}, Description: "\xff"},
		"long text":    {URLs: []string{"https://a.example/"}, Description: strings.Repeat("x", 5001)},
		"bad contact":  {URLs: []string{"https://a.example/"}, Contact: "a@b"},
	} {
		if _, err := vigil.NewReport(in, vigil.SourceForm, testTime); vigil.ErrorCode(err) != vigil.EINVALID {
			t.Errorf("%s: want invalid, got %v", name, err)
		}
	}
}
