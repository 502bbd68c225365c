package web_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/storetest"
	"github.com/vigil-hotline/vigil/internal/testrig"
	"github.com/vigil-hotline/vigil/internal/video"
	"github.com/vigil-hotline/vigil/internal/video/videotest"
	"github.com/vigil-hotline/vigil/internal/web"
)

// withVideoLookups gives the fixture's server a video hasher (or skips
// without ffmpeg).
func withVideoLookups(t *testing.T) func(*web.Config) {
	tools := videotest.Tools(t)
	return func(c *web.Config) {
		c.Lookup.Video = video.New(tools, video.Options{Interval: video.DefaultInterval})
	}
}

// addKnownVideo generates a benign video, stores its vPDQ hash in the
// fixture's "known" bank, and returns the file, once the matcher has it.
func addKnownVideo(t *testing.T, f *lookupFixture) []byte {
	t.Helper()
	data := videotest.Bytes(t, "known.mp4", "-f", "lavfi", "-i", "testsrc2=s=160x120:r=10:d=6", "-c:v", "libx264", "-pix_fmt", "yuv420p")
	res, err := video.New(videotest.Tools(t), video.Options{Interval: video.DefaultInterval}).Hash(context.Background(), video.Input{Data: data})
	if err != nil {
		t.Fatal(err)
	}
	banks, err := f.db.ListBanks(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range banks {
		if b.Name != "known" {
			continue
		}
		e := &vigil.BankEntry{Signal: vigil.SignalVPDQ, Frames: res.Frames, Classification: "a2", AddedFrom: "test"}
		if _, err := f.db.AddBankEntries(context.Background(), b.ID, []*vigil.BankEntry{e}); err != nil {
			t.Fatal(err)
		}
	}
	testrig.WaitFor(t, "the matcher to load the video", 10*time.Second, func() bool {
		_, out := f.call(http.MethodPost, "/api/v1/lookup", "video/mp4", data)
		return len(out.Matches) > 0
	})
	return data
}

// TestAPILookupVideo: an uploaded video is recognised by its bytes, hashed
// in memory with vPDQ, and matches a known video with its P_q and P_c; an
// unrelated video matches nothing; a broken one is a client error with its
// reason; a server without ffmpeg looks up the digests and says why there
// is no vPDQ.
func TestAPILookupVideo(t *testing.T) {
	db := storetest.Open(t, "sqlite")
	f := newLookupFixture(t, db, nil, withVideoLookups(t))
	known := addKnownVideo(t, f)
	status, out := f.call(http.MethodPost, "/api/v1/lookup", "application/octet-stream", known)
	if status != 200 || len(out.Matches) != 1 || out.Matches[0].Signal != "vpdq" || out.Matches[0].Bank != "known" ||
		out.Matches[0].Classification != "a2" || out.Matches[0].QueryPercent < 99 || out.Matches[0].ComparedPercent < 99 {
		t.Fatalf("known video: %d %+v", status, out)
	}
	if out.Hashes["format"] != "video" || out.Hashes["vpdq_frames"].(float64) < 5 || out.Hashes["md5"] == "" {
		t.Errorf("known video's hashes: %+v", out.Hashes)
	}
	other := videotest.Bytes(t, "other.mp4", "-f", "lavfi", "-i", "mandelbrot=s=160x120:r=10", "-t", "4", "-c:v", "libx264", "-pix_fmt", "yuv420p")
	if status, out := f.call(http.MethodPost, "/api/v1/lookup", "video/mp4", other); status != 200 || len(out.Matches) != 0 {
		t.Errorf("unrelated video: %d %+v", status, out)
	}
	if status, out := f.call(http.MethodPost, "/api/v1/lookup", "video/mp4", known[:len(known)/3]); status != 400 || out.Error == "" {
		t.Errorf("cut-short video: %d %+v", status, out)
	}

	plain := newLookupFixture(t, storetest.Open(t, "sqlite"), nil)
	status, out = plain.call(http.MethodPost, "/api/v1/lookup", "video/mp4", known)
	if status != 200 || out.Hashes["vpdq_error"] != "no_ffmpeg" || out.Hashes["md5"] == "" {
		t.Errorf("without a video hasher: %d %+v", status, out)
	}
}
