package web_test

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/crawl"
	"github.com/vigil-hotline/vigil/internal/hashing"
	"github.com/vigil-hotline/vigil/internal/jobs"
	"github.com/vigil-hotline/vigil/internal/match"
	"github.com/vigil-hotline/vigil/internal/simnet"
	"github.com/vigil-hotline/vigil/internal/store"
	"github.com/vigil-hotline/vigil/internal/storetest"
	"github.com/vigil-hotline/vigil/internal/testrig"
)

// crawlURL reports url, waits for its crawl and returns its media.
func crawlURL(t *testing.T, db *store.DB, u string) []*vigil.Media {
	t.Helper()
	ctx := context.Background()
	rep, err := vigil.NewReport(vigil.ReportInput{URLs: []string{u}}, vigil.SourceForm, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := db.CreateReport(ctx, rep); err != nil {
		t.Fatal(err)
	}
	id := rep.URLs[0].ID
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		ru, err := db.FindReportedURL(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if ru.Status == vigil.URLDone || ru.Status == vigil.URLFailed {
			media, err := db.ListMediaForURL(ctx, id)
			if err != nil || len(media) != 1 {
				t.Fatalf("%s: %s (%s), %d media, %v", u, ru.Status, ru.StatusReason, len(media), err)
			}
			return media
		}
	}
	t.Fatalf("%s not crawled within 60 s", u)
	return nil
}

// TestWorkbenchLearning: a media item confirmed illegal is recognised as
// known the next time the crawler meets it (the same file elsewhere, or
// the same picture re-encoded) and never reaches the queue again; one
// confirmed not illegal stays out of the queue too. The real pipeline and
// the real matcher run against simnet's benign pictures.
func TestWorkbenchLearning(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		n, err := simnet.Start(simnet.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { n.Close() })
		f := crawl.NewFetcher(crawl.Config{Policy: crawl.Policy{AllowAddrs: n.AllowAddrs()}, Resolver: n.Resolver,
			Timeout: 10 * time.Second, RetryBase: 10 * time.Millisecond})
		t.Cleanup(f.Close)
		vault := testrig.Vault(t)
		m, err := match.New(ctx, match.Config{Store: db, PollInterval: 50 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { m.Close() })
		p := &jobs.Pipeline{Store: db, Fetcher: f, Blobs: vault, Matcher: m, Budget: vigil.DefaultCrawlBudget}
		workers := river.NewWorkers()
		p.Register(workers)
		stop, err := db.Driver().StartWorkers(ctx, store.WorkerConfig{Workers: workers, Queues: jobs.Queues(2, 1),
			PollInterval: 50 * time.Millisecond, RescueAfter: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = stop(sctx)
		})

		// A picture whose PDQ hash is of a quality that matches at all.
		fineSeed := uint64(4343)
		for ; ; fineSeed++ {
			b, err := n.Images.Bytes(fineSeed, simnet.Variant{})
			if err != nil {
				t.Fatal(err)
			}
			if r, err := hashing.HashBytes(b, hashing.Options{}); err == nil && r.Quality >= 80 {
				break
			}
		}
		illegal := crawlURL(t, db, n.URL(simnet.CDN, simnet.ImagePath(4242, simnet.Variant{})))[0]
		fine := crawlURL(t, db, n.URL(simnet.CDN, simnet.ImagePath(fineSeed, simnet.Variant{})))[0]
		for _, x := range []*vigil.Media{illegal, fine} {
			if x.Status != vigil.MediaUnknown || x.QueuedAt == nil {
				t.Fatalf("new picture not queued: %+v", x)
			}
		}
		// An analyst decides, a supervisor confirms, through the pages.
		e := newEnv(t, db, withWorkbench(db, vault))
		e.addUser("ann", vigil.RoleAnalyst, "ann-password-1")
		e.addUser("sue", vigil.RoleSupervisor, "sue-password-1")
		ann := e.login("ann", "ann-password-1")
		tok := e.formToken(ann, "/staff/queue")
		for _, d := range []struct {
			id      int64
			verdict string
		}{{illegal.ID, "baseline"}, {fine.ID, "not-illegal"}} {
			form := url.Values{"csrf": {tok}, "verdict": {d.verdict}}
			if d.verdict == "baseline" {
				form.Set("severity", "B")
			}
			if st, res := e.postJSON(ann, fmt.Sprintf("/staff/media/%d/assess", d.id), form); st != 200 {
				t.Fatalf("assess: %d %v", st, res)
			}
		}
		sue := e.login("sue", "sue-password-1")
		_, body := e.get(sue, "/staff/confirm")
		stok := e.formToken(sue, "/staff/confirm")
		for _, p := range regexp.MustCompile(`/staff/assessments/(\d+)/confirm`).FindAllStringSubmatch(body, -1) {
			if resp, _ := e.postForm(sue, "/staff/assessments/"+p[1]+"/confirm", url.Values{"csrf": {stok}}); resp.StatusCode != 303 {
				t.Fatalf("confirm: %d", resp.StatusCode)
			}
		}
		// The matcher follows the banks' change feed.
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			ms, err := m.Match(ctx, vigil.MatchQuery{SHA256: illegal.SHA256})
			if err != nil {
				t.Fatal(err)
			}
			if len(ms) > 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("the matcher did not learn the confirmed item")
			}
		}
		for _, c := range []struct {
			url, class string
		}{
			// The same file on another site: the same media item, known.
			{n.URL(simnet.Mirror, simnet.ImagePath(4242, simnet.Variant{})), "iwf-b"},
			// The same picture re-encoded: a new file, recognised by PDQ.
			{n.URL(simnet.Mirror, simnet.ImagePath(4242, simnet.Variant{Format: "png"})), "iwf-b"},
			{n.URL(simnet.Gallery, simnet.ImagePath(4242, simnet.Variant{Quality: 70, Width: 200})), "iwf-b"},
			// The not-illegal picture, slightly re-encoded.
			{n.URL(simnet.Mirror, simnet.ImagePath(fineSeed, simnet.Variant{Quality: 84})), vigil.ClassNotIllegal},
		} {
			got := crawlURL(t, db, c.url)[0]
			if got.Status != vigil.MediaKnown || got.QueuedAt != nil || got.Classification != c.class {
				t.Errorf("%s: status %s, classification %q, queued %v", c.url, got.Status, got.Classification, got.QueuedAt)
			}
		}
		st, err := db.QueueStats(ctx)
		if err != nil || st.Queued != 0 {
			t.Errorf("queue after learning: %+v %v", st, err)
		}
	})
}
