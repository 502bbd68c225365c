// Package crawl fetches reported URLs safely and turns what it sees into
// evidence: an SSRF-proof dialer, a bounded fetcher, HTML extraction,
// content sniffing and a small in-process site crawler. The job graph calls
// the pieces one step at a time (Fetcher.FetchPage, Fetcher.FetchMedia);
// Crawler strings them together as the reference behaviour.
package crawl

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Defaults for Config's zero fields.
const (
	DefaultUserAgent     = "Vigil-Crawler/1.0 (+https://github.com/vigil-hotline/vigil)"
	DefaultMaxBytes      = 64 << 20
	DefaultHeaderTimeout = 30 * time.Second
	DefaultTimeout       = 2 * time.Minute
	DefaultIdleTimeout   = 30 * time.Second
	DefaultMaxRedirects  = 10
	DefaultAttempts      = 3
	DefaultRetryBase     = 500 * time.Millisecond
	DefaultRetryMax      = 30 * time.Second
	DefaultPerHost       = 2
)

// Config configures a Fetcher. Zero fields take the defaults above.
type Config struct {
	UserAgent string
	// MaxBytes caps a body, after decompression. A larger body is an
	// error and is not kept.
	MaxBytes int64
	// HeaderTimeout bounds the wait for response headers (and the TLS
	// handshake).
	HeaderTimeout time.Duration
	// Timeout bounds a whole fetch: every redirect hop, every retry and
	// the waits between them, and reading the body.
	Timeout time.Duration
	// IdleTimeout ends a body that stops arriving.
	IdleTimeout time.Duration
	// MaxRedirects is the number of redirects followed.
	MaxRedirects int
	// Attempts per request for 429, 5xx and network errors, and the
	// back-off between them: RetryBase doubling, and a Retry-After header
	// honoured; no single wait longer than RetryMax.
	Attempts  int
	RetryBase time.Duration
	RetryMax  time.Duration
	// PerHost is the number of requests in flight to one host, shared by
	// every fetch through this Fetcher.
	PerHost int

	Policy   Policy
	Resolver Resolver // nil: net.DefaultResolver
	// Connect replaces the TCP connect (see Dialer.Connect); tests only.
	Connect   func(ctx context.Context, network string, addr netip.AddrPort) (net.Conn, error)
	TLSConfig *tls.Config
	Logger    *slog.Logger // nil: no logging
}

func (c *Config) setDefaults() {
	def := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	if c.UserAgent == "" {
		c.UserAgent = DefaultUserAgent
	}
	if c.MaxBytes <= 0 {
		c.MaxBytes = DefaultMaxBytes
	}
	def(&c.HeaderTimeout, DefaultHeaderTimeout)
	def(&c.Timeout, DefaultTimeout)
	def(&c.IdleTimeout, DefaultIdleTimeout)
	def(&c.RetryBase, DefaultRetryBase)
	def(&c.RetryMax, DefaultRetryMax)
	if c.MaxRedirects <= 0 {
		c.MaxRedirects = DefaultMaxRedirects
	}
	if c.Attempts <= 0 {
		c.Attempts = DefaultAttempts
	}
	if c.PerHost <= 0 {
		c.PerHost = DefaultPerHost
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// Fetcher fetches single URLs within limits and records evidence. It is safe
// for concurrent use; share one per process so that the per-host limit holds.
type Fetcher struct {
	cfg       Config
	transport *http.Transport
	client    *http.Client
	hosts     hostLimiter
}

// NewFetcher returns a Fetcher. Call Close when done with it.
func NewFetcher(cfg Config) *Fetcher {
	cfg.setDefaults()
	d := &Dialer{Policy: cfg.Policy, Resolver: cfg.Resolver, Timeout: cfg.HeaderTimeout, Connect: cfg.Connect}
	t := &http.Transport{
		Proxy:                  nil, // a proxy would dial on our behalf, unchecked
		DialContext:            d.DialContext,
		TLSClientConfig:        cfg.TLSConfig,
		TLSHandshakeTimeout:    cfg.HeaderTimeout,
		ResponseHeaderTimeout:  cfg.HeaderTimeout,
		DisableCompression:     true, // we decompress ourselves, with a cap
		MaxConnsPerHost:        cfg.PerHost,
		MaxIdleConnsPerHost:    cfg.PerHost,
		MaxIdleConns:           256,
		IdleConnTimeout:        90 * time.Second,
		MaxResponseHeaderBytes: 1 << 20,
		ForceAttemptHTTP2:      true,
	}
	f := &Fetcher{cfg: cfg, transport: t}
	f.client = &http.Client{
		Transport: t,
		// Redirects are followed by hand, to record and limit each hop.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	f.hosts.m = make(map[string]*hostSlot)
	return f
}

// Config returns the configuration in use, defaults filled in.
func (f *Fetcher) Config() Config { return f.cfg }

// Close releases idle connections.
func (f *Fetcher) Close() { f.transport.CloseIdleConnections() }

// Request is one URL to fetch.
type Request struct {
	URL     string
	Referer string
	Accept  string
	// MaxBytes overrides Config.MaxBytes when positive.
	MaxBytes int64
}

// Response is the result of one fetch. Body holds the complete decoded body
// and is nil when the fetch failed.
type Response struct {
	Evidence Evidence
	Body     []byte `json:"-"`
}

// Page is a fetched page with the links found in it (none unless the page is
// HTML and its status 2xx).
type Page struct {
	Evidence Evidence
	Links    Links
	Body     []byte `json:"-"`
}

const (
	acceptPage  = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8"
	acceptMedia = "image/*,video/*;q=0.9,*/*;q=0.8"
)

// FetchPage fetches one page and extracts its links; referer is the page
// that linked to it, or "". The error, when not nil, is a *FetchError also
// recorded in the evidence.
func (f *Fetcher) FetchPage(ctx context.Context, rawURL, referer string) (*Page, error) {
	resp, err := f.Do(ctx, Request{URL: rawURL, Referer: referer, Accept: acceptPage})
	p := &Page{Evidence: resp.Evidence, Body: resp.Body}
	// An SVG document is a picture and a document at once: it is kept as
	// media (see Crawl) and the images it references are followed.
	if err == nil && resp.Evidence.OK() && (resp.Evidence.Class == ClassHTML || resp.Evidence.Sniffed == "image/svg+xml") {
		if base, perr := url.Parse(resp.Evidence.FinalURL); perr == nil {
			p.Links = Extract(resp.Body, base)
		}
	}
	return p, err
}

// FetchMedia fetches one media URL; referer is the page it was found on.
func (f *Fetcher) FetchMedia(ctx context.Context, rawURL, referer string) (*Response, error) {
	return f.Do(ctx, Request{URL: rawURL, Referer: referer, Accept: acceptMedia})
}

// Do fetches req.URL, following redirects. It always returns a Response
// whose Evidence records what happened; err is a *FetchError when the fetch
// failed or was refused. A completed exchange with a 4xx status is not an
// error; a 429 or 5xx that persists through every attempt is.
func (f *Fetcher) Do(ctx context.Context, req Request) (*Response, error) {
	resp := &Response{Evidence: Evidence{RequestedURL: req.URL, Started: time.Now().UTC()}}
	ev := &resp.Evidence
	defer func() { ev.Duration = time.Since(ev.Started) }()
	fail := func(err error) (*Response, error) {
		fe := classifyErr(err)
		ev.Reason, ev.Error = fe.Reason, fe.Msg
		resp.Body = nil
		return resp, fe
	}
	maxBytes := req.MaxBytes
	if maxBytes <= 0 {
		maxBytes = f.cfg.MaxBytes
	}
	ctx, cancel := context.WithTimeoutCause(ctx, f.cfg.Timeout, errTotalTimeout)
	defer cancel()

	u, err := parseTarget(req.URL, nil)
	if err != nil {
		ev.FinalURL = req.URL
		return fail(err)
	}
	seen := map[string]bool{u.String(): true}
	for {
		ev.FinalURL = u.String()
		x, err := f.exchange(ctx, u, req, maxBytes, ev)
		if x != nil {
			ev.Status, ev.Proto, ev.Header, ev.ContentType = x.status, x.proto, x.header, x.header.Get("Content-Type")
			ev.Connected, ev.ResolvedIPs, ev.Bytes = x.connected, x.resolved, x.read
		}
		if err != nil {
			return fail(err)
		}
		if loc := x.header.Get("Location"); isRedirect(x.status) && loc != "" {
			ev.Redirects = append(ev.Redirects, Hop{URL: u.String(), Status: x.status, Location: loc,
				ResolvedIPs: x.resolved, Connected: x.connected})
			if len(ev.Redirects) > f.cfg.MaxRedirects {
				return fail(&FetchError{Reason: ReasonTooManyRedirects,
					Msg: fmt.Sprintf("too many redirects: more than %d", f.cfg.MaxRedirects)})
			}
			// The response fields describe the final response only;
			// this one lives on in the hop.
			ev.Status, ev.Proto, ev.Header, ev.ContentType, ev.Connected, ev.ResolvedIPs = 0, "", nil, "", netip.AddrPort{}, nil
			next, err := parseTarget(loc, u)
			if err != nil {
				ev.FinalURL = loc
				return fail(err)
			}
			if seen[next.String()] {
				return fail(&FetchError{Reason: ReasonRedirectLoop,
					Msg: "redirect loop: back to " + next.String()})
			}
			seen[next.String()] = true
			u = next
			continue
		}
		resp.Body = x.body
		ev.SHA256 = x.sha
		ev.Sniffed, ev.Class = Sniff(x.body)
		if x.retryStatus {
			return fail(&FetchError{Reason: ReasonHTTPStatus,
				Msg: fmt.Sprintf("http_status: %d after %d attempts", x.status, x.attempts)})
		}
		return resp, nil
	}
}

func isRedirect(status int) bool {
	switch status {
	case 301, 302, 303, 307, 308:
		return true
	}
	return false
}

// parseTarget parses ref (relative to base when base is not nil) into an
// absolute http or https URL without fragment.
func parseTarget(ref string, base *url.URL) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(ref))
	if err == nil && base != nil {
		u = base.ResolveReference(u)
	}
	if err != nil {
		return nil, &FetchError{Reason: ReasonBadURL, Msg: "bad url: " + err.Error(), Err: err}
	}
	u.Scheme = strings.ToLower(u.Scheme)
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, &FetchError{Reason: ReasonBadURL, Msg: fmt.Sprintf("bad url: scheme %q is not http or https", u.Scheme)}
	}
	if u.Hostname() == "" {
		return nil, &FetchError{Reason: ReasonBadURL, Msg: "bad url: no host"}
	}
	u.Host = strings.ToLower(u.Host)
	u.Fragment, u.RawFragment = "", ""
	return u, nil
}

// exchanged is one HTTP exchange after retries.
type exchanged struct {
	status      int
	proto       string
	header      http.Header
	body        []byte
	sha         string
	read        int64 // body bytes read, even when reading failed
	connected   netip.AddrPort
	resolved    []netip.Addr
	retryStatus bool // status is 429/5xx and attempts (or time) ran out
	attempts    int
}

// exchange performs one request with retries for 429, 5xx and network errors.
func (f *Fetcher) exchange(ctx context.Context, u *url.URL, req Request, maxBytes int64, ev *Evidence) (*exchanged, error) {
	for attempt := 1; ; attempt++ {
		ev.Attempts++
		x, err := f.once(ctx, u, req, maxBytes)
		if x != nil {
			x.attempts = attempt
		}
		var wait time.Duration
		switch {
		case err != nil:
			fe := classifyErr(err)
			if fe.Reason != ReasonNetwork || attempt >= f.cfg.Attempts {
				return x, fe
			}
			wait = f.backoff(attempt)
		case retryableStatus(x.status):
			if attempt >= f.cfg.Attempts {
				x.retryStatus = true
				return x, nil
			}
			wait = f.backoff(attempt)
			if ra, ok := retryAfter(x.header.Get("Retry-After")); ok {
				wait = min(ra, f.cfg.RetryMax)
			}
		default:
			return x, nil
		}
		// A wait that would outlast the fetch is pointless: report now.
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
			if err != nil {
				return x, classifyErr(err)
			}
			x.retryStatus = true
			return x, nil
		}
		f.cfg.Logger.DebugContext(ctx, "crawl: retrying", "url", u.String(), "attempt", attempt, "wait", wait, "err", err)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return x, ctxErr(ctx)
		case <-t.C:
		}
	}
}

func retryableStatus(s int) bool {
	return s == http.StatusTooManyRequests || (s >= 500 && s != 501 && s != 505)
}

func (f *Fetcher) backoff(attempt int) time.Duration {
	d := f.cfg.RetryBase << (attempt - 1)
	// ±25% jitter so that many crawls retrying one host spread out.
	d = d*3/4 + rand.N(d/2+1)
	return min(d, f.cfg.RetryMax)
}

// retryAfter parses a Retry-After header: seconds or an HTTP date.
func retryAfter(v string) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		return time.Duration(n) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(time.Until(t), 0), true
	}
	return 0, false
}

// ctxErr maps a done context to the error that says why.
func ctxErr(ctx context.Context) error {
	switch cause := context.Cause(ctx); {
	case errors.Is(cause, errTotalTimeout):
		return &FetchError{Reason: ReasonTimeout, Msg: "timeout: fetch took too long", Err: cause}
	case errors.Is(cause, errIdleTimeout):
		return &FetchError{Reason: ReasonTimeout, Msg: "timeout: no data received for too long", Err: cause}
	case cause != nil:
		return classifyErr(cause)
	}
	return nil
}

// once performs a single HTTP exchange, holding a per-host slot throughout.
func (f *Fetcher) once(ctx context.Context, u *url.URL, req Request, maxBytes int64) (*exchanged, error) {
	release, err := f.hosts.acquire(ctx, u.Host, f.cfg.PerHost)
	if err != nil {
		return nil, ctxErr(ctx)
	}
	defer release()
	actx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)

	x := &exchanged{}
	trace := &httptrace.ClientTrace{GotConn: func(info httptrace.GotConnInfo) {
		// Recorded per request, so a reused connection still tells
		// where this request went and what the name resolved to.
		x.connected, x.resolved = connInfo(info)
	}}
	hreq, err := http.NewRequestWithContext(httptrace.WithClientTrace(actx, trace), http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, &FetchError{Reason: ReasonBadURL, Msg: "bad url: " + err.Error(), Err: err}
	}
	hreq.Header.Set("User-Agent", f.cfg.UserAgent)
	hreq.Header.Set("Accept-Encoding", "gzip")
	if req.Accept != "" {
		hreq.Header.Set("Accept", req.Accept)
	}
	if req.Referer != "" {
		hreq.Header.Set("Referer", req.Referer)
	}
	resp, err := f.client.Do(hreq)
	if err != nil {
		var re *RefusedError
		if errors.As(err, &re) {
			x.resolved = re.Resolved
		}
		if cerr := ctxErr(actx); cerr != nil {
			return x, cerr
		}
		// The URL is in the evidence already; keep the message short.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return x, err
	}
	defer resp.Body.Close()
	x.status, x.proto, x.header = resp.StatusCode, resp.Proto, resp.Header
	if isRedirect(resp.StatusCode) && resp.Header.Get("Location") != "" {
		// A little draining lets the connection be reused; a redirect
		// with a big body is not worth waiting for.
		_, _ = io.CopyN(io.Discard, resp.Body, 4<<10)
		return x, nil
	}
	if resp.ContentLength > maxBytes {
		return x, &FetchError{Reason: ReasonTooLarge,
			Msg: fmt.Sprintf("too large: declared %d bytes, limit %d", resp.ContentLength, maxBytes)}
	}
	body, n, err := readBody(actx, cancel, resp, maxBytes, f.cfg.IdleTimeout)
	x.read = n
	if err != nil {
		if cerr := ctxErr(actx); cerr != nil {
			err = cerr
		}
		return x, err
	}
	x.body = body
	x.sha = sha256Hex(body)
	return x, nil
}

// connInfo digs the Dialer's Conn out of whatever the transport wraps it in
// (a *tls.Conn for https) to recover the resolved addresses.
func connInfo(info httptrace.GotConnInfo) (netip.AddrPort, []netip.Addr) {
	c := info.Conn
	for range 4 {
		switch cc := c.(type) {
		case *Conn:
			return cc.Addr, cc.Resolved
		case interface{ NetConn() net.Conn }:
			c = cc.NetConn()
			continue
		}
		break
	}
	if c == nil {
		return netip.AddrPort{}, nil
	}
	ap, _ := netip.ParseAddrPort(c.RemoteAddr().String())
	return ap, nil
}

// hostLimiter bounds the requests in flight per host.
type hostLimiter struct {
	mu sync.Mutex
	m  map[string]*hostSlot
}

type hostSlot struct {
	ch    chan struct{}
	users int
}

func (h *hostLimiter) acquire(ctx context.Context, host string, n int) (func(), error) {
	h.mu.Lock()
	s := h.m[host]
	if s == nil {
		s = &hostSlot{ch: make(chan struct{}, n)}
		h.m[host] = s
	}
	s.users++
	h.mu.Unlock()
	done := func() {
		h.mu.Lock()
		if s.users--; s.users == 0 {
			delete(h.m, host)
		}
		h.mu.Unlock()
	}
	select {
	case s.ch <- struct{}{}:
		return func() { <-s.ch; done() }, nil
	case <-ctx.Done():
		done()
		return nil, ctx.Err()
	}
}
