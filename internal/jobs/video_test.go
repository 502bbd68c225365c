package jobs_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/crawl"
	"github.com/vigil-hotline/vigil/internal/jobs"
	"github.com/vigil-hotline/vigil/internal/match"
	"github.com/vigil-hotline/vigil/internal/simnet"
	"github.com/vigil-hotline/vigil/internal/store"
	"github.com/vigil-hotline/vigil/internal/storetest"
	"github.com/vigil-hotline/vigil/internal/testrig"
	"github.com/vigil-hotline/vigil/internal/video"
	"github.com/vigil-hotline/vigil/internal/video/videotest"
)

// genVideo makes a small video with ffmpeg's own sources.
func genVideo(t *testing.T, name string, args ...string) []byte {
	t.Helper()
	return videotest.Bytes(t, name, args...)
}

// TestPipelineKnownVideo: a gateway page shows a known video re-encoded
// (<video src>), a clip of it (<video><source>) and links to another copy
// (.mp4); the crawler classifies all three known, with no analyst, and the
// takedown opens as for an image. A video over the duration limit goes to
// an analyst with its reason.
func TestPipelineKnownVideo(t *testing.T) {
	tools := videotest.Tools(t)
	src := "testsrc2=s=192x144:r=10:d=8"
	original := genVideo(t, "original.mp4", "-f", "lavfi", "-i", src, "-c:v", "libx264", "-pix_fmt", "yuv420p")
	files := map[string][]byte{
		"/v/copy.mp4":  genVideo(t, "copy.mp4", "-f", "lavfi", "-i", src, "-vf", "scale=160:120", "-c:v", "libx264", "-crf", "35", "-pix_fmt", "yuv420p"),
		"/v/clip.webm": genVideo(t, "clip.webm", "-f", "lavfi", "-i", src, "-ss", "2", "-t", "4", "-c:v", "libvpx", "-b:v", "150k"),
		"/v/link.mp4":  genVideo(t, "link.mp4", "-f", "lavfi", "-i", src, "-c:v", "mpeg4", "-b:v", "120k"),
		"/v/long.mp4":  genVideo(t, "long.mp4", "-f", "lavfi", "-i", "color=gray:s=32x32:r=1:d=120", "-c:v", "libx264", "-pix_fmt", "yuv420p"),
	}
	page := `<html><body><video src="/v/copy.mp4"></video>
<video controls><source src="/v/clip.webm" type="video/webm"></video>
<a href="/v/link.mp4">download</a> <video src="/v/long.mp4"></video></body></html>`
	mux := http.NewServeMux()
	mux.HandleFunc("GET /gateway.html", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, page)
	})
	mux.HandleFunc("GET /v/", func(w http.ResponseWriter, r *http.Request) {
		b, ok := files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Write(b)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	addr := netip.MustParseAddrPort(srv.Listener.Addr().String())
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())

	known, err := video.New(tools, video.Options{Interval: 1}).Hash(context.Background(), video.Input{Data: original})
	if err != nil {
		t.Fatal(err)
	}

	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		b := &vigil.Bank{Name: "videos", Source: vigil.SourceHotline, Kind: vigil.BankBlock, PDQThreshold: 31, Enabled: true}
		if err := db.CreateBank(ctx, b); err != nil {
			t.Fatal(err)
		}
		if _, err := db.AddBankEntries(ctx, b.ID, []*vigil.BankEntry{{Signal: vigil.SignalVPDQ, Frames: known.Frames, Classification: "baseline"}}); err != nil {
			t.Fatal(err)
		}
		startVideoPipeline(t, db, tools, addr)

		rep, err := vigil.NewReport(vigil.ReportInput{URLs: []string{"http://videos.example:" + port + "/gateway.html"}}, vigil.SourceForm, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if err := db.CreateReport(ctx, rep); err != nil {
			t.Fatal(err)
		}
		u := waitDone(t, db, rep.URLs[0].ID)
		media, err := db.ListMediaForURL(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(media) != 4 {
			t.Fatalf("%d media, want 4", len(media))
		}
		for _, md := range media {
			long := md.Size == int64(len(files["/v/long.mp4"]))
			switch {
			case long && (md.Status != vigil.MediaUnknown || md.QueuedAt == nil || !strings.Contains(md.HashError, "too_long")):
				t.Errorf("long video: status %s, queued %v, reason %q", md.Status, md.QueuedAt, md.HashError)
			case !long && (md.Status != vigil.MediaKnown || md.QueuedAt != nil || md.Classification != "baseline"):
				t.Errorf("video %d (%d bytes): status %s, class %q, reason %q", md.ID, md.Size, md.Status, md.Classification, md.HashError)
			}
			if !long {
				mv, err := db.MediaVideo(ctx, md.ID)
				if err != nil || len(mv.Frames) == 0 {
					t.Errorf("video %d: frames %v", md.ID, err)
				}
			}
		}
		td, err := db.FindTakedownByURL(ctx, u.ID)
		if err != nil {
			t.Fatalf("no takedown opened: %v", err)
		}
		if td.Classification != "baseline" {
			t.Errorf("takedown: %+v", td)
		}
	})
}

// startVideoPipeline runs the crawl pipeline with video hashing on db, its
// fetcher allowed to videos.example at addr only.
func startVideoPipeline(t *testing.T, db *store.DB, tools video.Tools, addr netip.AddrPort) {
	t.Helper()
	ctx := context.Background()
	m, err := match.New(ctx, match.Config{Store: db, PollInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })

	res := simnet.NewResolver()
	res.Set("videos.example", addr.Addr())
	f := crawl.NewFetcher(crawl.Config{Policy: crawl.Policy{AllowAddrs: []netip.AddrPort{addr}}, Resolver: res,
		Timeout: 20 * time.Second, RetryBase: 10 * time.Millisecond})
	t.Cleanup(f.Close)
	vault := testrig.Vault(t)
	vh := video.New(tools, video.Options{Interval: 1, Limits: video.Limits{MaxDuration: time.Minute, Timeout: time.Minute}})
	p := &jobs.Pipeline{Store: db, Fetcher: f, Blobs: vault, Matcher: m, Budget: vigil.DefaultCrawlBudget, MaxDepth: 1,
		Video: vh, VideoHashers: 2}
	workers := river.NewWorkers()
	p.Register(workers)
	stop, err := db.Driver().StartWorkers(ctx, store.WorkerConfig{
		Workers: workers, Queues: jobs.Queues(4, 2), PollInterval: 50 * time.Millisecond, RescueAfter: 2 * time.Minute,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = stop(sctx)
	})
}
