package render

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/vigil-hotline/vigil/internal/crawl"
)

// proxy is the forward proxy a browser's every request goes through. A GET
// (or HEAD) is fetched by the crawler's Fetcher, with its address guard,
// redirect rules and size limits, and its evidence recorded; an https
// CONNECT is tunnelled to an address the crawler's Dialer resolved and
// checked itself, within a byte budget. Anything else is refused. One proxy
// serves one render, so that its request budget and evidence are that
// render's.
type proxy struct {
	fetcher     *crawl.Fetcher
	dialer      *crawl.Dialer
	maxRequests int
	maxBytes    int64
	ctx         context.Context

	mu       sync.Mutex
	requests []crawl.ProxiedRequest
	count    int
	bytes    int64
	conns    map[net.Conn]bool
	closed   bool
}

// admit counts a request against the render's budget.
func (p *proxy) admit() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.count++
	return p.count <= p.maxRequests && !p.closed
}

func (p *proxy) record(r crawl.ProxiedRequest) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.requests = append(p.requests, r)
	p.bytes += r.Bytes
}

// evidence returns the requests recorded so far.
func (p *proxy) evidence() []crawl.ProxiedRequest {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]crawl.ProxiedRequest(nil), p.requests...)
}

func (p *proxy) overBytes() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.bytes > p.maxBytes
}

func (p *proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	started := time.Now().UTC()
	rec := crawl.ProxiedRequest{Method: r.Method, URL: r.URL.String(), Started: started}
	refuse := func(status int, reason crawl.Reason, msg string) {
		rec.Status, rec.Reason, rec.Error, rec.Duration = status, reason, msg, time.Since(started)
		p.record(rec)
		http.Error(w, msg, status)
	}
	if !p.admit() {
		refuse(http.StatusTooManyRequests, "budget", fmt.Sprintf("budget: more than %d requests in one render", p.maxRequests))
		return
	}
	if p.overBytes() {
		refuse(http.StatusTooManyRequests, "budget", fmt.Sprintf("budget: more than %d bytes in one render", p.maxBytes))
		return
	}
	switch {
	case r.Method == http.MethodConnect:
		rec.URL = r.Host
		p.tunnel(w, r, &rec)
		return
	case r.Method != http.MethodGet && r.Method != http.MethodHead:
		// A render looks; it never submits.
		refuse(http.StatusMethodNotAllowed, crawl.ReasonRefused, "refused: only GET is proxied")
		return
	case !r.URL.IsAbs():
		refuse(http.StatusBadRequest, crawl.ReasonBadURL, "bad url: a proxy request names an absolute URL")
		return
	}
	resp, err := p.fetcher.Do(r.Context(), crawl.Request{URL: r.URL.String(), Referer: r.Header.Get("Referer"),
		Accept: r.Header.Get("Accept")})
	ev := resp.Evidence
	rec.FinalURL, rec.Status, rec.Connected, rec.Bytes, rec.Class = ev.FinalURL, ev.Status, ev.Connected, ev.Bytes, ev.Class
	rec.Reason, rec.Error, rec.Duration = ev.Reason, ev.Error, time.Since(started)
	p.record(rec)
	if err != nil {
		status := http.StatusBadGateway
		if crawl.ReasonOf(err) == crawl.ReasonRefused {
			status = http.StatusForbidden
		}
		http.Error(w, ev.Error, status)
		return
	}
	// Only what a page needs to draw itself is passed on: no cookies,
	// no caching instructions, no redirects (the fetcher followed them).
	if ct := ev.ContentType; ct != "" {
		w.Header().Set("Content-Type", ct)
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Length", strconv.Itoa(len(resp.Body)))
	w.WriteHeader(max(ev.Status, 200))
	if r.Method == http.MethodGet {
		_, _ = w.Write(resp.Body)
	}
}

// tunnel serves CONNECT: the Dialer resolves and checks the host, then bytes
// flow both ways until either side ends, the render ends, or the tunnel has
// carried the render's byte budget.
func (p *proxy) tunnel(w http.ResponseWriter, r *http.Request, rec *crawl.ProxiedRequest) {
	started := rec.Started
	ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
	defer cancel()
	up, err := p.dialer.DialContext(ctx, "tcp", r.Host)
	if err != nil {
		fe := crawl.ClassifyDialErr(err)
		rec.Status, rec.Reason, rec.Error, rec.Duration = http.StatusForbidden, fe.Reason, fe.Msg, time.Since(started)
		p.record(*rec)
		http.Error(w, fe.Msg, http.StatusForbidden)
		return
	}
	if c, ok := up.(*crawl.Conn); ok {
		rec.Connected = c.Addr
	}
	hj, ok := w.(http.Hijacker)
	if !ok {
		_ = up.Close()
		http.Error(w, "no tunnel", http.StatusInternalServerError)
		return
	}
	down, buf, err := hj.Hijack()
	if err != nil {
		_ = up.Close()
		return
	}
	if !p.track(down, up) {
		return
	}
	defer p.untrack(down, up)
	_, _ = down.Write([]byte("HTTP/1.1 200 Connection established\r\n\r\n"))
	var n int64
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		// Whatever the client sent after its CONNECT, then the rest.
		_, _ = io.Copy(up, io.MultiReader(buf, down))
		_ = up.Close()
	}()
	n, _ = io.Copy(down, io.LimitReader(up, p.maxBytes))
	_ = down.Close()
	_ = up.Close()
	wg.Wait()
	rec.Status, rec.Bytes, rec.Duration = http.StatusOK, n, time.Since(started)
	p.record(*rec)
}

// track remembers a tunnel's connections so that close ends them; false
// when the proxy is closed already.
func (p *proxy) track(cs ...net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		for _, c := range cs {
			_ = c.Close()
		}
		return false
	}
	for _, c := range cs {
		p.conns[c] = true
	}
	return true
}

func (p *proxy) untrack(cs ...net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range cs {
		delete(p.conns, c)
	}
}

// serve starts the proxy on a loopback port; stop ends it and every tunnel.
func (p *proxy) serve() (addr string, stop func(), err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, fmt.Errorf("render proxy: %w", err)
	}
	p.conns = map[net.Conn]bool{}
	srv := &http.Server{Handler: p, ReadHeaderTimeout: 10 * time.Second,
		BaseContext: func(net.Listener) context.Context { return p.ctx }}
	done := make(chan struct{})
	go func() {
		defer close(done)
		// Serve ends with ErrServerClosed at stop; a failure before
		// shows as the render's own error (the browser cannot connect).
		_ = srv.Serve(ln)
	}()
	return ln.Addr().String(), func() {
		p.mu.Lock()
		p.closed = true
		for c := range p.conns {
			_ = c.Close()
		}
		p.mu.Unlock()
		_ = srv.Close()
		<-done
	}, nil
}
