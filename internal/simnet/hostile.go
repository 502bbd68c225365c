package simnet

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// serveTricks serves tricks.example, the hostile site. It reports whether
// it handled the path.
//
//	/chain/N           302 to /chain/N-1 ... /chain/0, a page with one image
//	/many/N            302 to /many/N+1, forever (too many redirects)
//	/loop/a, /loop/b   302 to each other
//	/redirect/loopback 302 to the internal service at 127.0.0.1:its port
//	/redirect/loopback80   302 to http://127.0.0.1/
//	/redirect/mapped   302 to the internal service as [::ffff:127.0.0.1]
//	/redirect/metadata 302 to http://169.254.169.254/latest/meta-data/
//	/redirect/metadata-name    302 to metadata.example (169.254.169.254)
//	/redirect/private  302 to private.example (10.0.0.7)
//	/redirect/rebind   302 to rebind.example
//	/redirect/ftp      302 to an ftp: URL
//	/endless/N         a page linking to four new pages and one new image
//	/huge              10 GB declared in Content-Length, streamed lazily
//	/huge-chunked      the same without Content-Length
//	/slow              headers, then one byte per Options.SlowInterval
//	/stall             no headers, ever
//	/bomb              a gzip bomb: ~1 MB that inflates to Options.BombSize
//	/bigpng.png        a PNG whose header claims 100,000×100,000 pixels
//	/disguised.txt     a PNG served as text/plain
//	/svg-icon-page     an HTML page with an inline <svg> icon in its first
//	                   kilobyte, an image and a link to /svg-icon-page/more
//	/drawing.svg       an SVG document referencing an image with <image href>
//	/svg-img-page      a page showing /drawing.svg with <img>
//	/flaky/KEY?fail=N&code=C&retry-after=S
//	                   C (default 503) for the first N requests of KEY, then
//	                   an image
func (n *Net) serveTricks(w http.ResponseWriter, r *http.Request) bool {
	p := r.URL.Path
	redirect := func(to string) { http.Redirect(w, r, to, http.StatusFound) }
	switch {
	case strings.HasPrefix(p, "/chain/"):
		k, err := strconv.Atoi(strings.TrimPrefix(p, "/chain/"))
		if err != nil || k < 0 {
			return false
		}
		if k > 0 {
			redirect(fmt.Sprintf("/chain/%d", k-1))
			return true
		}
		writeHTML(w, fmt.Sprintf(`<p>End of the chain.</p><img src="%s">`, ImagePath(42, Variant{})))
	case strings.HasPrefix(p, "/many/"):
		k, err := strconv.Atoi(strings.TrimPrefix(p, "/many/"))
		if err != nil {
			return false
		}
		redirect(fmt.Sprintf("/many/%d", k+1))
	case p == "/loop/a":
		redirect("/loop/b")
	case p == "/loop/b":
		redirect("/loop/a")
	case p == "/redirect/loopback":
		redirect(n.InternalURL("/secret"))
	case p == "/redirect/loopback80":
		redirect("http://127.0.0.1/secret")
	case p == "/redirect/mapped":
		redirect(fmt.Sprintf("http://[::ffff:127.0.0.1]:%d/secret", n.InternalAddr.Port()))
	case p == "/redirect/metadata":
		redirect("http://169.254.169.254/latest/meta-data/")
	case p == "/redirect/metadata-name":
		redirect(n.URL(Metadata, "/latest/meta-data/"))
	case p == "/redirect/private":
		redirect(n.URL(Private, "/"))
	case p == "/redirect/rebind":
		redirect(n.URL(Rebind, "/"))
	case p == "/redirect/ftp":
		redirect("ftp://files.example/pub/")
	case strings.HasPrefix(p, "/endless/"):
		k, err := strconv.ParseUint(strings.TrimPrefix(p, "/endless/"), 10, 64)
		if err != nil {
			return false
		}
		var b strings.Builder
		for c := uint64(1); c <= 4; c++ {
			fmt.Fprintf(&b, "<a href=\"/endless/%d\">more</a>\n", 4*k+c)
		}
		fmt.Fprintf(&b, "<img src=\"%s\">\n", ImagePath(5_000_000+k, Variant{}))
		writeHTML(w, b.String())
	case p == "/huge", p == "/huge-chunked":
		n.serveHuge(w, r, p == "/huge")
	case p == "/slow":
		n.serveSlow(w, r)
	case p == "/stall":
		<-r.Context().Done()
	case p == "/bomb":
		w.Header().Set("Content-Type", "text/html")
		w.Header().Set("Content-Encoding", "gzip")
		_, _ = w.Write(n.Bomb())
	case p == "/bigpng.png":
		w.Header().Set("Content-Type", "image/png")
		_, _ = w.Write(n.bigPNG)
	case p == "/disguised.txt":
		b, err := n.Images.Bytes(7, Variant{Format: "png"})
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return true
		}
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write(b)
	case p == "/svg-icon-page":
		// A site hiding its gallery from a crawler that takes any text
		// with "<svg" near its start for an image.
		writeHTML(w, fmt.Sprintf(`<svg width="16" height="16" viewBox="0 0 16 16"><circle cx="8" cy="8" r="7"/></svg>
<h1>Gallery</h1><img src="%s"><a href="/svg-icon-page/more">more</a>`, ImagePath(61, Variant{})))
	case p == "/svg-img-page":
		writeHTML(w, `<p>A drawing:</p><img src="/drawing.svg">`)
	case p == "/svg-icon-page/more":
		writeHTML(w, fmt.Sprintf(`<img src="%s">`, ImagePath(62, Variant{})))
	case p == "/drawing.svg":
		w.Header().Set("Content-Type", "image/svg+xml")
		fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?>
<!-- a drawing -->
<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="64" height="64">
<image href="%s" width="64" height="64"/><image xlink:href="%s" width="8" height="8"/>
</svg>
`, ImagePath(63, Variant{}), ImagePath(64, Variant{}))
	case strings.HasPrefix(p, "/flaky/"):
		n.serveFlaky(w, r)
	default:
		return false
	}
	return true
}

func writeHTML(w http.ResponseWriter, body string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	fmt.Fprintf(w, "<!doctype html><html><head><title>tricks</title></head><body>\n%s</body></html>\n", body)
}

// serveHuge streams zeros until HugeSize bytes are sent or the client goes;
// nothing of that size is ever held in memory.
func (n *Net) serveHuge(w http.ResponseWriter, r *http.Request, declare bool) {
	size := n.opts.HugeSize
	w.Header().Set("Content-Type", "application/octet-stream")
	if declare {
		w.Header().Set("Content-Length", strconv.FormatInt(size, 10))
	}
	buf := make([]byte, 32<<10)
	for sent := int64(0); sent < size; {
		k := int(min(int64(len(buf)), size-sent))
		if _, err := w.Write(buf[:k]); err != nil || r.Context().Err() != nil {
			return
		}
		sent += int64(k)
	}
}

// serveSlow sends headers at once, then one byte per SlowInterval, for as
// long as the client listens.
func (n *Net) serveSlow(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	_ = rc.Flush()
	const body = "<!doctype html><html><body><p>patience</p></body></html>"
	t := time.NewTicker(n.opts.SlowInterval)
	defer t.Stop()
	for i := 0; ; i++ {
		select {
		case <-r.Context().Done():
			return
		case <-t.C:
		}
		if _, err := w.Write([]byte{body[i%len(body)]}); err != nil {
			return
		}
		if rc.Flush() != nil {
			return
		}
	}
}

// Bomb returns the gzip bomb's bytes: copies of one gzip member holding
// 1 MiB of zeros (about 1 kB each), as many as make BombSize, built once
// in a few milliseconds.
func (n *Net) Bomb() []byte {
	n.bombOnce.Do(func() {
		const member = 1 << 20
		var one bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&one, gzip.BestCompression)
		_, _ = zw.Write(make([]byte, member))
		_ = zw.Close()
		n.bomb = bytes.Repeat(one.Bytes(), int(max(1, n.opts.BombSize/member)))
	})
	return n.bomb
}

// serveFlaky fails the first N requests for a key with code (503 unless
// given), with a Retry-After when asked, then serves an image.
func (n *Net) serveFlaky(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	fail, _ := strconv.Atoi(q.Get("fail"))
	code, _ := strconv.Atoi(q.Get("code"))
	if code < 400 || code > 599 {
		code = http.StatusServiceUnavailable
	}
	n.mu.Lock()
	n.counters[r.URL.Path]++
	seen := n.counters[r.URL.Path]
	n.mu.Unlock()
	if seen <= fail {
		if ra := q.Get("retry-after"); ra != "" {
			w.Header().Set("Retry-After", ra)
		}
		http.Error(w, http.StatusText(code), code)
		return
	}
	b, err := n.Images.Bytes(8, Variant{})
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "image/jpeg")
	_, _ = w.Write(b)
}
