//go:build !nodemo

package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/simnet"
	"github.com/vigil-hotline/vigil/internal/store"
	"github.com/vigil-hotline/vigil/internal/video"
)

// demoVideoHost is the simulated site that shows a known video,
// re-encoded: the demo bank holds the original's vPDQ hash.
const demoVideoHost = "videos.example"

// demoVideoSite generates a benign test video (ffmpeg's testsrc2), puts the
// original's vPDQ hash in the demo bank and serves a re-encoded, resized
// copy on a page of a simulated site. Without ffmpeg it returns "" and the
// demo goes on without it.
func demoVideoSite(ctx context.Context, db *store.DB, sim *simnet.Net, wc *workerConfig) (string, func(), error) {
	tools, err := video.Find()
	if err != nil {
		return "", func() {}, nil
	}
	dir, err := os.MkdirTemp("", "vigil-demo-video-")
	if err != nil {
		return "", nil, err
	}
	defer os.RemoveAll(dir)
	src := "testsrc2=s=320x240:r=10:d=8"
	gen := func(name string, args ...string) ([]byte, error) {
		out := filepath.Join(dir, name)
		all := append([]string{"-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", src}, args...)
		all = append(all, "-threads", "1", out)
		if b, err := exec.CommandContext(ctx, tools.FFmpeg, all...).CombinedOutput(); err != nil {
			return nil, fmt.Errorf("ffmpeg: %v: %s", err, b)
		}
		return os.ReadFile(out)
	}
	original, err := gen("original.mp4", "-c:v", "libx264", "-pix_fmt", "yuv420p")
	if err != nil {
		return "", nil, err
	}
	copyMP4, err := gen("copy.mp4", "-vf", "scale=240:180", "-c:v", "libx264", "-crf", "32", "-pix_fmt", "yuv420p")
	if err != nil {
		return "", nil, err
	}
	hctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	res, err := video.New(tools, video.Options{Interval: video.DefaultInterval}).Hash(hctx, video.Input{Data: original})
	if err != nil {
		return "", nil, err
	}
	b, err := db.FindBankByName(ctx, "demo-known")
	if err != nil {
		return "", nil, err
	}
	if _, err := db.AddBankEntries(ctx, b.ID, []*vigil.BankEntry{{Signal: vigil.SignalVPDQ, Frames: res.Frames,
		Classification: "baseline", AddedFrom: "demo", Note: "vPDQ of a generated test video (ffmpeg testsrc2)"}}); err != nil {
		return "", nil, err
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<!doctype html><title>clips</title><h1>Clips</h1><video controls><source src="/media/clip.mp4" type="video/mp4"></video>`)
	})
	mux.HandleFunc("GET /media/clip.mp4", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "video/mp4")
		_, _ = w.Write(copyMP4)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	addr := netip.MustParseAddrPort(ln.Addr().String())
	sim.Resolver.Set(demoVideoHost, addr.Addr())
	wc.allow = append(wc.allow, addr)
	return fmt.Sprintf("http://%s:%d/", demoVideoHost, addr.Port()), func() { _ = srv.Close() }, nil
}
