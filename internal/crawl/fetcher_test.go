package crawl

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigil-hotline/vigil/internal/simnet"
)

const testMaxBytes = 1 << 20

func startSim(t *testing.T, opts simnet.Options) *simnet.Net {
	t.Helper()
	n, err := simnet.Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n.Close() })
	return n
}

// connectGuard wraps the real connect and fails the test on any attempt to
// reach an address outside allow: SSRF tests prove refusals happen before
// a connection is even tried.
type connectGuard struct {
	t     *testing.T
	allow []netip.AddrPort
	bad   atomic.Int64
}

func (g *connectGuard) connect(ctx context.Context, network string, ap netip.AddrPort) (net.Conn, error) {
	ok := false
	for _, a := range g.allow {
		ok = ok || a == ap
	}
	if !ok {
		g.bad.Add(1)
		g.t.Errorf("connect attempted to %s", ap)
		return nil, errors.New("test guard: not connecting")
	}
	var d net.Dialer
	return d.DialContext(ctx, network, ap.String())
}

// testConfig is a Config with short limits for simnet n. guard, when not
// nil, replaces the real connect.
func testConfig(n *simnet.Net, guard *connectGuard) Config {
	cfg := Config{
		Policy:        Policy{AllowAddrs: n.AllowAddrs()},
		Resolver:      n.Resolver,
		MaxBytes:      testMaxBytes,
		HeaderTimeout: 2 * time.Second,
		Timeout:       5 * time.Second,
		IdleTimeout:   2 * time.Second,
		RetryBase:     10 * time.Millisecond,
		RetryMax:      200 * time.Millisecond,
	}
	if guard != nil {
		guard.allow = n.AllowAddrs()
		cfg.Connect = guard.connect
	}
	return cfg
}

func newTestFetcher(t *testing.T, cfg Config) *Fetcher {
	f := NewFetcher(cfg)
	t.Cleanup(f.Close)
	return f
}

func TestFetchPageEvidence(t *testing.T) {
	n := startSim(t, simnet.Options{})
	f := newTestFetcher(t, testConfig(n, nil))
	p, err := f.FetchPage(context.Background(), n.GatewayURL(), "")
	if err != nil {
		t.Fatal(err)
	}
	ev := p.Evidence
	lo := netip.MustParseAddr("127.0.0.1")
	if !ev.OK() || ev.Status != 200 || ev.FinalURL != n.GatewayURL() || ev.Class != ClassHTML || ev.Sniffed != "text/html" {
		t.Errorf("evidence: %+v", ev)
	}
	if len(ev.ResolvedIPs) != 1 || ev.ResolvedIPs[0] != lo || ev.Connected != n.Addr {
		t.Errorf("resolved %v connected %v, want [127.0.0.1] %v", ev.ResolvedIPs, ev.Connected, n.Addr)
	}
	if ev.SHA256 != sha256Hex(p.Body) || ev.Bytes != int64(len(p.Body)) || ev.Bytes == 0 {
		t.Errorf("sha %s bytes %d for a body of %d", ev.SHA256, ev.Bytes, len(p.Body))
	}
	if ev.Header.Get("Content-Type") == "" || ev.Started.IsZero() || ev.Duration <= 0 || ev.Attempts != 1 {
		t.Errorf("header/time: %+v", ev)
	}
	media, pages := urls(p.Links.Media), urls(p.Links.Pages)
	for _, want := range []string{n.URL(simnet.Gallery, "/img/1.jpg"), n.URL(simnet.Gallery, "/img/2.jpg")} {
		if !strings.Contains(strings.Join(media, " "), want) {
			t.Errorf("media %q lacks %s", media, want)
		}
	}
	wantPages := []string{n.URL(simnet.Gallery, "/galleries/"), n.URL(simnet.Gallery, "/about"), n.URL(simnet.Mirror, "/")}
	if strings.Join(pages, " ") != strings.Join(wantPages, " ") {
		t.Errorf("pages %q, want %q", pages, wantPages)
	}

	// The evidence survives JSON.
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	var back Evidence
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.Connected != ev.Connected || back.SHA256 != ev.SHA256 || !back.Started.Equal(ev.Started) || back.ResolvedIPs[0] != lo {
		t.Errorf("JSON round trip: %s", b)
	}

	// A reused connection still yields the evidence of where it goes.
	p2, err := f.FetchPage(context.Background(), n.URL(simnet.Gallery, "/about"), n.GatewayURL())
	if err != nil || p2.Evidence.Connected != n.Addr || len(p2.Evidence.ResolvedIPs) != 1 {
		t.Errorf("second fetch: %v %+v", err, p2.Evidence)
	}
}

func TestFetchMedia(t *testing.T) {
	n := startSim(t, simnet.Options{})
	f := newTestFetcher(t, testConfig(n, nil))
	r, err := f.FetchMedia(context.Background(), n.URL(simnet.CDN, "/img/101.jpg"), n.GatewayURL())
	if err != nil {
		t.Fatal(err)
	}
	want, _ := n.Images.Bytes(101, simnet.Variant{})
	if !bytes.Equal(r.Body, want) || r.Evidence.Sniffed != "image/jpeg" || r.Evidence.Class != ClassImage {
		t.Errorf("got %d bytes %s %s", len(r.Body), r.Evidence.Sniffed, r.Evidence.Class)
	}
	// Sniffing believes bytes, not the header or the extension.
	r, err = f.FetchMedia(context.Background(), n.URL(simnet.Tricks, "/disguised.txt"), "")
	if err != nil || r.Evidence.ContentType != "text/plain" || r.Evidence.Sniffed != "image/png" || r.Evidence.Class != ClassImage {
		t.Errorf("disguised: %v %+v", err, r.Evidence)
	}
	// A 404 is an answer, not an error; the page was taken down.
	n.TakeDown(simnet.CDN, "/img/101.jpg")
	r, err = f.FetchMedia(context.Background(), n.URL(simnet.CDN, "/img/101.jpg"), "")
	if err != nil || r.Evidence.Status != 404 || r.Evidence.OK() || r.Evidence.Reason != "" {
		t.Errorf("taken down: %v %+v", err, r.Evidence)
	}
}

func TestRedirectChain(t *testing.T) {
	n := startSim(t, simnet.Options{})
	f := newTestFetcher(t, testConfig(n, nil))
	p, err := f.FetchPage(context.Background(), n.URL(simnet.Tricks, "/chain/3"), "")
	if err != nil {
		t.Fatal(err)
	}
	ev := p.Evidence
	if len(ev.Redirects) != 3 || ev.FinalURL != n.URL(simnet.Tricks, "/chain/0") || ev.Status != 200 {
		t.Fatalf("evidence: %+v", ev)
	}
	for i, h := range ev.Redirects {
		if h.URL != n.URL(simnet.Tricks, fmt.Sprintf("/chain/%d", 3-i)) || h.Status != 302 ||
			h.Location != fmt.Sprintf("/chain/%d", 2-i) || h.Connected != n.Addr {
			t.Errorf("hop %d: %+v", i, h)
		}
	}
	if len(p.Links.Media) != 1 || p.Links.Media[0].URL != n.URL(simnet.Tricks, "/img/42.jpg") {
		t.Errorf("links resolved against the final URL: %+v", p.Links)
	}
}

// TestRedirectRefused follows redirects to internal addresses with loopback
// not allowed (only the simnet server's exact address:port is): every one
// is refused before any connection, with the hop recorded.
func TestRedirectRefused(t *testing.T) {
	n := startSim(t, simnet.Options{})
	guard := &connectGuard{t: t}
	f := newTestFetcher(t, testConfig(n, guard))
	cases := []struct {
		path, reason, msg string
		resolved          string
	}{
		{"/redirect/loopback", "refused", "refused: address 127.0.0.1 is loopback", "127.0.0.1"},
		{"/redirect/loopback80", "refused", "refused: address 127.0.0.1 is loopback", "127.0.0.1"},
		{"/redirect/mapped", "refused", "refused: address 127.0.0.1 is loopback", "127.0.0.1"},
		{"/redirect/metadata", "refused", "refused: address 169.254.169.254 is cloud metadata", "169.254.169.254"},
		{"/redirect/metadata-name", "refused", "refused: address 169.254.169.254 is cloud metadata", "169.254.169.254"},
		{"/redirect/private", "refused", "refused: address 10.0.0.7 is private", "10.0.0.7"},
		{"/redirect/ftp", "bad_url", `bad url: scheme "ftp" is not http or https`, ""},
	}
	for _, c := range cases {
		t.Run(c.path, func(t *testing.T) {
			r, err := f.Do(context.Background(), Request{URL: n.URL(simnet.Tricks, c.path)})
			ev := r.Evidence
			if ReasonOf(err) != Reason(c.reason) || ev.Reason != Reason(c.reason) || ev.Error != c.msg {
				t.Fatalf("err %v, evidence %q %q; want %s %q", err, ev.Reason, ev.Error, c.reason, c.msg)
			}
			if len(ev.Redirects) != 1 || ev.Redirects[0].Status != 302 || r.Body != nil || ev.Status != 0 {
				t.Errorf("evidence: %+v", ev)
			}
			if c.resolved != "" && (len(ev.ResolvedIPs) != 1 || ev.ResolvedIPs[0].String() != c.resolved) {
				t.Errorf("resolved %v, want %s", ev.ResolvedIPs, c.resolved)
			}
			if ReasonOf(err).Retryable() {
				t.Error("a refusal is retryable")
			}
		})
	}
	// Straight to internal addresses, and a name with one internal answer.
	for _, u := range []string{"http://169.254.169.254/latest/meta-data/", "http://[fd00:ec2::254]/", "http://100.100.100.200/",
		n.InternalURL("/"), fmt.Sprintf("http://[::1]:%d/", n.Addr.Port()), n.URL(simnet.Mixed, "/"), "http://0.0.0.0:80/"} {
		if _, err := f.Do(context.Background(), Request{URL: u}); ReasonOf(err) != ReasonRefused {
			t.Errorf("%s: %v", u, err)
		}
	}
	if n.InternalHits() != 0 || guard.bad.Load() != 0 {
		t.Errorf("internal service hit %d times, %d bad connects", n.InternalHits(), guard.bad.Load())
	}
}

// TestDNSRebinding: rebind.example answers the simnet server first and the
// metadata address afterwards. The first fetch reaches exactly the address
// it checked; once the connection is gone, the next lookup is refused.
func TestDNSRebinding(t *testing.T) {
	n := startSim(t, simnet.Options{})
	guard := &connectGuard{t: t}
	f := newTestFetcher(t, testConfig(n, guard))
	r, err := f.Do(context.Background(), Request{URL: n.URL(simnet.Rebind, "/")})
	if err != nil || r.Evidence.Connected != n.Addr || n.Resolver.Lookups(simnet.Rebind) != 1 {
		t.Fatalf("first fetch: %v %+v after %d lookups", err, r.Evidence, n.Resolver.Lookups(simnet.Rebind))
	}
	f.Close() // drop the idle connection, so the next request dials
	r, err = f.Do(context.Background(), Request{URL: n.URL(simnet.Tricks, "/redirect/rebind")})
	if ReasonOf(err) != ReasonRefused || r.Evidence.Error != "refused: address 169.254.169.254 is cloud metadata" {
		t.Fatalf("second fetch: %v %+v", err, r.Evidence)
	}
	if n.Resolver.Lookups(simnet.Rebind) != 2 || guard.bad.Load() != 0 {
		t.Errorf("%d lookups, %d bad connects", n.Resolver.Lookups(simnet.Rebind), guard.bad.Load())
	}
}

func TestRedirectLimits(t *testing.T) {
	n := startSim(t, simnet.Options{})
	f := newTestFetcher(t, testConfig(n, nil))
	r, err := f.Do(context.Background(), Request{URL: n.URL(simnet.Tricks, "/loop/a")})
	if ReasonOf(err) != ReasonRedirectLoop || len(r.Evidence.Redirects) != 2 ||
		r.Evidence.Error != "redirect loop: back to "+n.URL(simnet.Tricks, "/loop/a") {
		t.Errorf("loop: %v %+v", err, r.Evidence)
	}
	r, err = f.Do(context.Background(), Request{URL: n.URL(simnet.Tricks, "/many/0")})
	if ReasonOf(err) != ReasonTooManyRedirects || len(r.Evidence.Redirects) != 11 ||
		r.Evidence.Error != "too many redirects: more than 10" {
		t.Errorf("many: %v %d hops", err, len(r.Evidence.Redirects))
	}
	if h := n.Hits(simnet.Tricks, "/many/11"); h != 0 {
		t.Errorf("followed past the limit: /many/11 hit %d times", h)
	}
	if h := n.Hits(simnet.Tricks, "/many/10"); h != 1 {
		t.Errorf("/many/10 hit %d times, want 1", h)
	}
}

// heapGrowth runs fn and returns how much the live heap grew, a coarse
// check that a 10 GB body or a gzip bomb was never held.
func heapGrowth(fn func()) int64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return int64(after.TotalAlloc) - int64(before.TotalAlloc)
}

func TestBoundedBodies(t *testing.T) {
	n := startSim(t, simnet.Options{BombSize: 256 << 20})
	f := newTestFetcher(t, testConfig(n, nil))
	cases := []struct {
		path, msg string
	}{
		{"/huge", "too large: declared 10737418240 bytes, limit 1048576"},
		{"/huge-chunked", "too large: body exceeds 1048576 bytes"},
		{"/bomb", "too large: decompressed body exceeds 1048576 bytes"},
	}
	for _, c := range cases {
		t.Run(c.path, func(t *testing.T) {
			var r *Response
			var err error
			start := time.Now()
			alloc := heapGrowth(func() {
				r, err = f.Do(context.Background(), Request{URL: n.URL(simnet.Tricks, c.path)})
			})
			if ReasonOf(err) != ReasonTooLarge || r.Evidence.Error != c.msg || r.Body != nil {
				t.Fatalf("%v %+v", err, r.Evidence)
			}
			if r.Evidence.Bytes > testMaxBytes+1 || r.Evidence.SHA256 != "" || r.Evidence.Status != 200 {
				t.Errorf("bytes %d sha %q status %d", r.Evidence.Bytes, r.Evidence.SHA256, r.Evidence.Status)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("took %v", d)
			}
			// The server's bomb is built on the first request and
			// counted here; 256 MiB inflated would dwarf this.
			if alloc > 24<<20 {
				t.Errorf("allocated %d bytes", alloc)
			}
		})
	}
}

func TestBigPNGFetched(t *testing.T) {
	n := startSim(t, simnet.Options{})
	f := newTestFetcher(t, testConfig(n, nil))
	r, err := f.FetchMedia(context.Background(), n.URL(simnet.Tricks, "/bigpng.png"), "")
	if err != nil || !r.Evidence.OK() || r.Evidence.Sniffed != "image/png" || r.Evidence.Class != ClassImage {
		t.Fatalf("%v %+v", err, r.Evidence)
	}
	if r.Evidence.Bytes > 64<<10 || !bytes.Equal(r.Body, simnet.BigPNG(100_000, 100_000)) {
		t.Errorf("got %d bytes", r.Evidence.Bytes)
	}
}

func TestSlowServers(t *testing.T) {
	n := startSim(t, simnet.Options{SlowInterval: 100 * time.Millisecond})
	cases := []struct {
		name, path string
		mod        func(*Config)
		msg        string
		within     time.Duration
	}{
		{"total", "/slow", func(c *Config) { c.Timeout = 800 * time.Millisecond },
			"timeout: fetch took too long", 1500 * time.Millisecond},
		{"idle", "/slow", func(c *Config) { c.IdleTimeout = 30 * time.Millisecond },
			"timeout: no data received for too long", time.Second},
		{"headers", "/stall", func(c *Config) { c.HeaderTimeout = 200 * time.Millisecond },
			"timeout: net/http: timeout awaiting response headers", time.Second},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := testConfig(n, nil)
			c.mod(&cfg)
			f := newTestFetcher(t, cfg)
			start := time.Now()
			r, err := f.Do(context.Background(), Request{URL: n.URL(simnet.Tricks, c.path)})
			d := time.Since(start)
			if ReasonOf(err) != ReasonTimeout || !strings.HasPrefix(r.Evidence.Error, c.msg) || d > c.within {
				t.Errorf("after %v: %v, evidence %q", d, err, r.Evidence.Error)
			}
			if !ReasonOf(err).Retryable() || r.Evidence.Attempts != 1 {
				t.Errorf("retryable %v attempts %d", ReasonOf(err).Retryable(), r.Evidence.Attempts)
			}
		})
	}
}

// TestOneByteASecond is the case as stated, with a 1.5 s total
// timeout.
func TestOneByteASecond(t *testing.T) {
	n := startSim(t, simnet.Options{})
	cfg := testConfig(n, nil)
	cfg.Timeout = 1500 * time.Millisecond
	f := newTestFetcher(t, cfg)
	start := time.Now()
	r, err := f.Do(context.Background(), Request{URL: n.URL(simnet.Tricks, "/slow")})
	if ReasonOf(err) != ReasonTimeout || time.Since(start) > 2500*time.Millisecond || r.Evidence.Bytes > 2 {
		t.Errorf("after %v: %v, %d bytes", time.Since(start), err, r.Evidence.Bytes)
	}
}

func TestRetries(t *testing.T) {
	n := startSim(t, simnet.Options{})
	f := newTestFetcher(t, testConfig(n, nil))
	ctx := context.Background()

	r, err := f.FetchMedia(ctx, n.URL(simnet.Tricks, "/flaky/a?fail=2"), "")
	if err != nil || !r.Evidence.OK() || r.Evidence.Attempts != 3 || r.Evidence.Class != ClassImage {
		t.Errorf("recovering: %v %+v", err, r.Evidence)
	}
	r, err = f.FetchMedia(ctx, n.URL(simnet.Tricks, "/flaky/b?fail=9"), "")
	if ReasonOf(err) != ReasonHTTPStatus || r.Evidence.Status != 503 || r.Evidence.Attempts != 3 ||
		r.Evidence.Error != "http_status: 503 after 3 attempts" || !ReasonOf(err).Retryable() {
		t.Errorf("persistent: %v %+v", err, r.Evidence)
	}
	// Retry-After: 1 is honoured up to RetryMax (200ms here).
	start := time.Now()
	r, err = f.FetchMedia(ctx, n.URL(simnet.Tricks, "/flaky/c?fail=1&code=429&retry-after=1"), "")
	if d := time.Since(start); err != nil || r.Evidence.Attempts != 2 || d < 150*time.Millisecond || d > 900*time.Millisecond {
		t.Errorf("429: %v attempts %d in %v", err, r.Evidence.Attempts, d)
	}
	// 404 is not retried.
	r, _ = f.FetchMedia(ctx, n.URL(simnet.Tricks, "/nothing"), "")
	if r.Evidence.Status != 404 || r.Evidence.Attempts != 1 {
		t.Errorf("404: %+v", r.Evidence)
	}
}

func TestRetryAfterParse(t *testing.T) {
	if d, ok := retryAfter("7"); !ok || d != 7*time.Second {
		t.Errorf("seconds: %v %v", d, ok)
	}
	if d, ok := retryAfter(time.Now().Add(time.Hour).UTC().Format(http.TimeFormat)); !ok || d < 59*time.Minute {
		t.Errorf("date: %v %v", d, ok)
	}
	if _, ok := retryAfter("soon"); ok {
		t.Error("garbage parsed")
	}
}

// TestGzip: compressed bodies are decoded and hashed decoded; corrupt ones
// fail with a reason.
func TestGzip(t *testing.T) {
	page := []byte("<!doctype html><html><body><img src=/a.jpg></body></html>")
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write(page)
	_ = zw.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Encoding", "gzip")
		if r.URL.Path == "/corrupt" {
			_, _ = w.Write([]byte("\x1f\x8b\x08\x00garbage-garbage-garbage"))
			return
		}
		if r.Header.Get("Accept-Encoding") != "gzip" {
			t.Errorf("Accept-Encoding = %q", r.Header.Get("Accept-Encoding"))
		}
		_, _ = w.Write(gz.Bytes())
	}))
	defer srv.Close()
	ap := netip.MustParseAddrPort(srv.Listener.Addr().String())
	f := newTestFetcher(t, Config{Policy: Policy{AllowAddrs: []netip.AddrPort{ap}}, Timeout: 2 * time.Second})
	p, err := f.FetchPage(context.Background(), srv.URL+"/", "")
	if err != nil || !bytes.Equal(p.Body, page) || p.Evidence.SHA256 != sha256Hex(page) || len(p.Links.Media) != 1 {
		t.Errorf("%v %q %+v", err, p.Body, p.Evidence)
	}
	_, err = f.FetchPage(context.Background(), srv.URL+"/corrupt", "")
	if r := ReasonOf(err); r != ReasonDecode && r != ReasonNetwork {
		t.Errorf("corrupt gzip: %v (%s)", err, r)
	}
}

// TestHTTPS: over TLS and HTTP/2 the evidence still names the resolved and
// connected addresses, dug out from under the TLS connection.
func TestHTTPS(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "<html><body><img src=/x.png></body></html>")
	}))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	defer srv.Close()
	ap := netip.MustParseAddrPort(srv.Listener.Addr().String())
	tlsCfg := srv.Client().Transport.(*http.Transport).TLSClientConfig
	f := newTestFetcher(t, Config{Policy: Policy{AllowAddrs: []netip.AddrPort{ap}}, TLSConfig: tlsCfg, Timeout: 5 * time.Second})
	for range 2 { // the second request reuses the connection
		p, err := f.FetchPage(context.Background(), srv.URL+"/", "")
		ev := p.Evidence
		if err != nil || ev.Proto != "HTTP/2.0" || ev.Connected != ap || len(ev.ResolvedIPs) != 1 || len(p.Links.Media) != 1 {
			t.Fatalf("%v %+v", err, ev)
		}
	}
}

// TestPerHostLimit: twelve concurrent fetches to one host never have more
// than two requests in flight there.
func TestPerHostLimit(t *testing.T) {
	var cur, peak atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := cur.Add(1)
		for p := peak.Load(); c > p && !peak.CompareAndSwap(p, c); p = peak.Load() {
		}
		time.Sleep(20 * time.Millisecond)
		cur.Add(-1)
		fmt.Fprint(w, "ok")
	}))
	defer srv.Close()
	ap := netip.MustParseAddrPort(srv.Listener.Addr().String())
	res := simnet.NewResolver()
	res.Set("busy.example", ap.Addr())
	f := newTestFetcher(t, Config{Policy: Policy{AllowAddrs: []netip.AddrPort{ap}}, Resolver: res, Timeout: 5 * time.Second})
	var wg sync.WaitGroup
	for i := range 12 {
		wg.Go(func() {
			u := fmt.Sprintf("http://busy.example:%d/%d", ap.Port(), i)
			if _, err := f.Do(context.Background(), Request{URL: u}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if p := peak.Load(); p != 2 {
		t.Errorf("peak concurrency %d, want 2", p)
	}
	if len(f.hosts.m) != 0 {
		t.Errorf("host limiter kept %d entries", len(f.hosts.m))
	}
}

func TestBadURLs(t *testing.T) {
	f := newTestFetcher(t, Config{Resolver: simnet.NewResolver()})
	for _, u := range []string{"ftp://x.example/", "javascript:alert(1)", "http://", "::not a url", "file:///etc/passwd"} {
		r, err := f.Do(context.Background(), Request{URL: u})
		if ReasonOf(err) != ReasonBadURL || r.Evidence.RequestedURL != u {
			t.Errorf("%q: %v", u, err)
		}
	}
	r, err := f.Do(context.Background(), Request{URL: "http://nowhere.example/"})
	if ReasonOf(err) != ReasonDNS || r.Evidence.Error == "" {
		t.Errorf("unknown host: %v", err)
	}
}
