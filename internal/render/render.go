// Package render renders pages built by JavaScript in headless Chromium
// and collects the media they load and show. The browser is never a way
// around the crawler's guarantees: every request it makes goes through a
// forward proxy inside Vigil that fetches with the crawler's Fetcher (its
// address guard, redirect rules, size limits) or tunnels to an address the
// crawler's Dialer checked; a host-resolver rule forbids the browser any
// lookup of its own, and loopback is not exempt from the proxy. Each render
// is one browser process with a fresh profile in a temporary folder (no
// cookies or storage carried over, no disk cache, so no media there), under
// a time limit, a request budget and a memory watchdog, and the whole
// process tree is killed after.
package render

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"os/exec"
	"slices"
	"strings"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/vigil-hotline/vigil/internal/crawl"
)

// Defaults for Config's zero fields.
const (
	DefaultTimeout     = 30 * time.Second
	DefaultMaxRequests = 300
	DefaultMaxBytes    = 256 << 20
	DefaultMaxMemory   = 1 << 30
	DefaultScrolls     = 8
)

// Config configures a Renderer.
type Config struct {
	// Browser is the Chromium binary; "" looks for chromium,
	// chromium-browser and google-chrome on PATH.
	Browser string
	Fetcher *crawl.Fetcher
	// Timeout bounds one render, browser start to kill.
	Timeout time.Duration
	// MaxRequests and MaxBytes bound what one render may fetch.
	MaxRequests int
	MaxBytes    int64
	// MaxMemory bounds the resident memory of the browser's processes
	// together; past it they are killed.
	MaxMemory int64
	// Scrolls is how many screens the page is scrolled down, to trigger
	// lazy loading.
	Scrolls int
	Logger  *slog.Logger
}

// Renderer renders pages. Safe for concurrent use; each Render starts its
// own browser.
type Renderer struct {
	cfg Config
}

// ErrNoBrowser is returned by New when no Chromium is installed.
var ErrNoBrowser = errors.New("render: no Chromium found (chromium, chromium-browser, google-chrome)")

// FindBrowser returns the path of an installed Chromium, or "".
func FindBrowser() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// New returns a Renderer, or ErrNoBrowser.
func New(cfg Config) (*Renderer, error) {
	if cfg.Browser == "" {
		cfg.Browser = FindBrowser()
	}
	if cfg.Browser == "" {
		return nil, ErrNoBrowser
	}
	if _, err := exec.LookPath(cfg.Browser); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNoBrowser, err)
	}
	if cfg.Fetcher == nil {
		return nil, errors.New("render: no fetcher")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.MaxRequests <= 0 {
		cfg.MaxRequests = DefaultMaxRequests
	}
	if cfg.MaxBytes <= 0 {
		cfg.MaxBytes = DefaultMaxBytes
	}
	if cfg.MaxMemory <= 0 {
		cfg.MaxMemory = DefaultMaxMemory
	}
	if cfg.Scrolls <= 0 {
		cfg.Scrolls = DefaultScrolls
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Renderer{cfg: cfg}, nil
}

// collectJS lists the media a rendered page shows: images (the source the
// browser chose), videos and their posters, CSS background images.
const collectJS = `(() => {
  const out = new Set();
  const add = u => { if (u && /^https?:/i.test(u)) out.add(u); };
  document.querySelectorAll('img').forEach(i => add(i.currentSrc || i.src));
  document.querySelectorAll('video, audio, source').forEach(v => { add(v.currentSrc || v.src); add(v.poster); });
  document.querySelectorAll('*').forEach(e => {
    const b = getComputedStyle(e).backgroundImage;
    if (b && b !== 'none') for (const m of b.matchAll(/url\(["']?([^"')]+)["']?\)/g)) add(new URL(m[1], document.baseURI).href);
  });
  return [...out];
})()`

// Render loads rawURL in a fresh browser, scrolls it, and returns what it
// did. The evidence is returned also when the render failed (err != nil).
func (r *Renderer) Render(ctx context.Context, rawURL string) (*crawl.RenderEvidence, error) {
	ev := &crawl.RenderEvidence{Started: time.Now().UTC()}
	defer func() { ev.Duration = time.Since(ev.Started) }()
	ctx, cancel := context.WithTimeout(ctx, r.cfg.Timeout)
	defer cancel()

	f := r.cfg.Fetcher.Config()
	px := &proxy{fetcher: r.cfg.Fetcher, maxRequests: r.cfg.MaxRequests, maxBytes: r.cfg.MaxBytes, ctx: ctx,
		dialer: &crawl.Dialer{Policy: f.Policy, Resolver: f.Resolver, Timeout: f.HeaderTimeout, Connect: f.Connect}}
	addr, stopProxy, err := px.serve()
	if err != nil {
		return ev, err
	}
	defer func() {
		stopProxy()
		ev.Requests = px.evidence()
	}()
	// A fresh profile; removed after. The disk cache is off, so it never
	// holds what the page loaded.
	dir, err := os.MkdirTemp("", "vigil-render-")
	if err != nil {
		return ev, fmt.Errorf("render: profile: %w", err)
	}
	defer func() { _ = os.RemoveAll(dir) }()

	opts := append(slices.Clone(chromedp.DefaultExecAllocatorOptions[:]),
		chromedp.ExecPath(r.cfg.Browser),
		chromedp.UserDataDir(dir),
		chromedp.ProxyServer("http://"+addr),
		// Loopback is otherwise exempt from the proxy.
		chromedp.Flag("proxy-bypass-list", "<-loopback>"),
		// No lookups of its own: every name goes to the proxy.
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"),
		chromedp.Flag("incognito", true),
		chromedp.Flag("disk-cache-dir", "/dev/null"),
		chromedp.Flag("disk-cache-size", "1"),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("no-pings", true),
		chromedp.Flag("disable-domain-reliability", true),
		chromedp.Flag("force-webrtc-ip-handling-policy", "disable_non_proxied_udp"),
		chromedp.Flag("webrtc-ip-handling-policy", "disable_non_proxied_udp"),
		chromedp.Flag("js-flags", "--max-old-space-size=256"),
		chromedp.Flag("mute-audio", true),
		chromedp.DisableGPU,
		chromedp.WindowSize(1280, 1024),
		chromedp.ModifyCmdFunc(func(cmd *exec.Cmd) {
			// Its own process group, so that the whole tree can be
			// killed after; and killed with us.
			cmd.SysProcAttr = procAttr()
			cmd.Env = append(os.Environ(), "HOME="+dir, "XDG_CONFIG_HOME="+dir, "XDG_CACHE_HOME="+dir)
		}),
	)
	if os.Geteuid() == 0 {
		// Chromium's sandbox refuses to run as root; run Vigil as a user
		// of its own to keep it.
		opts = append(opts, chromedp.NoSandbox)
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(actx)
	defer cancelBrowser()
	if err := chromedp.Do(bctx); err != nil {
		ev.Reason, ev.Error = "browser", err.Error()
		return ev, fmt.Errorf("render: start browser: %w", err)
	}
	pid := 0
	if c := chromedp.FromContext(bctx); c != nil && c.Browser != nil && c.Browser.Process() != nil {
		pid = c.Browser.Process().Pid
	}
	killed := make(chan string, 1)
	stopWatch := watchMemory(pid, r.cfg.MaxMemory, func(why string) {
		select {
		case killed <- why:
		default:
		}
		cancelBrowser()
	})
	defer func() {
		ev.PeakMemory = stopWatch()
		cancelBrowser()
		cancelAlloc()
		killTree(pid)
	}()

	media, err := r.visit(bctx, rawURL)
	ev.Media = media
	if err != nil {
		select {
		case why := <-killed:
			ev.Reason, ev.Error = "memory", why
		default:
			ev.Reason, ev.Error = "render", err.Error()
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				ev.Reason = string(crawl.ReasonTimeout)
			}
		}
		return ev, fmt.Errorf("render %s: %s", rawURL, ev.Error)
	}
	// Media the page loaded, whether or not it shows them now.
	for _, q := range px.evidence() {
		if (q.Class == crawl.ClassImage || q.Class == crawl.ClassVideo) && q.Reason == "" && !slices.Contains(ev.Media, q.URL) {
			ev.Media = append(ev.Media, q.URL)
		}
	}
	return ev, nil
}

// visit navigates, scrolls screen by screen until the page stops growing
// (or Scrolls screens), and collects the media shown.
func (r *Renderer) visit(ctx context.Context, rawURL string) ([]string, error) {
	if err := chromedp.Do(ctx, chromedp.Navigate(rawURL)); err != nil {
		return nil, err
	}
	var last float64
	for range r.cfg.Scrolls {
		h, err := chromedp.Run(ctx, chromedp.Evaluate[float64](
			`window.scrollBy(0, window.innerHeight); document.documentElement.scrollHeight - window.scrollY - window.innerHeight`))
		if err != nil {
			return nil, err
		}
		if err := chromedp.Do(ctx, chromedp.Sleep(250*time.Millisecond)); err != nil {
			return nil, err
		}
		if h <= 0 && last <= 0 {
			break // at the bottom, twice: nothing more is coming
		}
		last = h
	}
	urls, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](collectJS))
	if err != nil {
		return nil, err
	}
	out := urls[:0]
	for _, u := range urls {
		if p, err := url.Parse(u); err == nil && (p.Scheme == "http" || p.Scheme == "https") && !strings.Contains(u, "\n") {
			out = append(out, u)
		}
	}
	return out, nil
}
