package jobs_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/browsertest"
	"github.com/vigil-hotline/vigil/internal/jobs"
	"github.com/vigil-hotline/vigil/internal/render"
	"github.com/vigil-hotline/vigil/internal/simnet"
	"github.com/vigil-hotline/vigil/internal/store"
	"github.com/vigil-hotline/vigil/internal/storetest"
)

// TestPipelineScripted: a gallery whose <img> elements a script builds from
// a JSON feed after scrolling yields nothing to the static extractor; it is
// rendered, and the known picture it loads is classified known without an
// analyst, the render's requests in the page's evidence. One render per
// store: browser tests must stay few.
func TestPipelineScripted(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Chromium: not under -short")
	}
	if render.FindBrowser() == "" {
		if os.Getenv(browsertest.RequireEnv) != "" {
			t.Fatalf("no Chromium, and %s is set", browsertest.RequireEnv)
		}
		t.Skip("no Chromium")
	}
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		r := newRigWith(t, db, 1, func(n *simnet.Net, p *jobs.Pipeline) {
			rd, err := render.New(render.Config{Fetcher: p.Fetcher})
			if err != nil {
				t.Fatal(err)
			}
			p.Renderer, p.RenderBelow = rd, 1
		})
		known := sha256hex(simnet.KnownPicture)
		r.matcher.known[known] = true
		rep := r.report(t, r.net.URL(simnet.Scripted, "/"))
		u := waitDone(t, db, rep.URLs[0].ID)
		if u.Status != vigil.URLDone {
			t.Fatalf("%s (%s)", u.Status, u.StatusReason)
		}
		media, err := db.ListMediaForURL(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		var seen bool
		for _, m := range media {
			if m.SHA256 == known {
				seen = m.Status == vigil.MediaKnown && m.QueuedAt == nil
			}
		}
		if !seen || len(media) != 1+len(simnet.ScriptedSeeds) {
			t.Errorf("%d media, known one classified known: %v", len(media), seen)
		}
		fetches, err := db.ListFetches(ctx, u.ID)
		if err != nil || len(fetches) == 0 || !strings.Contains(fetches[0].Evidence, `"render"`) ||
			!strings.Contains(fetches[0].Evidence, "feed.json") {
			t.Errorf("page evidence holds no render: %v", err)
		}
	})
}
