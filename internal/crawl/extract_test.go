package crawl

import (
	"net/url"
	"slices"
	"testing"
)

func urls(ls []Link) []string {
	out := make([]string, len(ls))
	for i, l := range ls {
		out[i] = l.URL
	}
	return out
}

func TestParseSrcset(t *testing.T) {
	for in, want := range map[string][]string{
		"a.jpg":                                 {"a.jpg"},
		"a.jpg 1x, b.jpg 2x":                    {"a.jpg", "b.jpg"},
		" a.jpg 100w ,b.jpg   200w":             {"a.jpg", "b.jpg"},
		"a.jpg,b.jpg":                           {"a.jpg,b.jpg"}, // one URL, as browsers read it
		"a.jpg, b.jpg":                          {"a.jpg", "b.jpg"},
		"/i?x=1,2 1x, c.jpg 2x":                 {"/i?x=1,2", "c.jpg"},
		"a.jpg (max-width: 1px, 2px) 1x, b.jpg": {"a.jpg", "b.jpg"},
		"":                                      nil,
		" , , ":                                 nil,
	} {
		if got := parseSrcset(in); !slices.Equal(got, want) {
			t.Errorf("parseSrcset(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCSSURLs(t *testing.T) {
	for in, want := range map[string][]string{
		`background: url(a.png)`:                           {"a.png"},
		`background-image: URL( "b c.png" ), url('d.gif')`: {"b c.png", "d.gif"},
		`x{background:url(  e.jpg  )} y{}`:                 {"e.jpg"},
		`url(`:                                             nil,
		`url("unterminated`:                                nil,
		`color: red`:                                       nil,
	} {
		if got := cssURLs(in); !slices.Equal(got, want) {
			t.Errorf("cssURLs(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestExtract(t *testing.T) {
	doc := `<!doctype html><html><head>
<meta property="og:image" content="/og.jpg">
<meta name="twitter:image" content="https://cdn.example/tw.png">
<link rel="preload" as="image" href="pre.webp" imagesrcset="pre-2x.webp 2x">
<link rel="next" href="/page/2">
<link rel="stylesheet" href="/site.css">
<style>.a { background: url("bg.png") } .b{background:url(data:image/png;base64,xx)}</style>
</head><body background="body.gif">
<IMG SRC="one.jpg" srcset="one-small.jpg 1x, one-big.jpg 2x">
<img data-src="lazy.jpg" src="data:image/gif;base64,R0lGOD">
<picture><source srcset="pic.avif" type="image/avif"><img src="pic.jpg"></picture>
<video src="clip.mp4" poster="poster.jpg"><source src="clip.webm"></video>
<div style="background-image:url('div.png')"></div>
<a href="full.JPEG#zoom">full</a>
<a href="/other/page.html?x=1#frag">page</a>
<a href="#top">top</a> <a href="mailto:a@b.c">m</a> <a href="javascript:alert(1)">j</a>
<a href="ftp://x.example/file.jpg">ftp</a>
<a href="one.jpg">dup</a>
<iframe src="//frames.example/f"></iframe>
<input type="image" src="button.png">
<svg><image href="svg.png"/></svg>
</body></html>`
	base, _ := url.Parse("http://Site.Example:8080/dir/index.html")
	got := Extract([]byte(doc), base)
	wantMedia := []string{
		"http://site.example:8080/og.jpg",
		"https://cdn.example/tw.png",
		"http://site.example:8080/dir/pre.webp",
		"http://site.example:8080/dir/pre-2x.webp",
		"http://site.example:8080/dir/bg.png",
		"http://site.example:8080/dir/body.gif",
		"http://site.example:8080/dir/one.jpg",
		"http://site.example:8080/dir/one-small.jpg",
		"http://site.example:8080/dir/one-big.jpg",
		"http://site.example:8080/dir/lazy.jpg",
		"http://site.example:8080/dir/pic.avif",
		"http://site.example:8080/dir/pic.jpg",
		"http://site.example:8080/dir/clip.mp4",
		"http://site.example:8080/dir/poster.jpg",
		"http://site.example:8080/dir/clip.webm",
		"http://site.example:8080/dir/div.png",
		"http://site.example:8080/dir/full.JPEG",
		"http://site.example:8080/dir/button.png",
		"http://site.example:8080/dir/svg.png",
	}
	wantPages := []string{
		"http://site.example:8080/page/2",
		"http://site.example:8080/other/page.html?x=1",
		"http://frames.example/f",
	}
	if m := urls(got.Media); !slices.Equal(m, wantMedia) {
		t.Errorf("media:\n got %q\nwant %q", m, wantMedia)
	}
	if p := urls(got.Pages); !slices.Equal(p, wantPages) {
		t.Errorf("pages:\n got %q\nwant %q", p, wantPages)
	}
	if got.Media[0].Via != "meta@og:image" || got.Media[4].Via != "style@url" || got.Media[8].Via != "img@srcset" {
		t.Errorf("via: %+v", got.Media[:9])
	}
}

func TestExtractBase(t *testing.T) {
	doc := `<img src="early.jpg"><base href="https://cdn.example/img/"><base href="/ignored/">
<img src="a.jpg"><img src="/abs.jpg"><a href="next.html">n</a>`
	base, _ := url.Parse("http://site.example/gallery/")
	got := Extract([]byte(doc), base)
	// The first <base> applies to the whole document, before and after it.
	want := []string{"https://cdn.example/img/early.jpg", "https://cdn.example/img/a.jpg", "https://cdn.example/abs.jpg"}
	if m := urls(got.Media); !slices.Equal(m, want) {
		t.Errorf("media %q, want %q", m, want)
	}
	if p := urls(got.Pages); !slices.Equal(p, []string{"https://cdn.example/img/next.html"}) {
		t.Errorf("pages %q", p)
	}
}

func TestExtractGarbage(t *testing.T) {
	base, _ := url.Parse("http://site.example/")
	for _, doc := range []string{"", "\x00\xff\xfe", "<img src=", "<<<>>>", "<style>url(", `<img srcset=",,,">`} {
		_ = Extract([]byte(doc), base) // must not panic
	}
}
