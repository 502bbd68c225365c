package simnet

import (
	"bytes"
	"compress/gzip"
	"context"
	"image"
	_ "image/gif"
	_ "image/jpeg"
	"image/png"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"testing"
	"time"
)

func start(t *testing.T, opts Options) *Net {
	t.Helper()
	n, err := Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n.Close() })
	return n
}

// client reaches every simulated host through the simnet server, whatever
// the URL's host, so this test needs no crawler.
func client(n *Net) *http.Client {
	return &http.Client{
		Timeout: 5 * time.Second,
		Transport: &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, n.Addr.String())
		}},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

func get(t *testing.T, c *http.Client, u string) (*http.Response, []byte) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

func TestResolverScript(t *testing.T) {
	r := NewResolver()
	a, b := netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("169.254.169.254")
	r.Script("Rebind.Example.", []netip.Addr{a}, []netip.Addr{b})
	ctx := context.Background()
	for i, want := range []netip.Addr{a, b, b} {
		got, err := r.LookupNetIP(ctx, "ip", "rebind.example")
		if err != nil || len(got) != 1 || got[0] != want {
			t.Fatalf("lookup %d = %v, %v; want %v", i, got, err, want)
		}
	}
	if n := r.Lookups("rebind.example"); n != 3 {
		t.Errorf("Lookups = %d, want 3", n)
	}
	if _, err := r.LookupNetIP(ctx, "ip", "unknown.example"); err == nil {
		t.Error("unknown name resolved")
	}
	if _, err := r.LookupNetIP(ctx, "ip6", "rebind.example"); err == nil {
		t.Error("ip6 lookup of an IPv4-only name answered")
	}
}

func TestImagesDeterministic(t *testing.T) {
	im1, im2 := NewImages(64, 48), NewImages(64, 48)
	a, err := im1.Bytes(5, Variant{})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := im2.Bytes(5, Variant{})
	if !bytes.Equal(a, b) {
		t.Error("the same seed gave different bytes")
	}
	c, _ := im1.Bytes(6, Variant{})
	if bytes.Equal(a, c) {
		t.Error("different seeds gave the same bytes")
	}
	q, _ := im1.Bytes(5, Variant{Quality: 40})
	if bytes.Equal(a, q) || len(q) >= len(a) {
		t.Errorf("quality 40 variant: %d bytes vs %d", len(q), len(a))
	}
	for _, v := range []Variant{{}, {Width: 32}, {Format: "png", Width: 16}, {Format: "gif"}} {
		b, err := im1.Bytes(5, v)
		if err != nil {
			t.Fatal(err)
		}
		cfg, format, err := image.DecodeConfig(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%+v: %v", v, err)
		}
		wantW := 64
		if v.Width > 0 {
			wantW = v.Width
		}
		if cfg.Width != wantW || format != v.normal().Format {
			t.Errorf("%+v: got %s %dx%d", v, format, cfg.Width, cfg.Height)
		}
	}
}

func TestImagePathRoundTrip(t *testing.T) {
	for _, v := range []Variant{{}, {Quality: 50}, {Width: 100}, {Format: "png"}, {Format: "gif", Width: 10}} {
		p := ImagePath(77, v)
		u, err := url.Parse(p)
		if err != nil {
			t.Fatal(err)
		}
		seed, got, ok := ParseImagePath(u.Path, u.Query())
		if !ok || seed != 77 || got != v.normal() {
			t.Errorf("%s: got %d %+v %v, want %+v", p, seed, got, ok, v.normal())
		}
	}
	if _, _, ok := ParseImagePath("/img/x.jpg", nil); ok {
		t.Error("bad seed accepted")
	}
}

func TestBigPNGHeader(t *testing.T) {
	cfg, err := png.DecodeConfig(bytes.NewReader(BigPNG(100_000, 100_000)))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Width != 100_000 || cfg.Height != 100_000 {
		t.Errorf("got %dx%d", cfg.Width, cfg.Height)
	}
}

func TestSites(t *testing.T) {
	n := start(t, Options{BombSize: 64 << 20, BenchImages: 250, BenchPerPage: 100})
	c := client(n)

	// Every placed image is served, and is the generator's bytes.
	if len(n.Manifest()) < 20 {
		t.Fatalf("manifest has %d placements", len(n.Manifest()))
	}
	for _, p := range n.Manifest() {
		resp, body := get(t, c, p.Media)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %s", p.Media, resp.Status)
		}
		if p.Variant.Format == "" {
			continue // the video
		}
		want, _ := n.Images.Bytes(p.Seed, p.Variant)
		if !bytes.Equal(body, want) {
			t.Errorf("%s: not the bytes of seed %d %+v", p.Media, p.Seed, p.Variant)
		}
	}

	// Take down and restore.
	if resp, _ := get(t, c, n.URL(Gallery, "/about")); resp.StatusCode != 200 {
		t.Fatalf("about: %s", resp.Status)
	}
	n.TakeDown(WWWGallery, "/about")
	if resp, _ := get(t, c, n.URL(Gallery, "/about")); resp.StatusCode != 404 {
		t.Errorf("taken down: %s", resp.Status)
	}
	n.Restore(Gallery, "/about")
	if resp, _ := get(t, c, n.URL(Gallery, "/about")); resp.StatusCode != 200 {
		t.Errorf("restored: %s", resp.Status)
	}
	if h := n.Hits(Gallery, "/about"); h != 3 {
		t.Errorf("hits = %d, want 3", h)
	}

	// The bench site: 250 images over 3 pages.
	_, idx := get(t, c, n.BenchURL())
	if got := bytes.Count(idx, []byte("<a href")); got != 3 {
		t.Errorf("bench index links %d pages", got)
	}
	_, last := get(t, c, n.URL(Bench, "/page/2"))
	if got := bytes.Count(last, []byte("<img")); got != 50 {
		t.Errorf("last bench page has %d images", got)
	}

	// The redirect to the internal service points at it.
	resp, _ := get(t, c, n.URL(Tricks, "/redirect/loopback"))
	if loc := resp.Header.Get("Location"); loc != n.InternalURL("/secret") {
		t.Errorf("Location = %q", loc)
	}

	// The flaky path fails twice, then serves.
	for i, want := range []int{503, 503, 200} {
		if resp, _ := get(t, c, n.URL(Tricks, "/flaky/x?fail=2")); resp.StatusCode != want {
			t.Errorf("flaky %d: %d", i, resp.StatusCode)
		}
	}
}

func TestBombInflates(t *testing.T) {
	n := start(t, Options{BombSize: 64 << 20})
	b := n.Bomb()
	if len(b) > 1<<20 {
		t.Errorf("bomb is %d bytes compressed", len(b))
	}
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.Copy(io.Discard, zr)
	if err != nil || got != 64<<20 {
		t.Errorf("inflates to %d, %v", got, err)
	}
}

func TestHugeIsLazy(t *testing.T) {
	n := start(t, Options{})
	c := client(n)
	resp, err := c.Get(n.URL(Tricks, "/huge"))
	if err != nil {
		t.Fatal(err)
	}
	if cl := resp.Header.Get("Content-Length"); cl != strconv.FormatInt(10<<30, 10) {
		t.Errorf("Content-Length = %s", cl)
	}
	k, _ := io.CopyN(io.Discard, resp.Body, 1<<20)
	resp.Body.Close()
	if k != 1<<20 {
		t.Errorf("read %d", k)
	}
}
