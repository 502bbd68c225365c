package jobs_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/blob"
	"github.com/vigil-hotline/vigil/internal/jobs"
	"github.com/vigil-hotline/vigil/internal/simnet"
	"github.com/vigil-hotline/vigil/internal/store"
	"github.com/vigil-hotline/vigil/internal/storetest"
	"github.com/vigil-hotline/vigil/internal/testrig"
)

// shaMatcher knows media by SHA-256; it stands in for the bank matcher.
type shaMatcher struct {
	mu    sync.Mutex
	known map[string]bool
	calls map[string]int
}

func (m *shaMatcher) Match(_ context.Context, q vigil.MatchQuery) ([]vigil.Match, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls[q.SHA256]++
	if m.known[q.SHA256] {
		return []vigil.Match{{BankID: 1, BankName: "test", EntryID: 7, Signal: vigil.SignalSHA256, Value: q.SHA256,
			Classification: "baseline", Variant: "orig"}}, nil
	}
	return nil, nil
}

type rig struct {
	db      *store.DB
	net     *simnet.Net
	matcher *shaMatcher
	vault   *blob.Vault
}

func newRig(t *testing.T, db *store.DB, maxDepth int) *rig {
	t.Helper()
	return newRigWith(t, db, maxDepth, nil)
}

// newRigWith is newRig with a hook to adjust the pipeline before it starts.
func newRigWith(t *testing.T, db *store.DB, maxDepth int, adjust func(n *simnet.Net, p *jobs.Pipeline)) *rig {
	t.Helper()
	n := testrig.Internet(t, simnet.Options{})
	f := testrig.Fetcher(t, n)
	vault := testrig.Vault(t)
	r := &rig{db: db, net: n, vault: vault, matcher: &shaMatcher{known: map[string]bool{}, calls: map[string]int{}}}
	p := &jobs.Pipeline{Store: db, Fetcher: f, Blobs: vault, Matcher: r.matcher, Budget: vigil.DefaultCrawlBudget, MaxDepth: maxDepth}
	if adjust != nil {
		adjust(n, p)
	}
	workers := river.NewWorkers()
	p.Register(workers)
	stop, err := db.Driver().StartWorkers(context.Background(), store.WorkerConfig{
		Workers: workers, Queues: jobs.Queues(4, 2), PollInterval: 50 * time.Millisecond, RescueAfter: time.Minute,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = stop(ctx)
	})
	return r
}

func (r *rig) report(t *testing.T, urls ...string) *vigil.Report {
	t.Helper()
	rep, err := vigil.NewReport(vigil.ReportInput{URLs: urls}, vigil.SourceForm, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := r.db.CreateReport(context.Background(), rep); err != nil {
		t.Fatal(err)
	}
	return rep
}

func waitDone(t *testing.T, db *store.DB, id int64) *vigil.ReportedURL {
	t.Helper()
	var u *vigil.ReportedURL
	testrig.WaitFor(t, fmt.Sprintf("reported URL %d crawled", id), 90*time.Second, func() bool {
		var err error
		if u, err = db.FindReportedURL(context.Background(), id); err != nil {
			t.Fatal(err)
		}
		return u.Status == vigil.URLDone || u.Status == vigil.URLFailed
	})
	return u
}

func TestPipelineGallery(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		r := newRig(t, db, 2)
		placed := map[string]simnet.Placement{}
		for _, p := range r.net.Manifest() {
			if u, _ := url.Parse(p.Page); u.Hostname() == simnet.Gallery {
				placed[p.Media] = p
			}
		}
		// One image in three is "known".
		i := 0
		for _, p := range placed {
			if i%3 == 0 {
				r.matcher.known[sha256hex(placedBytes(r.net, p))] = true
			}
			i++
		}
		rep := r.report(t, r.net.GatewayURL())
		u := waitDone(t, db, rep.URLs[0].ID)
		if u.Status != vigil.URLDone {
			t.Fatalf("status %s (%s)", u.Status, u.StatusReason)
		}
		// Unknown media wait for an analyst: the reporter sees "being assessed".
		if got, err := db.FindReportByTrackingCode(ctx, rep.TrackingCode); err != nil || got.Status != vigil.ReportAssessing {
			t.Errorf("report status %v, %v; want being assessed", got.Status, err)
		}
		media, err := db.ListMediaForURL(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		var known, unknown int
		for _, m := range media {
			if m.HashRuns != 1 && m.Class == "image" || m.MatchRuns != 1 {
				t.Errorf("media %d hashed %d times, matched %d times", m.ID, m.HashRuns, m.MatchRuns)
			}
			switch {
			case m.Status == vigil.MediaKnown && r.matcher.known[m.SHA256]:
				known++
				if m.Classification != "baseline" || m.QueuedAt != nil {
					t.Errorf("known media %d: %q queued %v", m.ID, m.Classification, m.QueuedAt)
				}
				if mm, _ := db.MediaMatches(ctx, m.ID); len(mm) != 1 || mm[0].BankName != "test" {
					t.Errorf("media %d matches %+v", m.ID, mm)
				}
			case m.Status == vigil.MediaUnknown && !r.matcher.known[m.SHA256]:
				unknown++
				if m.QueuedAt == nil {
					t.Errorf("unknown media %d not queued", m.ID)
				}
			default:
				t.Errorf("media %d: status %s, known %v", m.ID, m.Status, r.matcher.known[m.SHA256])
			}
			if m.Class == "image" && (m.PDQ == "" || len(m.Dihedral) != 8 || m.Width == 0) {
				t.Errorf("image %d not hashed: %+v", m.ID, m)
			}
			plain, err := r.vault.Get(ctx, m.BlobKey)
			if err != nil || sha256hex(plain) != m.SHA256 {
				t.Errorf("media %d: blob does not hold it (%v)", m.ID, err)
			}
		}
		if known == 0 || unknown == 0 || len(media) < len(placed)/2 {
			t.Errorf("%d media (%d known, %d unknown) for %d placed", len(media), known, unknown, len(placed))
		}
		// Every placed picture was found (distinct URLs may share bytes).
		distinct := map[string]bool{}
		byHash := map[string]simnet.Placement{}
		for _, p := range placed {
			b := placedBytes(r.net, p)
			distinct[sha256hex(b)] = true
			byHash[sha256hex(b)] = p
		}
		got := map[string]bool{}
		for _, m := range media {
			got[m.SHA256] = true
		}
		for h := range distinct {
			if !got[h] {
				t.Errorf("placed media %s not found: %+v", h[:12], byHash[h])
			}
		}
		fetches, err := db.ListFetches(ctx, u.ID)
		if err != nil || len(fetches) < 6 {
			t.Fatalf("%d fetches: %v", len(fetches), err)
		}
		first := fetches[0]
		if first.Kind != vigil.TaskPage || first.Status != 200 || first.Connected == "" || first.BodySHA256 == "" ||
			first.Evidence == "" || first.RequestedURL != r.net.GatewayURL() {
			t.Errorf("first fetch evidence: %+v", first)
		}
		// Each media item was matched once, whatever the number of pages
		// that showed it.
		for h, n := range r.matcher.calls {
			if n != 1 {
				t.Errorf("media %s matched %d times", h[:12], n)
			}
		}

		// A second report of another URL showing the same pictures adds
		// sightings, not media.
		before, _ := db.MediaCounts(ctx)
		rep2 := r.report(t, r.net.URL(simnet.Gallery, "/galleries/1/"))
		waitDone(t, db, rep2.URLs[0].ID)
		after, _ := db.MediaCounts(ctx)
		if after.Media != before.Media {
			t.Errorf("media %d -> %d after a crawl of pages already seen", before.Media, after.Media)
		}
		again, _ := db.ListMediaForURL(ctx, rep2.URLs[0].ID)
		if len(again) == 0 {
			t.Error("second crawl links no media")
		}
	})
}

func TestPipelineRefusedAndMissing(t *testing.T) {
	db := storetest.Open(t, "sqlite")
	r := newRig(t, db, 1)
	rep := r.report(t, r.net.URL(simnet.Tricks, "/redirect/metadata"), r.net.URL(simnet.Gallery, "/no-such-page"),
		"http://metadata.example:"+portOf(r.net)+"/")
	for _, u := range rep.URLs {
		got := waitDone(t, db, u.ID)
		if got.Status != vigil.URLFailed || got.StatusReason == "" {
			t.Errorf("%s: status %s reason %q", u.URL, got.Status, got.StatusReason)
		}
	}
	// Nothing found and nothing waiting: the reporter sees it closed.
	if got, err := db.FindReportByTrackingCode(context.Background(), rep.TrackingCode); err != nil || got.Status != vigil.ReportClosed {
		t.Errorf("report status %v, %v; want closed", got, err)
	}
}

// placedBytes is what simnet serves for a placement: a generated picture,
// or a fake video.
func placedBytes(n *simnet.Net, p simnet.Placement) []byte {
	if strings.HasSuffix(p.Media, ".mp4") {
		return simnet.FakeVideo(p.Seed)
	}
	b, _ := n.Images.Bytes(p.Seed, p.Variant)
	return b
}

func portOf(n *simnet.Net) string {
	u, _ := url.Parse(n.GatewayURL())
	return u.Port()
}

// TestPipelineSVG: a page with an inline <svg> icon is crawled as a page,
// and an SVG document is stored as a picture with the images it
// references fetched too (issue 12 item 3), also when a page shows it
// with <img> (issue 21).
func TestPipelineSVG(t *testing.T) {
	db := storetest.Open(t, "sqlite")
	r := newRig(t, db, 2)
	ctx := context.Background()
	rep := r.report(t, r.net.URL(simnet.Tricks, "/svg-icon-page"), r.net.URL(simnet.Tricks, "/drawing.svg"),
		r.net.URL(simnet.Tricks, "/svg-img-page"))
	want := []map[string]bool{{}, {}, {}}
	// The third: an SVG reached through <img> has what it draws followed
	// too (issue 21).
	for i, seeds := range [][]uint64{{61, 62}, {63, 64}, {63, 64}} {
		for _, s := range seeds {
			b, _ := r.net.Images.Bytes(s, simnet.Variant{})
			want[i][fmt.Sprintf("%x", sha256.Sum256(b))] = true
		}
	}
	for i, u := range rep.URLs {
		waitDone(t, db, u.ID)
		media, err := db.ListMediaForURL(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		svg := false
		for _, m := range media {
			delete(want[i], m.SHA256)
			svg = svg || m.MIME == "image/svg+xml"
		}
		if len(want[i]) > 0 {
			t.Errorf("%s: %d referenced images not found (got %d media)", u.URL, len(want[i]), len(media))
		}
		if svg != (i >= 1) {
			t.Errorf("%s: stored as an SVG picture: %v", u.URL, svg)
		}
	}
}
