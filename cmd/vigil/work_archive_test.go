package main

import (
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/simnet"
	"github.com/vigil-hotline/vigil/internal/storetest"
)

// TestWorkerKilledMidArchive kills the worker with SIGKILL while it
// extracts an archive of 400 pictures and starts it again: every entry ends
// up recorded, hashed and matched exactly once.
func TestWorkerKilledMidArchive(t *testing.T) {
	needVigil(t)
	const entries = 400
	for _, kind := range storetest.Kinds {
		t.Run(kind, func(t *testing.T) {
			// The stores side by side: much of the time is spent waiting
			// (for --rescue-after, River's rescuer, a PostgreSQL commit).
			t.Parallel()
			data, dbURL := storeURLs(t, kind)
			n, err := simnet.Start(simnet.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer n.Close()
			db := openTestStore(t, kind, data, dbURL)
			ctx := context.Background()
			rep, err := vigil.NewReport(vigil.ReportInput{URLs: []string{n.URL(simnet.Files, "/set/1.zip?n=400")}}, vigil.SourceAPI, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			if err := db.CreateReport(ctx, rep); err != nil {
				t.Fatal(err)
			}
			urlID := rep.URLs[0].ID
			// A longer rescue than startWork's: one job extracts the whole
			// archive and must not time out on a busy machine.
			extra := []string{"--crawl-resolve", simnet.Files + "=" + n.Addr.Addr().String(), "--rescue-after", "6s"}
			w := startWork(t, n, data, dbURL, extra...)
			deadline := time.Now().Add(120 * time.Second)
			for c := tally(t, db, urlID); c.matchedOnce < 60; c = tally(t, db, urlID) {
				if time.Now().After(deadline) {
					t.Fatalf("only %+v after 120 s", c)
				}
				alive(t, w)
				time.Sleep(10 * time.Millisecond)
			}
			_ = w.Process.Signal(syscall.SIGKILL)
			_ = w.Wait()
			mid := tally(t, db, urlID)
			t.Logf("killed with %+v", mid)
			if mid.matchedOnce >= entries {
				t.Fatal("the extraction finished before the kill: the test proves nothing")
			}
			time.Sleep(7 * time.Second) // past --rescue-after
			w = startWork(t, n, data, dbURL, extra...)
			var u *vigil.ReportedURL
			for {
				if u, err = db.FindReportedURL(ctx, urlID); err != nil {
					t.Fatal(err)
				}
				if u.Status == vigil.URLDone || u.Status == vigil.URLFailed {
					break
				}
				if time.Now().After(deadline.Add(60 * time.Second)) {
					t.Fatalf("crawl not finished: %+v, media %+v", u, tally(t, db, urlID))
				}
				alive(t, w)
				time.Sleep(100 * time.Millisecond)
			}
			// The archive itself counts too: hashed (opened) and matched
			// once.
			final := tally(t, db, urlID)
			if u.Status != vigil.URLDone || final.media != entries+1 || final.hashedOnce != entries+1 ||
				final.matchedOnce != entries+1 || final.more != 0 {
				t.Errorf("status %s (%s), media %+v; want %d hashed and matched exactly once", u.Status, u.StatusReason, final, entries+1)
			}
			media, err := db.ListMediaForURL(ctx, urlID)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range media {
				if m.Class != vigil.MediaClassArchive {
					continue
				}
				es, err := db.ListArchiveEntries(ctx, m.ID)
				if err != nil || len(es) != entries {
					t.Errorf("archive entries %d, %v", len(es), err)
				}
			}
		})
	}
}
