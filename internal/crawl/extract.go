package crawl

import (
	"bytes"
	"net/url"
	"path"
	"strings"

	"golang.org/x/net/html"
)

// Link is a URL found in a page and where in the page it was found, e.g.
// "img@srcset" or "style@url".
type Link struct {
	URL string `json:"url"`
	Via string `json:"via"`
}

// Links are the URLs extracted from a page: media to fetch and hash, and
// pages that a crawl may follow. Both are absolute http(s) URLs without
// fragments, deduplicated, in document order.
type Links struct {
	Media []Link `json:"media,omitempty"`
	Pages []Link `json:"pages,omitempty"`
}

type linkKind uint8

const (
	kindMedia linkKind = iota
	kindPage
	kindAuto // by extension: media if it looks like a media file, else page
)

type rawRef struct {
	ref  string
	via  string
	kind linkKind
}

// mediaExts are the extensions that make a link a media link. Only links are
// judged by extension; fetched bytes are always sniffed.
var mediaExts = map[string]bool{
	".jpg": true, ".jpeg": true, ".jpe": true, ".jfif": true, ".png": true, ".apng": true,
	".gif": true, ".webp": true, ".bmp": true, ".tif": true, ".tiff": true, ".avif": true,
	".heic": true, ".heif": true, ".jxl": true, ".ico": true, ".svg": true,
	".mp4": true, ".m4v": true, ".webm": true, ".mov": true, ".avi": true, ".mkv": true,
	".wmv": true, ".flv": true, ".mpg": true, ".mpeg": true, ".3gp": true, ".ogv": true,
	// Containers, followed wherever they are hosted: collections travel
	// as archives and PDFs on file-hosting sites.
	".zip": true, ".rar": true, ".7z": true, ".tar": true, ".tgz": true, ".gz": true, ".pdf": true,
}

// IsMediaURL reports whether a URL's path ends in a media file extension.
func IsMediaURL(u *url.URL) bool { return mediaExts[strings.ToLower(path.Ext(u.Path))] }

var metaMedia = map[string]bool{
	"og:image": true, "og:image:url": true, "og:image:secure_url": true,
	"og:video": true, "og:video:url": true, "og:video:secure_url": true,
	"twitter:image": true, "twitter:image:src": true, "twitter:player:stream": true,
}

// Extract returns the media and page URLs in an HTML document fetched from
// docURL. Relative URLs are resolved against the first <base href> and
// docURL; data:, javascript: and other non-http(s) URLs are dropped.
func Extract(body []byte, docURL *url.URL) Links {
	z := html.NewTokenizer(bytes.NewReader(body))
	var (
		refs     []rawRef
		baseHref string
		haveBase bool
		inStyle  bool
	)
	add := func(ref, via string, k linkKind) {
		if ref = strings.TrimSpace(ref); ref != "" {
			refs = append(refs, rawRef{ref, via, k})
		}
	}
	attrs := make(map[string]string, 8)
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return resolveRefs(refs, docURL, baseHref)
		case html.TextToken:
			if inStyle {
				for _, u := range cssURLs(string(z.Text())) {
					add(u, "style@url", kindMedia)
				}
			}
		case html.EndTagToken:
			if name, _ := z.TagName(); string(name) == "style" {
				inStyle = false
			}
		case html.StartTagToken, html.SelfClosingTagToken:
			name, more := z.TagName()
			clear(attrs)
			for more {
				var k, v []byte
				k, v, more = z.TagAttr()
				if _, dup := attrs[string(k)]; !dup { // the first wins, as in browsers
					attrs[string(k)] = string(v)
				}
			}
			tag := string(name)
			if tag == "style" && tt == html.StartTagToken {
				inStyle = true
			}
			if tag == "base" {
				if h, ok := attrs["href"]; ok && !haveBase {
					baseHref, haveBase = h, true
				}
				continue
			}
			if s, ok := attrs["style"]; ok {
				for _, u := range cssURLs(s) {
					add(u, tag+"@style", kindMedia)
				}
			}
			if v, ok := attrs["background"]; ok {
				add(v, tag+"@background", kindMedia)
			}
			extractTag(tag, attrs, add)
		}
	}
}

func extractTag(tag string, attrs map[string]string, add func(ref, via string, k linkKind)) {
	srcset := func(attr string) {
		if v, ok := attrs[attr]; ok {
			for _, u := range parseSrcset(v) {
				add(u, tag+"@"+attr, kindMedia)
			}
		}
	}
	one := func(attr string, k linkKind) {
		if v, ok := attrs[attr]; ok {
			add(v, tag+"@"+attr, k)
		}
	}
	switch tag {
	case "img":
		for _, a := range []string{"src", "data-src", "data-original", "data-lazy-src", "data-lazy"} {
			one(a, kindMedia)
		}
		srcset("srcset")
		srcset("data-srcset")
	case "source":
		one("src", kindMedia)
		srcset("srcset")
		srcset("data-srcset")
	case "video":
		one("src", kindMedia)
		one("poster", kindMedia)
	case "input":
		if strings.EqualFold(attrs["type"], "image") {
			one("src", kindMedia)
		}
	case "image": // SVG
		one("href", kindMedia)
		one("xlink:href", kindMedia)
	case "a", "area":
		one("href", kindAuto)
	case "iframe", "frame":
		one("src", kindPage)
	case "embed":
		one("src", kindAuto)
	case "object":
		one("data", kindAuto)
	case "meta":
		key := strings.ToLower(attrs["property"])
		if key == "" {
			key = strings.ToLower(attrs["name"])
		}
		if metaMedia[key] {
			add(attrs["content"], "meta@"+key, kindMedia)
		}
	case "link":
		rel := strings.Fields(strings.ToLower(attrs["rel"]))
		for _, r := range rel {
			switch {
			case r == "preload" && strings.EqualFold(attrs["as"], "image"):
				one("href", kindMedia)
				srcset("imagesrcset")
			case r == "image_src":
				one("href", kindMedia)
			case r == "next" || r == "prev":
				one("href", kindPage)
			}
		}
	}
}

// resolveRefs resolves, filters and deduplicates the raw references.
func resolveRefs(refs []rawRef, docURL *url.URL, baseHref string) Links {
	base := docURL
	if baseHref != "" {
		if b, err := url.Parse(strings.TrimSpace(baseHref)); err == nil {
			base = docURL.ResolveReference(b)
		}
	}
	var out Links
	seenMedia, seenPage := map[string]bool{}, map[string]bool{}
	for _, r := range refs {
		if strings.HasPrefix(r.ref, "#") {
			continue // the page itself
		}
		u, err := url.Parse(r.ref)
		if err != nil {
			continue
		}
		u = base.ResolveReference(u)
		u.Scheme = strings.ToLower(u.Scheme)
		if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			continue // data:, javascript:, mailto:, blob: ...
		}
		u.Host = strings.ToLower(u.Host)
		u.Fragment, u.RawFragment = "", ""
		k := r.kind
		if k == kindAuto {
			k = kindPage
			if IsMediaURL(u) {
				k = kindMedia
			}
		}
		s := u.String()
		if k == kindMedia && !seenMedia[s] {
			seenMedia[s] = true
			out.Media = append(out.Media, Link{URL: s, Via: r.via})
		} else if k == kindPage && !seenPage[s] {
			seenPage[s] = true
			out.Pages = append(out.Pages, Link{URL: s, Via: r.via})
		}
	}
	return out
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' }

// parseSrcset returns the URLs of a srcset attribute, following the HTML
// parsing rules closely enough for URLs that contain commas.
func parseSrcset(s string) []string {
	var out []string
	i := 0
	for i < len(s) {
		for i < len(s) && (isSpace(s[i]) || s[i] == ',') {
			i++
		}
		start := i
		for i < len(s) && !isSpace(s[i]) {
			i++
		}
		u := s[start:i]
		if strings.HasSuffix(u, ",") {
			u = strings.TrimRight(u, ",")
		} else {
			// Skip the descriptors up to the next comma outside
			// parentheses.
			depth := 0
			for ; i < len(s); i++ {
				c := s[i]
				if c == '(' {
					depth++
				} else if c == ')' && depth > 0 {
					depth--
				} else if c == ',' && depth == 0 {
					i++
					break
				}
			}
		}
		if u != "" {
			out = append(out, u)
		}
	}
	return out
}

// cssURLs returns the arguments of every url(...) in a piece of CSS.
func cssURLs(css string) []string {
	var out []string
	lower := asciiLower(css)
	for i := 0; ; {
		j := strings.Index(lower[i:], "url(")
		if j < 0 {
			return out
		}
		i += j + len("url(")
		for i < len(css) && isSpace(css[i]) {
			i++
		}
		if i >= len(css) {
			return out
		}
		var u string
		if q := css[i]; q == '"' || q == '\'' {
			end := strings.IndexByte(css[i+1:], q)
			if end < 0 {
				return out
			}
			u = css[i+1 : i+1+end]
			i += end + 2
		} else {
			end := strings.IndexByte(css[i:], ')')
			if end < 0 {
				return out
			}
			u = strings.TrimSpace(css[i : i+end])
			i += end + 1
		}
		if u != "" {
			out = append(out, u)
		}
	}
}

// asciiLower lower-cases ASCII letters only, so byte offsets are kept.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
