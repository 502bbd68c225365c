package render_test

import (
	"context"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/vigil-hotline/vigil/internal/browsertest"
	"github.com/vigil-hotline/vigil/internal/render"
	"github.com/vigil-hotline/vigil/internal/simnet"
	"github.com/vigil-hotline/vigil/internal/testrig"
)

func newRenderer(t *testing.T, n *simnet.Net) *render.Renderer {
	t.Helper()
	if testing.Short() {
		t.Skip("starts Chromium: not under -short")
	}
	r, err := render.New(render.Config{Fetcher: testrig.Fetcher(t, n)})
	if err != nil {
		if os.Getenv(browsertest.RequireEnv) != "" {
			t.Fatalf("%v, and %s is set", err, browsertest.RequireEnv)
		}
		t.Skip(err)
	}
	return r
}

// TestRenderScrollGallery: a gallery built by a script from a JSON feed
// after scrolling yields its pictures, every request through the proxy.
func TestRenderScrollGallery(t *testing.T) {
	n := testrig.Internet(t, simnet.Options{})
	r := newRenderer(t, n)
	ev, err := r.Render(context.Background(), n.URL(simnet.Scripted, "/"))
	if err != nil {
		t.Fatalf("%v (%+v)", err, ev)
	}
	want := []string{n.URL(simnet.Scripted, "/known.png")}
	for _, s := range simnet.ScriptedSeeds {
		want = append(want, n.URL(simnet.Scripted, simnet.ImagePath(s, simnet.Variant{})))
	}
	for _, w := range want {
		if !slices.Contains(ev.Media, w) {
			t.Errorf("%s not collected; media %v", w, ev.Media)
		}
	}
	if len(ev.Requests) < 4 {
		t.Errorf("proxy saw %d requests: %+v", len(ev.Requests), ev.Requests)
	}
	// The browser's own chatter (updates, sign-in) went through the
	// proxy too, and was refused like anything else.
	for _, q := range ev.Requests {
		if q.Method != "GET" && q.Reason == "" {
			t.Errorf("request %+v", q)
		}
	}
}

// TestRenderHostile: a script that reaches for loopback, the metadata
// address and a private one, directly and through redirects, gets nowhere:
// the canary records no request, and the evidence shows the refusals.
func TestRenderHostile(t *testing.T) {
	n := testrig.Internet(t, simnet.Options{})
	r := newRenderer(t, n)
	ev, err := r.Render(context.Background(), n.URL(simnet.Scripted, "/hostile"))
	if err != nil {
		t.Fatalf("%v (%+v)", err, ev)
	}
	if hits := n.InternalHits(); hits != 0 {
		t.Fatalf("the canary on loopback saw %d requests", hits)
	}
	refused := 0
	for _, q := range ev.Requests {
		if q.Reason == "refused" {
			refused++
		}
		if strings.Contains(q.URL, n.InternalAddr.String()) && q.Reason == "" {
			t.Errorf("request to the canary not refused: %+v", q)
		}
	}
	if refused < 5 {
		t.Errorf("%d refusals in %+v", refused, ev.Requests)
	}
	if !slices.Contains(ev.Media, n.URL(simnet.Scripted, simnet.ImagePath(simnet.ScriptedSafe, simnet.Variant{}))) {
		t.Errorf("media %v", ev.Media)
	}
}

// TestNoBrowser: without Chromium there is no renderer, and the error
// says so (Vigil then crawls without rendering).
func TestNoBrowser(t *testing.T) {
	n := testrig.Internet(t, simnet.Options{})
	_, err := render.New(render.Config{Browser: "/nonexistent/chromium", Fetcher: testrig.Fetcher(t, n)})
	if !errors.Is(err, render.ErrNoBrowser) {
		t.Errorf("New without a browser: %v", err)
	}
}
