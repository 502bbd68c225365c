package simnet

import (
	"fmt"
	"html"
	"net/http"
	"strconv"
	"strings"
)

// pageBuilder writes one HTML page and records the images it places.
type pageBuilder struct {
	n        *Net
	pageURL  string
	b        strings.Builder
	manifest *[]Placement
}

func (n *Net) newPage(host, path, title string) *pageBuilder {
	p := &pageBuilder{n: n, pageURL: n.URL(host, path), manifest: &n.manifest}
	fmt.Fprintf(&p.b, "<!doctype html>\n<html><head><meta charset=utf-8><title>%s</title>\n", html.EscapeString(title))
	return p
}

// place records that this page shows seed as v at the URL abs.
func (p *pageBuilder) place(abs string, seed uint64, v Variant) {
	*p.manifest = append(*p.manifest, Placement{Page: p.pageURL, Media: abs, Seed: seed, Variant: v.normal()})
}

func (p *pageBuilder) w(format string, args ...any) { fmt.Fprintf(&p.b, format, args...) }

func (p *pageBuilder) done() []byte {
	p.b.WriteString("</body></html>\n")
	return []byte(p.b.String())
}

// render pre-renders gallery.example and mirror.example and records the
// manifest of which image is where.
func (n *Net) render() {
	g := Gallery
	img := func(host string, seed uint64, v Variant) string { return n.URL(host, ImagePath(seed, v)) }

	// The gateway: depth 0.
	p := n.newPage(g, "/", "Gallery gateway")
	p.w(`<meta property="og:image" content="%s">`+"\n", ImagePath(1, Variant{}))
	p.place(img(g, 1, Variant{}), 1, Variant{})
	p.w("</head><body id=top>\n<h1>Welcome</h1>\n")
	p.w(`<p><a href="/galleries/">Galleries</a> · <a href="about">About</a> · <a href="#top">top</a>`)
	p.w(` · <a href="mailto:someone@gallery.example">mail</a> · <a href="javascript:void(0)">js</a>`)
	p.w(` · <a href="%s">our mirror</a></p>`+"\n", n.URL(Mirror, "/"))
	p.w(`<p><a href="%s">Featured picture</a></p>`+"\n", ImagePath(2, Variant{}))
	p.place(img(g, 2, Variant{}), 2, Variant{})
	p.w(`<img src="data:image/png;base64,iVBORw0KGgo=" alt="inline, ignored">` + "\n")
	n.pages[g+"/"] = p.done()

	p = n.newPage(g, "/about", "About")
	p.w("</head><body><p>Nothing to see here. <a href=\"/\">Home</a></p>\n")
	n.pages[g+"/about"] = p.done()

	// The gallery index: depth 1.
	p = n.newPage(g, "/galleries/", "Galleries")
	p.w("<style>\n  body { background: #eee url(%q) repeat; }\n</style>\n", ImagePath(3, Variant{Format: "png"}))
	p.place(img(g, 3, Variant{Format: "png"}), 3, Variant{Format: "png"})
	p.w("</head><body><ul>\n")
	for i := 1; i <= n.opts.Galleries; i++ {
		p.w(`<li><a href="/galleries/%d/">Gallery %d</a></li>`+"\n", i, i)
	}
	p.w("</ul>\n")
	n.pages[g+"/galleries/"] = p.done()

	// The galleries: depth 2, one image per way of embedding it.
	for i := 1; i <= n.opts.Galleries; i++ {
		path := fmt.Sprintf("/galleries/%d/", i)
		s := uint64(100 * i)
		p = n.newPage(g, path, fmt.Sprintf("Gallery %d", i))
		base := ""
		if i == n.opts.Galleries {
			// The last gallery resolves its relative URLs against a
			// <base> on the CDN.
			base = n.URL(CDN, "/img/")
			p.w(`<base href="%s">`+"\n", base)
		}
		abs := func(seed uint64, v Variant) string {
			if base != "" {
				return img(CDN, seed, v)
			}
			return img(g, seed, v)
		}
		rel := func(seed uint64, v Variant) string {
			if base != "" {
				return strings.TrimPrefix(ImagePath(seed, v), "/img/")
			}
			return ImagePath(seed, v)
		}
		p.w("<style>.hero { background-image: url(\"%s\"); }</style>\n", ImagePath(s+5, Variant{}))
		p.place(abs(s+5, Variant{}), s+5, Variant{})
		p.w("</head><body><div class=hero></div>\n")
		p.w(`<img src="%s" alt="">`+"\n", img(CDN, s+1, Variant{}))
		p.place(img(CDN, s+1, Variant{}), s+1, Variant{})

		small, full := Variant{Width: 128}, Variant{}
		p.w(`<img src="%s" srcset="%s 128w, %s 256w" alt="">`+"\n",
			html.EscapeString(rel(s+2, full)), html.EscapeString(rel(s+2, small)), html.EscapeString(rel(s+2, full)))
		p.place(abs(s+2, full), s+2, full)
		p.place(abs(s+2, small), s+2, small)

		pngV, q70 := Variant{Format: "png"}, Variant{Quality: 70}
		p.w(`<picture><source srcset="%s" type="image/png"><img src="%s" alt=""></picture>`+"\n",
			html.EscapeString(rel(s+3, pngV)), html.EscapeString(rel(s+3, q70)))
		p.place(abs(s+3, pngV), s+3, pngV)
		p.place(abs(s+3, q70), s+3, q70)

		gifV := Variant{Format: "gif"}
		p.w(`<div style="width:64px;height:64px;background-image: url('%s')"></div>`+"\n", rel(s+4, gifV))
		p.place(abs(s+4, gifV), s+4, gifV)

		q95 := Variant{Quality: 95}
		p.w(`<p><a href="%s">Full size</a></p>`+"\n", html.EscapeString(rel(s+6, q95)))
		p.place(abs(s+6, q95), s+6, q95)

		video := fmt.Sprintf("/media/%d.mp4", s+7)
		p.w(`<video poster="%s" controls><source src="%s" type="video/mp4"></video>`+"\n", rel(s+8, full), n.URL(g, video))
		p.place(abs(s+8, full), s+8, full)
		*p.manifest = append(*p.manifest, Placement{Page: p.pageURL, Media: n.URL(g, video), Seed: s + 7})

		p.w(`<p><a href="%s">Home</a> <a href="%s">All galleries</a>`, n.URL(g, "/"), n.URL(WWWGallery, "/galleries/"))
		if i < n.opts.Galleries {
			p.w(` <a href="%s">Next</a>`, n.URL(g, fmt.Sprintf("/galleries/%d/", i+1)))
		}
		p.w("</p>\n")
		n.pages[g+path] = p.done()
	}

	// The mirror: the same pictures as gallery 1, re-encoded and resized,
	// plus one picture of its own.
	m := Mirror
	p = n.newPage(m, "/", "Mirror")
	p.w("</head><body>\n")
	for k, v := range []Variant{{Quality: 40}, {Width: 160}, {Format: "png", Width: 200}} {
		seed := uint64(101 + k)
		p.w(`<img src="%s" alt="">`+"\n", html.EscapeString(ImagePath(seed, v)))
		p.place(img(m, seed, v), seed, v)
	}
	p.w(`<img src="%s" alt="">`+"\n", ImagePath(900, Variant{}))
	p.place(img(m, 900, Variant{}), 900, Variant{})
	n.pages[m+"/"] = p.done()

	// What a rebinding name serves while it still points at us.
	p = n.newPage(Rebind, "/", "Rebind")
	p.w("</head><body><p>Harmless, for now.</p>\n")
	n.pages[Rebind+"/"] = p.done()
}

// serveMedia serves /img/SEED.EXT and /media/SEED.mp4 on every site.
func (n *Net) serveMedia(w http.ResponseWriter, r *http.Request) {
	if name, ok := strings.CutPrefix(r.URL.Path, "/media/"); ok {
		seed, err := strconv.ParseUint(strings.TrimSuffix(name, ".mp4"), 10, 64)
		if err != nil || !strings.HasSuffix(name, ".mp4") {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "video/mp4")
		_, _ = w.Write(FakeVideo(seed))
		return
	}
	seed, v, ok := ParseImagePath(r.URL.Path, r.URL.Query())
	if !ok {
		http.NotFound(w, r)
		return
	}
	b, err := n.Images.Bytes(seed, v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "image/"+v.Format)
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.Header().Set("Cache-Control", "public, max-age=86400")
	_, _ = w.Write(b)
}

// serveBench serves bench.example: "/" links to every page, each page
// shows BenchPerPage images.
func (n *Net) serveBench(w http.ResponseWriter, r *http.Request) bool {
	per := n.opts.BenchPerPage
	pages := (n.opts.BenchImages + per - 1) / per
	var b strings.Builder
	b.WriteString("<!doctype html><html><head><title>Bench</title></head><body>\n")
	switch {
	case r.URL.Path == "/":
		for i := range pages {
			fmt.Fprintf(&b, "<a href=\"/page/%d\">Page %d</a>\n", i, i)
		}
	case strings.HasPrefix(r.URL.Path, "/page/"):
		i, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/page/"))
		if err != nil || i < 0 || i >= pages {
			return false
		}
		for j := i * per; j < min((i+1)*per, n.opts.BenchImages); j++ {
			fmt.Fprintf(&b, "<img src=\"%s\" alt=\"\">\n", ImagePath(BenchSeedBase+uint64(j), Variant{}))
		}
		fmt.Fprintf(&b, "<a href=\"/\">Index</a>\n")
	default:
		return false
	}
	b.WriteString("</body></html>\n")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write([]byte(b.String()))
	return true
}

// BenchURL is the gateway of the bench site.
func (n *Net) BenchURL() string { return n.URL(Bench, "/") }

// GatewayURL is the gateway of the gallery site.
func (n *Net) GatewayURL() string { return n.URL(Gallery, "/") }
