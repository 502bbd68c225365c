package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/store"
)

// crawlOneImage reports url and takes its crawl to the point where the
// page's one image task waits; it returns the reported URL's ID and that
// task.
func crawlOneImage(t *testing.T, db *store.DB, url string) (int64, *vigil.CrawlTask) {
	t.Helper()
	ctx := context.Background()
	r := newReport(t, url)
	if err := db.CreateReport(ctx, r); err != nil {
		t.Fatal(err)
	}
	urlID := r.URLs[0].ID
	if err := db.StartCrawl(ctx, urlID); err != nil {
		t.Fatal(err)
	}
	page := findTask(t, db, urlID, vigil.TaskPage, url)
	img := url + "/a.jpg"
	if err := db.FinishPage(ctx, page, &vigil.Fetch{RequestedURL: url, FinalURL: url, Status: 200, StartedAt: time.Now().UTC(),
		Class: "html", Evidence: "{}"}, []vigil.CrawlChild{{Kind: vigil.TaskMedia, Target: img}}, vigil.DefaultCrawlBudget); err != nil {
		t.Fatal(err)
	}
	return urlID, findTask(t, db, urlID, vigil.TaskMedia, img)
}

// testFinishImage: an image hashed and matched in its fetch job is
// recorded in one call, once, however often the call is repeated and
// however many crawls meet the same file; the crawl then ends.
func testFinishImage(t *testing.T, db *store.DB) {
	ctx := context.Background()
	sha := "5e0d1b6f2f1c3f7d5e0d1b6f2f1c3f7d5e0d1b6f2f1c3f7d5e0d1b6f2f1c3f7d"
	if hashed, err := db.MediaHashed(ctx, sha); err != nil || hashed {
		t.Fatalf("MediaHashed before: %v, %v", hashed, err)
	}
	urlA, taskA := crawlOneImage(t, db, "https://a.example/gallery")
	fetch := func(task *vigil.CrawlTask) *vigil.Fetch {
		return &vigil.Fetch{RequestedURL: task.Target, FinalURL: task.Target, Status: 200, StartedAt: time.Now().UTC(),
			Class: "image", BodySHA256: sha, Evidence: "{}"}
	}
	media := func() *vigil.Media {
		return &vigil.Media{SHA256: sha, MD5: sha[:32], SHA1: sha[:40], Size: 1234, Class: "image", MIME: "image/jpeg", BlobKey: "blob-" + sha}
	}
	h := &vigil.MediaHashes{PDQ: sha, Quality: 90, Width: 640, Height: 480, Format: "jpeg", Dihedral: []string{sha, sha}}
	m := media()
	if err := db.FinishImage(ctx, taskA, fetch(taskA), m, h, nil); err != nil {
		t.Fatal(err)
	}
	// The same job run again after a crash changes nothing.
	if err := db.FinishImage(ctx, taskA, fetch(taskA), media(), &vigil.MediaHashes{PDQ: "", Error: "other"}, nil); err != nil {
		t.Fatal(err)
	}
	got, err := db.FindMedia(ctx, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.HashRuns != 1 || got.MatchRuns != 1 || got.PDQ != sha || got.Quality != 90 || got.Status != vigil.MediaUnknown ||
		len(got.Dihedral) != 2 || got.HashedAt == nil || got.MatchedAt == nil {
		t.Fatalf("media after FinishImage: %+v", got)
	}
	if hashed, err := db.MediaHashed(ctx, sha); err != nil || !hashed {
		t.Fatalf("MediaHashed after: %v, %v", hashed, err)
	}
	// Another crawl meets the same file: only its sighting is new.
	urlB, taskB := crawlOneImage(t, db, "https://b.example/forum")
	if err := db.FinishImage(ctx, taskB, fetch(taskB), media(), nil, nil); err != nil {
		t.Fatal(err)
	}
	again, err := db.FindMedia(ctx, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	if again.HashRuns != 1 || again.MatchRuns != 1 {
		t.Errorf("media after a second crawl: %+v", again)
	}
	for _, id := range []int64{urlA, urlB} {
		u, err := db.FindReportedURL(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if u.Status != vigil.URLDone {
			t.Errorf("reported URL %d: %s (%s), want done", id, u.Status, u.StatusReason)
		}
		ms, err := db.ListMediaForURL(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if len(ms) != 1 || ms[0].ID != m.ID {
			t.Errorf("reported URL %d sees %d media", id, len(ms))
		}
	}
}
