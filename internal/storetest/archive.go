package storetest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/store"
)

// testArchiveEntries: a container's entries are recorded one transaction
// each, once however often a call is repeated, with the container as their
// parent and a sighting in the crawl; a nested container gets its own
// extract task; the container, wholly examined, does not wait for an
// analyst, and the crawl ends when the last task finishes.
func testArchiveEntries(t *testing.T, db *store.DB) {
	ctx := context.Background()
	url := "https://files.example/set.zip"
	urlID, root := startCrawl(t, db, url)
	if err := db.FinishPage(ctx, root, &vigil.Fetch{RequestedURL: url, FinalURL: url, Status: 200, StartedAt: time.Now().UTC(),
		Class: "archive", Evidence: "{}"}, []vigil.CrawlChild{{Kind: vigil.TaskMedia, Target: url}}, vigil.DefaultCrawlBudget); err != nil {
		t.Fatal(err)
	}
	mt := findTask(t, db, urlID, vigil.TaskMedia, url)
	digest := func(c byte) string { return strings.Repeat(string(c), 64) }
	arc := &vigil.Media{SHA256: digest('a'), MD5: digest('a')[:32], SHA1: digest('a')[:40], Size: 999, Class: vigil.MediaClassArchive,
		MIME: "application/zip", BlobKey: "blob-a"}
	if err := db.FinishMedia(ctx, mt, &vigil.Fetch{RequestedURL: url, FinalURL: url, Status: 200, StartedAt: time.Now().UTC(),
		Class: "archive", BodySHA256: arc.SHA256, Evidence: "{}"}, arc); err != nil {
		t.Fatal(err)
	}
	ext := findTask(t, db, urlID, vigil.TaskExtract, fmt.Sprintf("media:%d", arc.ID))
	if ext.MediaID != arc.ID || ext.PageFetchID == 0 {
		t.Fatalf("extract task %+v", ext)
	}
	if got, err := db.FetchURL(ctx, ext.PageFetchID); err != nil || got != url {
		t.Errorf("fetch url %q, %v", got, err)
	}
	if _, err := db.FetchURL(ctx, 1<<40); !vigil.IsNotFound(err) {
		t.Errorf("fetch url of nothing: %v", err)
	}
	mod := time.Date(2026, 1, 2, 3, 4, 6, 0, time.UTC)
	pic := func() *vigil.Media {
		return &vigil.Media{SHA256: digest('b'), MD5: digest('b')[:32], SHA1: digest('b')[:40], Size: 10, Class: "image",
			MIME: "image/jpeg", BlobKey: "blob-b"}
	}
	h := &vigil.MediaHashes{PDQ: digest('c'), Quality: 80, Format: "jpeg"}
	known := []vigil.Match{{BankID: 1, EntryID: 2, BankName: "list", Signal: vigil.SignalSHA256, Classification: "baseline", Variant: "orig"}}
	for range 2 { // the second time is a run after a crash
		if err := db.FinishEntry(ctx, ext, &vigil.ArchiveEntry{Seq: 0, Path: "dir/known.jpg", Size: 10, Modified: &mod}, pic(), h, known, ""); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.FinishEntry(ctx, ext, &vigil.ArchiveEntry{Seq: 1, Path: "secret.jpg", Size: 5, Reason: "encrypted"}, nil, nil, nil, ""); err != nil {
		t.Fatal(err)
	}
	inner := &vigil.Media{SHA256: digest('d'), MD5: digest('d')[:32], SHA1: digest('d')[:40], Size: 50, Class: vigil.MediaClassArchive,
		MIME: "application/zip", BlobKey: "blob-d"}
	if err := db.FinishEntry(ctx, ext, &vigil.ArchiveEntry{Seq: 2, Path: "inner.zip", Size: 50}, inner, nil, nil, vigil.TaskExtract); err != nil {
		t.Fatal(err)
	}
	paths, err := db.ArchiveEntryPaths(ctx, arc.ID, urlID)
	if err != nil || len(paths) != 3 {
		t.Fatalf("entry paths %v, %v", paths, err)
	}
	// Another crawl has seen none of them yet.
	if other, err := db.ArchiveEntryPaths(ctx, arc.ID, urlID+1000); err != nil || len(other) != 1 || other[0] != "secret.jpg" {
		t.Errorf("entry paths of another crawl %v, %v", other, err)
	}
	entries, err := db.ListArchiveEntries(ctx, arc.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 3 || entries[0].Path != "dir/known.jpg" || entries[0].MediaID == 0 || entries[0].Modified == nil ||
		!entries[0].Modified.Equal(mod) || entries[1].Reason != "encrypted" || entries[1].MediaID != 0 || entries[2].MediaID != inner.ID {
		t.Errorf("entries %+v %+v %+v", entries[0], entries[1], entries[2])
	}
	got, err := db.FindMedia(ctx, entries[0].MediaID)
	if err != nil {
		t.Fatal(err)
	}
	if got.HashRuns != 1 || got.MatchRuns != 1 || got.Status != vigil.MediaKnown || got.QueuedAt != nil {
		t.Errorf("entry media %+v", got)
	}
	if n, err := db.ArchiveNesting(ctx, inner.ID); err != nil || n != 1 {
		t.Errorf("nesting of the inner archive %d, %v", n, err)
	}
	if n, err := db.ArchiveNesting(ctx, arc.ID); err != nil || n != 0 {
		t.Errorf("nesting of the outer archive %d, %v", n, err)
	}
	sightings, err := db.ListMediaForURL(ctx, urlID)
	if err != nil || len(sightings) != 3 {
		t.Errorf("crawl sees %d media, %v; want archive, picture, inner archive", len(sightings), err)
	}
	innerTask := findTask(t, db, urlID, vigil.TaskExtract, fmt.Sprintf("media:%d", inner.ID))
	if err := db.FinishExtract(ctx, ext, &vigil.MediaHashes{Format: "zip"}, nil, nil, vigil.DefaultCrawlBudget); err != nil {
		t.Fatal(err)
	}
	if u, _ := db.FindReportedURL(ctx, urlID); u.Status == vigil.URLDone {
		t.Error("the crawl ended with the inner archive's task pending")
	}
	if err := db.FinishExtract(ctx, innerTask, &vigil.MediaHashes{Format: "zip", Error: "encrypted: 1 of 1 entries"}, nil, nil,
		vigil.DefaultCrawlBudget); err != nil {
		t.Fatal(err)
	}
	outer, _ := db.FindMedia(ctx, arc.ID)
	in, _ := db.FindMedia(ctx, inner.ID)
	if outer.QueuedAt != nil || outer.HashRuns != 1 || outer.Format != "zip" || in.QueuedAt == nil || in.HashError == "" {
		t.Errorf("outer %+v, inner %+v; want the inner one (not wholly examined) queued", outer, in)
	}
	if u, _ := db.FindReportedURL(ctx, urlID); u.Status != vigil.URLDone {
		t.Errorf("crawl %s, want done", u.Status)
	}
}

// testFinishImageLinks: an SVG reached as media queues the pictures it
// draws, seen through its fetch, once however often the call is repeated.
func testFinishImageLinks(t *testing.T, db *store.DB) {
	ctx := context.Background()
	urlID, task := crawlOneImage(t, db, "https://svg.example/page")
	sha := strings.Repeat("e", 64)
	m := func() *vigil.Media {
		return &vigil.Media{SHA256: sha, MD5: sha[:32], SHA1: sha[:40], Size: 100, Class: "image", MIME: "image/svg+xml", BlobKey: "b"}
	}
	child := []vigil.CrawlChild{{Kind: vigil.TaskMedia, Target: "https://svg.example/drawn.png"}}
	for range 2 {
		f := &vigil.Fetch{RequestedURL: task.Target, FinalURL: task.Target, Status: 200, StartedAt: time.Now().UTC(),
			Class: "image", BodySHA256: sha, Evidence: "{}"}
		if err := db.FinishImageLinks(ctx, task, f, m(), &vigil.MediaHashes{Format: "svg"}, nil, child, vigil.DefaultCrawlBudget); err != nil {
			t.Fatal(err)
		}
	}
	drawn := findTask(t, db, urlID, vigil.TaskMedia, "https://svg.example/drawn.png")
	if drawn.PageFetchID == 0 || drawn.Done {
		t.Errorf("drawn picture's task %+v", drawn)
	}
	fetches, err := db.ListFetches(ctx, urlID)
	if err != nil || len(fetches) != 2 || fetches[1].ID != drawn.PageFetchID {
		t.Errorf("fetches %d, %v; the drawn picture seen through the SVG's fetch", len(fetches), err)
	}
}
