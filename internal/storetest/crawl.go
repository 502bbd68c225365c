package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/store"
)

// startCrawl reports url and starts its crawl, returning the reported
// URL's ID and its root page task.
func startCrawl(t *testing.T, db *store.DB, url string) (int64, *vigil.CrawlTask) {
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
	return urlID, findTask(t, db, urlID, vigil.TaskPage, r.URLs[0].URL)
}

// crawlOneImage reports url and takes its crawl to the point where the
// page's one image task waits; it returns the reported URL's ID and that
// task.
func crawlOneImage(t *testing.T, db *store.DB, url string) (int64, *vigil.CrawlTask) {
	t.Helper()
	ctx := context.Background()
	urlID, page := startCrawl(t, db, url)
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

// crawlTasks counts a reported URL's crawl tasks of a kind.
func crawlTasks(t *testing.T, db *store.DB, urlID int64, kind vigil.TaskKind) int {
	t.Helper()
	var n int
	if err := db.Driver().Reader().QueryRow(context.Background(), `SELECT count(*) FROM crawl_tasks
		WHERE reported_url_id = $1 AND kind = $2`, urlID, string(kind)).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// testCrawlBudget: a crawl queues pages and media within its budget
// (vigil.CrawlBudget), each target once whichever page finds it, and a
// task finished twice (a job run again) is recorded once.
func testCrawlBudget(t *testing.T, db *store.DB) {
	ctx := context.Background()
	const url = "https://gateway.example/"
	r := newReport(t, url)
	if err := db.CreateReport(ctx, r); err != nil {
		t.Fatal(err)
	}
	urlID := r.URLs[0].ID
	for range 2 { // a retried crawl job queues nothing more
		if err := db.StartCrawl(ctx, urlID); err != nil {
			t.Fatal(err)
		}
	}
	if n := crawlTasks(t, db, urlID, vigil.TaskPage); n != 1 || len(jobsOf(t, db, "fetch_page")) != 1 {
		t.Fatalf("after StartCrawl twice: %d page tasks, %d page jobs", n, len(jobsOf(t, db, "fetch_page")))
	}
	if u, err := db.FindReportedURL(ctx, urlID); err != nil || u.Status != vigil.URLCrawling {
		t.Fatalf("reported URL %+v, %v", u, err)
	}
	if err := db.StartCrawl(ctx, urlID+1000); !vigil.IsNotFound(err) {
		t.Errorf("StartCrawl(missing) = %v", err)
	}

	budget := vigil.CrawlBudget{MaxPages: 2, MaxMedia: 3}
	var children []vigil.CrawlChild
	for i := range 3 {
		children = append(children, vigil.CrawlChild{Kind: vigil.TaskPage, Target: fmt.Sprintf("%sp%d", url, i), Depth: 1})
	}
	for i := range 5 {
		children = append(children, vigil.CrawlChild{Kind: vigil.TaskMedia, Target: fmt.Sprintf("%sm%d.jpg", url, i), Depth: 1})
	}
	children = append(children, children[3]) // the same image twice on the page
	root := findTask(t, db, urlID, vigil.TaskPage, url)
	fetch := func(target string) *vigil.Fetch {
		return &vigil.Fetch{RequestedURL: target, FinalURL: target, Status: 200, StartedAt: time.Now().UTC(), Class: "html", Evidence: "{}"}
	}
	for range 2 {
		if err := db.FinishPage(ctx, root, fetch(url), children, budget); err != nil {
			t.Fatal(err)
		}
	}
	// The root page counts against the budget: one more page, three media.
	if p, m := crawlTasks(t, db, urlID, vigil.TaskPage), crawlTasks(t, db, urlID, vigil.TaskMedia); p != 2 || m != 3 {
		t.Fatalf("queued %d pages and %d media, want 2 and 3 (budget %+v)", p, m, budget)
	}
	fs, err := db.ListFetches(ctx, urlID)
	if err != nil || len(fs) != 1 {
		t.Fatalf("the root page finished twice left %d fetches (%v)", len(fs), err)
	}
	rootFetch := fs[0].ID
	// The second page finds an image already queued and more than the
	// budget allows: nothing new.
	p0 := findTask(t, db, urlID, vigil.TaskPage, url+"p0")
	if p0.Depth != 1 || p0.PageFetchID != rootFetch {
		t.Fatalf("page task %+v", p0)
	}
	if err := db.FinishPage(ctx, p0, fetch(p0.Target), []vigil.CrawlChild{children[3], children[7], children[1]}, budget); err != nil {
		t.Fatal(err)
	}
	if p, m := crawlTasks(t, db, urlID, vigil.TaskPage), crawlTasks(t, db, urlID, vigil.TaskMedia); p != 2 || m != 3 {
		t.Fatalf("after the second page: %d pages and %d media", p, m)
	}
	if m0 := findTask(t, db, urlID, vigil.TaskMedia, url+"m0.jpg"); m0.PageFetchID != rootFetch {
		t.Errorf("the image is credited to fetch %d, not to the first page that found it (%d)", m0.PageFetchID, rootFetch)
	}
	if u, _ := db.FindReportedURL(ctx, urlID); u.Status != vigil.URLCrawling {
		t.Fatalf("crawl ended with media pending: %s", u.Status)
	}
}

// testCrawlClosing: the crawl ends, done, when its last task is; a root
// page that could not be had ends it failed, with the reason; nothing
// illegal seen opens no case.
func testCrawlClosing(t *testing.T, db *store.DB) {
	ctx := context.Background()
	// Media that could not be fetched still ends its task.
	const url = "https://closing.example/"
	urlID, root := startCrawl(t, db, url)
	media := []vigil.CrawlChild{{Kind: vigil.TaskMedia, Target: url + "a.jpg"}, {Kind: vigil.TaskMedia, Target: url + "b.jpg"}}
	if err := db.FinishPage(ctx, root, &vigil.Fetch{RequestedURL: url, FinalURL: url, Status: 200, StartedAt: time.Now().UTC(),
		Class: "html", Evidence: "{}"}, media, vigil.DefaultCrawlBudget); err != nil {
		t.Fatal(err)
	}
	for i, c := range media {
		task := findTask(t, db, urlID, vigil.TaskMedia, c.Target)
		gone := &vigil.Fetch{RequestedURL: c.Target, FinalURL: c.Target, Status: 404, StartedAt: time.Now().UTC(), Reason: "http-status", Evidence: "{}"}
		if err := db.FinishMedia(ctx, task, gone, nil); err != nil {
			t.Fatal(err)
		}
		u, err := db.FindReportedURL(ctx, urlID)
		if err != nil {
			t.Fatal(err)
		}
		if want := map[bool]vigil.URLStatus{false: vigil.URLCrawling, true: vigil.URLDone}[i == len(media)-1]; u.Status != want {
			t.Fatalf("after media %d of %d: %s, want %s", i+1, len(media), u.Status, want)
		}
		// Finished again (a job run twice): the crawl's count of pending
		// tasks does not go down twice.
		if err := db.FinishMedia(ctx, task, gone, nil); err != nil {
			t.Fatal(err)
		}
	}
	if u, _ := db.FindReportedURL(ctx, urlID); u.Status != vigil.URLDone || u.StatusReason != "" {
		t.Fatalf("ended crawl: %+v", u)
	}
	if _, err := db.FindTakedownByURL(ctx, urlID); !vigil.IsNotFound(err) {
		t.Errorf("a crawl that saw nothing known opened a case: %v", err)
	}
	if fs, err := db.ListFetches(ctx, urlID); err != nil || len(fs) != 3 {
		t.Errorf("%d fetches, want 3 (%v)", len(fs), err)
	}

	// The reported page itself could not be had: failed, with why.
	const dead = "https://dead.example/"
	deadID, root := startCrawl(t, db, dead)
	if err := db.FinishPage(ctx, root, &vigil.Fetch{RequestedURL: dead, StartedAt: time.Now().UTC(), Reason: "dns",
		Error: "no such host", Evidence: "{}"}, nil, vigil.DefaultCrawlBudget); err != nil {
		t.Fatal(err)
	}
	if u, err := db.FindReportedURL(ctx, deadID); err != nil || u.Status != vigil.URLFailed || u.StatusReason != "dns: no such host" {
		t.Fatalf("failed crawl: %+v, %v", u, err)
	}
}
