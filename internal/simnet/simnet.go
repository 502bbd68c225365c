// Package simnet is a simulated internet on loopback for tests, the demo and
// the crawl benchmark: several web sites told apart by Host header, served
// from one real loopback port, and a Resolver that maps their names to
// 127.0.0.1. Every picture is generated (gradients and shapes); nothing
// real is ever served.
//
// The sites:
//   - gallery.example (and www.): a gateway linking to galleries two levels
//     deep, with images in img src and srcset, picture/source, CSS
//     backgrounds, <style>, links, video posters, og:image and <base>.
//   - mirror.example: some gallery pictures re-encoded and resized.
//   - cdn.example: images only.
//   - tricks.example: hostile behaviour (redirect chains and loops,
//     redirects to internal addresses, an endless link generator, a 10 GB
//     body, a one-byte-a-second server, a gzip bomb, a PNG claiming
//     100,000×100,000 pixels, flaky 503s and 429s).
//   - bench.example: a big gallery of Options.BenchImages images.
//   - files.example: collections as ZIP, RAR, 7z and tar.gz archives,
//     nested, encrypted, a zip bomb and a 10,000-entry archive; a PDF.
//   - script.example: a gallery built by JavaScript on scroll, and a page
//     whose script reaches for internal addresses.
//   - go.example, pics-one.example, board-two.example: two sites that are
//     one network, behind a short link (network.go).
//
// Every site serves /img/SEED.jpg|png|gif?q=&w= and /media/SEED.mp4.
package simnet

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Host names of the simulated sites and of names that resolve to places a
// crawler must never go.
const (
	Gallery    = "gallery.example"
	WWWGallery = "www.gallery.example"
	Mirror     = "mirror.example"
	CDN        = "cdn.example"
	Tricks     = "tricks.example"
	Bench      = "bench.example"
	// Rebind answers 127.0.0.1 (the simnet server) first and
	// 169.254.169.254 afterwards.
	Rebind = "rebind.example"
	// Metadata resolves to 169.254.169.254, Private to 10.0.0.7, Mixed to
	// both 127.0.0.1 and 10.0.0.7.
	Metadata = "metadata.example"
	Private  = "private.example"
	Mixed    = "mixed.example"
)

// Options configures a simulated internet. Zero fields take defaults.
type Options struct {
	Galleries    int // galleries on gallery.example; default 3
	BenchImages  int // images on bench.example; default 1000
	BenchPerPage int // images per bench page; default 100
	// ImageWidth and ImageHeight of generated pictures; default 256×192.
	ImageWidth, ImageHeight int
	// SlowInterval is the pause between bytes on /slow; default 1s.
	SlowInterval time.Duration
	HugeSize     int64 // declared and streamed size of /huge; default 10 GB
	BombSize     int64 // decompressed size of /bomb; default 1 GiB
	// ZipBombSize is the zero bytes in files.example/bomb.zip (default
	// 8 MiB: about a thousand times its compressed size); ManyEntries
	// the entries of /many.zip (default 10,000).
	ZipBombSize int64
	ManyEntries int
	Logger      *slog.Logger
}

func (o *Options) setDefaults() {
	if o.Galleries <= 0 {
		o.Galleries = 3
	}
	if o.BenchImages <= 0 {
		o.BenchImages = 1000
	}
	if o.BenchPerPage <= 0 {
		o.BenchPerPage = 100
	}
	if o.ImageWidth <= 0 || o.ImageHeight <= 0 {
		o.ImageWidth, o.ImageHeight = 256, 192
	}
	if o.SlowInterval <= 0 {
		o.SlowInterval = time.Second
	}
	if o.HugeSize <= 0 {
		o.HugeSize = 10 << 30
	}
	if o.BombSize <= 0 {
		o.BombSize = 1 << 30
	}
	if o.ZipBombSize <= 0 {
		o.ZipBombSize = 8 << 20
	}
	if o.ManyEntries <= 0 {
		o.ManyEntries = 10000
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}

// Net is a running simulated internet.
type Net struct {
	// Addr is the loopback address:port serving every site; the only
	// address a crawler policy should allow.
	Addr netip.AddrPort
	// InternalAddr is a second loopback server standing for an internal
	// service (an admin panel); redirects point at it, and a safe crawler
	// never reaches it.
	InternalAddr netip.AddrPort
	Resolver     *Resolver
	Images       *Images

	opts     Options
	srv      *http.Server
	internal *http.Server

	pages    map[string][]byte // host+path → pre-rendered HTML
	manifest []Placement

	bombOnce sync.Once
	bomb     []byte
	bigPNG   []byte

	mu           sync.Mutex
	down         map[string]bool
	hits         map[string]int
	counters     map[string]int
	files        map[string][]byte // generated files of files.example
	internalHits atomic.Int64
}

// Placement says that a page shows a generated image: which URL, which seed
// and variant. Tests and the demo use it to know what is served where.
type Placement struct {
	Page    string  `json:"page"`
	Media   string  `json:"media"`
	Seed    uint64  `json:"seed"`
	Variant Variant `json:"variant"`
}

// Start starts a simulated internet on 127.0.0.1 at random ports.
func Start(opts Options) (*Net, error) {
	opts.setDefaults()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("simnet: listen: %w", err)
	}
	iln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("simnet: listen: %w", errors.Join(err, ln.Close()))
	}
	n := &Net{
		Addr:         netip.MustParseAddrPort(ln.Addr().String()),
		InternalAddr: netip.MustParseAddrPort(iln.Addr().String()),
		Resolver:     NewResolver(),
		Images:       NewImages(opts.ImageWidth, opts.ImageHeight),
		opts:         opts,
		pages:        map[string][]byte{},
		down:         map[string]bool{},
		hits:         map[string]int{},
		counters:     map[string]int{},
		bigPNG:       BigPNG(100_000, 100_000),
	}
	lo := netip.MustParseAddr("127.0.0.1")
	for _, h := range []string{Gallery, WWWGallery, Mirror, CDN, Tricks, Bench, Files, Scripted, Redirector, PicsOne, BoardTwo} {
		n.Resolver.Set(h, lo)
	}
	n.Resolver.Script(Rebind, []netip.Addr{lo}, []netip.Addr{netip.MustParseAddr("169.254.169.254")})
	n.Resolver.Set(Metadata, netip.MustParseAddr("169.254.169.254"))
	n.Resolver.Set(Private, netip.MustParseAddr("10.0.0.7"))
	n.Resolver.Set(Mixed, lo, netip.MustParseAddr("10.0.0.7"))
	n.render()
	n.renderNetwork()

	errLog := log.New(io.Discard, "", 0)
	n.srv = &http.Server{Handler: n, ReadHeaderTimeout: 10 * time.Second, ErrorLog: errLog}
	n.internal = &http.Server{ErrorLog: errLog, ReadHeaderTimeout: 10 * time.Second,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			n.internalHits.Add(1)
			fmt.Fprintln(w, "internal admin panel: a crawler must never see this")
		})}
	go n.serve(n.srv, ln)
	go n.serve(n.internal, iln)
	return n, nil
}

func (n *Net) serve(s *http.Server, ln net.Listener) {
	if err := s.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		n.opts.Logger.Error("simnet: serve", "err", err)
	}
}

// Close stops the servers and ends every response in progress.
func (n *Net) Close() error {
	return errors.Join(n.srv.Close(), n.internal.Close())
}

// Shutdown stops the servers gracefully.
func (n *Net) Shutdown(ctx context.Context) error {
	return errors.Join(n.srv.Shutdown(ctx), n.internal.Shutdown(ctx))
}

// Options returns the options in use, defaults filled in.
func (n *Net) Options() Options { return n.opts }

// URL returns http://host:PORT/path on the simulated internet.
func (n *Net) URL(host, path string) string {
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	return fmt.Sprintf("http://%s:%d%s", host, n.Addr.Port(), path)
}

// InternalURL returns a URL on the internal service, by its loopback address.
func (n *Net) InternalURL(path string) string {
	return fmt.Sprintf("http://%s%s", n.InternalAddr, path)
}

// AllowAddrs is the exact allow-list a crawler policy needs for this
// simulated internet: its server and nothing else on loopback.
func (n *Net) AllowAddrs() []netip.AddrPort { return []netip.AddrPort{n.Addr} }

// InternalHits counts the requests that reached the internal service.
func (n *Net) InternalHits() int { return int(n.internalHits.Load()) }

// Hits counts the requests for host and path (with its query, if any).
func (n *Net) Hits(host, pathQuery string) int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.hits[siteKey(host)+pathQuery]
}

// TotalHits counts every request to the sites.
func (n *Net) TotalHits() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	t := 0
	for _, v := range n.hits {
		t += v
	}
	return t
}

// TakeDown makes host's path answer 404 (whatever the query) until Restore.
func (n *Net) TakeDown(host, path string) {
	n.mu.Lock()
	n.down[siteKey(host)+path] = true
	n.mu.Unlock()
}

// Restore undoes TakeDown.
func (n *Net) Restore(host, path string) {
	n.mu.Lock()
	delete(n.down, siteKey(host)+path)
	n.mu.Unlock()
}

// Manifest lists every image placed on gallery.example and mirror.example.
func (n *Net) Manifest() []Placement { return append([]Placement(nil), n.manifest...) }

// BenchSeeds returns the seeds of the bench.example images, in page order.
func (n *Net) BenchSeeds() []uint64 {
	s := make([]uint64, n.opts.BenchImages)
	for i := range s {
		s[i] = BenchSeedBase + uint64(i)
	}
	return s
}

// BenchSeedBase is the first seed of bench.example's images.
const BenchSeedBase = 1_000_000

// siteKey names a site by host without port, "www." or case.
func siteKey(host string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	return strings.TrimPrefix(strings.ToLower(host), "www.")
}

// ServeHTTP routes by Host header.
func (n *Net) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	site := siteKey(r.Host)
	n.mu.Lock()
	n.hits[site+r.URL.RequestURI()]++
	down := n.down[site+r.URL.Path]
	n.mu.Unlock()
	if down {
		http.Error(w, "this page has been taken down", http.StatusNotFound)
		return
	}
	if strings.HasPrefix(r.URL.Path, "/img/") || strings.HasPrefix(r.URL.Path, "/media/") {
		n.serveMedia(w, r)
		return
	}
	if site == Tricks && n.serveTricks(w, r) {
		return
	}
	if site == Files && n.serveFiles(w, r) {
		return
	}
	if site == Scripted && n.serveScripted(w, r) {
		return
	}
	if site == Bench && n.serveBench(w, r) {
		return
	}
	if site == Redirector && n.serveRedirector(w, r) {
		return
	}
	if page, ok := n.pages[site+r.URL.Path]; ok {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write(page)
		return
	}
	http.NotFound(w, r)
}
