package web_test

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"image"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/match"
	"github.com/vigil-hotline/vigil/internal/storetest"
	"github.com/vigil-hotline/vigil/internal/video"
	"github.com/vigil-hotline/vigil/internal/video/videotest"
	"github.com/vigil-hotline/vigil/internal/web"
)

// TestWorkbenchVideoStrip: a queued video shows as a blurred greyscale strip
// of frames (from an MP4 whose index is at the end, which needs seeking),
// the frames a known video shares are marked, and revealing it counts its
// length against the exposure budget.
func TestWorkbenchVideoStrip(t *testing.T) {
	tools := videotest.Tools(t)
	data := videotest.Bytes(t, "v.mp4", "-f", "lavfi", "-i", "testsrc2=s=160x120:r=10:d=12", "-c:v", "libx264", "-pix_fmt", "yuv420p")
	res, err := video.New(tools, video.Options{Interval: 1}).Hash(context.Background(), video.Input{Data: data})
	if err != nil {
		t.Fatal(err)
	}
	db := storetest.Open(t, "sqlite")
	ctx := context.Background()
	// A known video holding the first half: the strip marks those tiles.
	b := &vigil.Bank{Name: "known", Source: vigil.SourceHotline, Kind: vigil.BankBlock, PDQThreshold: 31, Enabled: true}
	if err := db.CreateBank(ctx, b); err != nil {
		t.Fatal(err)
	}
	if _, err := db.AddBankEntries(ctx, b.ID, []*vigil.BankEntry{{Signal: vigil.SignalVPDQ, Frames: res.Frames[:5]}}); err != nil {
		t.Fatal(err)
	}
	m, err := match.New(ctx, match.Config{Store: db, PollInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	vault := newVault(t)
	sum, m5 := sha256.Sum256(data), md5.Sum(data)
	it := storetest.SeedItem{SHA256: hex.EncodeToString(sum[:]), MD5: hex.EncodeToString(m5[:]), Class: "video", MIME: "video/mp4",
		Video: res.Frames, Duration: res.Info.Duration}
	it.BlobKey = vault.Name(it.SHA256)
	if err := vault.Put(ctx, it.BlobKey, data); err != nil {
		t.Fatal(err)
	}
	_, ids := storetest.SeedCase(t, db, "https://video.example/", []storetest.SeedItem{it})
	e := newEnv(t, db, withWorkbench(db, vault, func(c *web.WorkbenchConfig) {
		c.FFmpeg, c.VideoRevealCost = tools.FFmpeg, time.Second
	}), func(c *web.Config) { c.Lookup.Matcher = m })
	e.addUser("ann", vigil.RoleAnalyst, "ann-password-1")
	ann := e.login("ann", "ann-password-1")

	resp, body := e.get(ann, fmt.Sprintf("/staff/media/%d/preview", ids[0]))
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "image/jpeg" {
		t.Fatalf("preview: %d %s", resp.StatusCode, body)
	}
	img, _, err := image.Decode(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	g, grey := img.(*image.Gray)
	if !grey || img.Bounds().Dx() < 3*img.Bounds().Dy() {
		t.Fatalf("strip is %T %v", img, img.Bounds())
	}
	// The marked tiles (the first half) have a white frame; the others not.
	tw := g.Bounds().Dx() / 6
	corner := func(k int) uint8 { return g.GrayAt(k*tw+1, 1).Y }
	if corner(0) < 240 || corner(5) > 240 {
		t.Errorf("marks: first tile corner %d, last %d", corner(0), corner(5))
	}
	if !e.auditHas("media.view", fmt.Sprintf("media:%d", ids[0])) {
		t.Error("the view is not on the audit log")
	}
	// Revealing the video counts its 12 s, more than the reveal cost.
	if resp, _ := e.get(ann, fmt.Sprintf("/staff/media/%d/original", ids[0])); resp.StatusCode != http.StatusOK {
		t.Fatalf("reveal: %d", resp.StatusCode)
	}
	u, err := db.FindUserByName(ctx, "ann")
	if err != nil {
		t.Fatal(err)
	}
	ex, err := db.FindExposure(ctx, u.ID, time.Now().Format("2006-01-02"))
	if err != nil || ex.Visible < 11*time.Second {
		t.Fatalf("exposure after revealing a 12 s video: %v %v", ex, err)
	}
}
