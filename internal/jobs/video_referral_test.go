package jobs_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/federation"
	"github.com/vigil-hotline/vigil/internal/store"
	"github.com/vigil-hotline/vigil/internal/storetest"
	"github.com/vigil-hotline/vigil/internal/video"
	"github.com/vigil-hotline/vigil/internal/video/videotest"
)

// TestPipelineReferredVideo (issue 16): a partner refers a gateway page
// with a video it classified, sending the video's vPDQ frames (hashed by
// ffmpeg here, through the referral's wire format). The page serves the
// video re-encoded: other bytes, so only the frames can know it. Our crawl
// finds it known from the partner's bank, and no analyst sees it.
func TestPipelineReferredVideo(t *testing.T) {
	tools := videotest.Tools(t)
	src := "testsrc2=s=192x144:r=10:d=6"
	original := genVideo(t, "original.mp4", "-f", "lavfi", "-i", src, "-c:v", "libx264", "-pix_fmt", "yuv420p")
	copied := genVideo(t, "copy.mp4", "-f", "lavfi", "-i", src, "-vf", "scale=160:120", "-c:v", "libx264", "-crf", "35", "-pix_fmt", "yuv420p")
	mux := http.NewServeMux()
	mux.HandleFunc("GET /gateway.html", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, `<html><body><video src="/v/copy.mp4"></video></body></html>`)
	})
	mux.HandleFunc("GET /v/copy.mp4", func(w http.ResponseWriter, r *http.Request) { w.Write(copied) })
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	addr := netip.MustParseAddrPort(srv.Listener.Addr().String())
	gateway := fmt.Sprintf("http://videos.example:%d/gateway.html", addr.Port())

	// The partner's side: its hash of its copy, in the referral it sends.
	known, err := video.New(tools, video.Options{Interval: 1}).Hash(context.Background(), video.Input{Data: original})
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(original)
	now := time.Now().UTC()
	body, err := federation.BuildReferral(federation.Case{Reference: "NL-2026-000900", Hotline: "Meldpunt", URL: gateway,
		FirstSeen: now.Add(-time.Hour), Classification: "baseline", AssessedAt: now.Add(-time.Minute),
		Media: []vigil.KnownMedia{{SHA256: hex.EncodeToString(sum[:]), Classification: "baseline", VPDQ: known.Frames}}}, now)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := federation.ParseReferral(body, now)
	if err != nil {
		t.Fatal(err)
	}
	item := ref.URLs[0].Media[0]
	if len(item.VPDQ) == 0 {
		t.Fatalf("no usable frames sent of %d", len(known.Frames))
	}

	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		startVideoPipeline(t, db, tools, addr)
		rep, err := vigil.NewReport(vigil.ReportInput{URLs: []string{gateway}}, vigil.SourceReferral, now)
		if err != nil {
			t.Fatal(err)
		}
		// As the referral API accepts it under default trust settings
		// (internal/web acceptedEntries): the item's hashes and frames.
		in := &vigil.InboundReferral{Partner: "meldpunt", Reference: ref.Reference, Nonce: "n1", Report: rep, Body: body,
			Accepted: []*vigil.BankEntry{
				{Signal: vigil.SignalSHA256, Value: item.SHA256, Classification: "baseline", AddedFrom: "referral:meldpunt:" + ref.Reference},
				{Signal: vigil.SignalVPDQ, Frames: item.VPDQ, Classification: "baseline", AddedFrom: "referral:meldpunt:" + ref.Reference},
			}}
		if _, err := db.ReceiveReferral(ctx, in); err != nil {
			t.Fatal(err)
		}
		u := waitDone(t, db, rep.URLs[0].ID)
		media, err := db.ListMediaForURL(ctx, u.ID)
		if err != nil || len(media) != 1 {
			t.Fatalf("media: %d %v", len(media), err)
		}
		if md := media[0]; md.Status != vigil.MediaKnown || md.QueuedAt != nil || md.Classification != "baseline" {
			t.Errorf("the re-encoded video: status %s, queued %v, class %q, reason %q", md.Status, md.QueuedAt, md.Classification, md.HashError)
		}
	})
}
