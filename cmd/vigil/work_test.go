package main

import (
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/simnet"
	"github.com/vigil-hotline/vigil/internal/store"
	"github.com/vigil-hotline/vigil/internal/storetest"
)

// startWork runs `vigil work` against a simulated internet.
func startWork(t *testing.T, n *simnet.Net, data, dbURL string, extra ...string) *exec.Cmd {
	t.Helper()
	needVigil(t)
	args := []string{"work", "--allow-example-routing", "--render-browser", "off", "--rescue-after", "2s", "--crawl-max-pages", "300", "--crawl-max-media", "5000",
		"--crawl-allow", n.Addr.String()}
	for _, h := range []string{simnet.Gallery, simnet.Bench, simnet.Mirror} {
		args = append(args, "--crawl-resolve", h+"="+n.Addr.Addr().String())
	}
	cmd := exec.Command(vigilBin, append(args, extra...)...)
	cmd.Env = append(os.Environ(), "VIGIL_DATA="+data, "VIGIL_DATABASE_URL="+dbURL)
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	if testing.Verbose() {
		cmd.Stderr = os.Stderr
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return cmd
}

// alive fails the test when a started process has exited.
func alive(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	if err := cmd.Process.Signal(syscall.Signal(0)); err != nil {
		t.Fatalf("vigil work exited: %v", err)
	}
}

func openTestStore(t *testing.T, kind, data, dbURL string) *store.DB {
	if kind == "postgres" {
		return dataKey(t, storetest.OpenPostgres(t, dbURL), data)
	}
	return dataKey(t, storetest.OpenSQLite(t, filepath.Join(data, "vigil.db")), data)
}

type mediaTally struct{ media, hashedOnce, matchedOnce, more int }

func tally(t *testing.T, db *store.DB, urlID int64) mediaTally {
	t.Helper()
	media, err := db.ListMediaForURL(context.Background(), urlID)
	if err != nil {
		t.Fatal(err)
	}
	var c mediaTally
	for _, m := range media {
		c.media++
		if m.HashRuns == 1 {
			c.hashedOnce++
		}
		if m.MatchRuns == 1 {
			c.matchedOnce++
		}
		if m.HashRuns > 1 || m.MatchRuns > 1 {
			c.more++
		}
	}
	return c
}

// TestWorkerKilledMidCrawl kills the worker with SIGKILL in the middle of a
// crawl of 500 images and starts it again: every image ends up hashed and
// matched exactly once.
func TestWorkerKilledMidCrawl(t *testing.T) {
	needVigil(t)
	// Five pages of a hundred: the kill comes after 150, mid-crawl, with
	// pages and images still to do (a thousand proved no more, at twice
	// the time).
	const images = 500
	for _, kind := range storetest.Kinds {
		t.Run(kind, func(t *testing.T) {
			// The stores side by side: much of the time is spent waiting
			// (for --rescue-after, River's rescuer, a PostgreSQL commit).
			t.Parallel()
			data, dbURL := storeURLs(t, kind)
			n, err := simnet.Start(simnet.Options{BenchImages: images, BenchPerPage: 100})
			if err != nil {
				t.Fatal(err)
			}
			defer n.Close()
			db := openTestStore(t, kind, data, dbURL)
			ctx := context.Background()
			rep, err := vigil.NewReport(vigil.ReportInput{URLs: []string{n.BenchURL()}}, vigil.SourceAPI, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			if err := db.CreateReport(ctx, rep); err != nil {
				t.Fatal(err)
			}
			urlID := rep.URLs[0].ID

			w := startWork(t, n, data, dbURL)
			deadline := time.Now().Add(120 * time.Second)
			for c := tally(t, db, urlID); c.matchedOnce < 150; c = tally(t, db, urlID) {
				if time.Now().After(deadline) {
					t.Fatalf("only %+v after 120 s", c)
				}
				alive(t, w)
				time.Sleep(20 * time.Millisecond)
			}
			_ = w.Process.Signal(syscall.SIGKILL)
			_ = w.Wait()
			mid := tally(t, db, urlID)
			t.Logf("killed with %+v", mid)
			if mid.matchedOnce >= images {
				t.Fatal("the crawl finished before the kill: the test proves nothing")
			}
			// Let the killed jobs age past --rescue-after, so that the new
			// process's rescuer takes them up at once.
			time.Sleep(3 * time.Second)
			w = startWork(t, n, data, dbURL)
			var u *vigil.ReportedURL
			for {
				u, err = db.FindReportedURL(ctx, urlID)
				if err != nil {
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
			final := tally(t, db, urlID)
			if u.Status != vigil.URLDone || final.media != images || final.hashedOnce != images || final.matchedOnce != images || final.more != 0 {
				t.Errorf("status %s (%s), media %+v; want %d hashed and matched exactly once", u.Status, u.StatusReason, final, images)
			}
			counts, _ := db.MediaCounts(ctx)
			if counts.Unknown != images {
				t.Errorf("media counts %+v", counts)
			}
		})
	}
}
