package video

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/conformance"
	"github.com/vigil-hotline/vigil/internal/pdq"
)

// TestConformanceVPDQ hashes the reference's test video every frame, at its
// own size and at 128×128, and compares with the reference's hash files
// beside it (made with vpdq-hash-video, -s 0, and -d 128).
func TestConformanceVPDQ(t *testing.T) {
	dir := filepath.Join(conformance.PDQDir(t), "vpdq")
	tools := needTools(t)
	for _, tc := range []struct {
		ref  string
		w, h int
	}{{"doorknob-hd-no-bar.txt", 0, 0}, {"doorknob-hd-no-bar-128x128.txt", 128, 128}} {
		t.Run(tc.ref, func(t *testing.T) {
			if testing.Short() && tc.w == 0 {
				t.Skip("-short: 120 frames of 720p")
			}
			b, err := os.ReadFile(filepath.Join(dir, tc.ref))
			if err != nil {
				t.Fatal(err)
			}
			want, err := vigil.ParseVideoFrames(string(b))
			if err != nil {
				t.Fatal(err)
			}
			h := New(tools, Options{Interval: 0, Width: tc.w, Height: tc.h})
			res, err := h.Hash(context.Background(), Input{Path: filepath.Join(dir, "doorknob-hd-no-bar.mp4")})
			if err != nil {
				t.Fatal(err)
			}
			got := res.Frames
			if len(got) != len(want) {
				t.Fatalf("%d frames, reference has %d", len(got), len(want))
			}
			exact, within10, worst := 0, 0, 0
			for i := range want {
				if got[i].Frame != want[i].Frame {
					t.Fatalf("frame %d: number %d, reference %d", i, got[i].Frame, want[i].Frame)
				}
				a, _ := pdq.ParseHex(got[i].PDQ)
				b, _ := pdq.ParseHex(want[i].PDQ)
				d := pdq.Distance(a, b)
				if d == 0 {
					exact++
				}
				if d <= 10 {
					within10++
				}
				worst = max(worst, d)
				if got[i].Quality != want[i].Quality && d == 0 {
					t.Errorf("frame %d: quality %d, reference %d", i, got[i].Quality, want[i].Quality)
				}
				if gt, wt := fmt.Sprintf("%.3f", got[i].Timestamp), fmt.Sprintf("%.3f", want[i].Timestamp); gt != wt {
					t.Errorf("frame %d: timestamp %s, reference %s", i, gt, wt)
				}
			}
			t.Logf("%s: %d of %d frames bit-exact, %d within distance 10, worst distance %d", tc.ref, exact, len(want), within10, worst)
			if within10*100 < 95*len(want) {
				t.Errorf("only %d of %d frames within distance 10 (want 95%%)", within10, len(want))
			}
			m := vigil.CompareVideos(got, want, vigil.VideoFrameDistance)
			if m.QueryPercent != 100 || m.CompPercent != 100 {
				t.Errorf("match against the reference list: %.1f%%/%.1f%%, want 100%%/100%%", m.QueryPercent, m.CompPercent)
			}
		})
	}
}
