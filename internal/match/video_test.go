package match_test

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/match"
	"github.com/vigil-hotline/vigil/internal/pdq"
	"github.com/vigil-hotline/vigil/internal/store"
	"github.com/vigil-hotline/vigil/internal/video"
	"github.com/vigil-hotline/vigil/internal/video/videotest"
)

func randFrames(r *rand.Rand, n int) []vigil.VideoFrame {
	fs := make([]vigil.VideoFrame, n)
	for i := range fs {
		fs[i] = vigil.VideoFrame{Frame: i * 25, Quality: 100, PDQ: randHash(r).String(), Timestamp: float64(i)}
	}
	return fs
}

// nearCopy is fs with every hash moved by k bits.
func nearCopy(r *rand.Rand, fs []vigil.VideoFrame, k int) []vigil.VideoFrame {
	out := make([]vigil.VideoFrame, len(fs))
	for i, f := range fs {
		h, _ := pdq.ParseHex(f.PDQ)
		f.PDQ = flip(r, h, k).String()
		out[i] = f
	}
	return out
}

func addVideo(t *testing.T, db *store.DB, b *vigil.Bank, fs []vigil.VideoFrame, class string) *vigil.BankEntry {
	t.Helper()
	e := &vigil.BankEntry{Signal: vigil.SignalVPDQ, Frames: fs, Classification: class, AddedFrom: "test"}
	if n, err := db.AddBankEntries(context.Background(), b.ID, []*vigil.BankEntry{e}); err != nil || n != 1 {
		t.Fatalf("add video: %d %v", n, err)
	}
	return e
}

// TestMatchVideoRule checks the P_q/P_c rule through the frame index, per
// bank, and that removing a video entry takes its frames out.
func TestMatchVideoRule(t *testing.T) {
	forEach(t, func(t *testing.T, db, other *store.DB) {
		ctx := context.Background()
		r := rand.New(rand.NewPCG(3, 4))
		loose := mkBank(t, db, "videos", vigil.BankBlock, 31, true)
		strict := mkBank(t, db, "strict", vigil.BankBlock, 31, true)
		if err := db.SetBankVideoThresholds(ctx, strict.ID, 80, 60); err != nil {
			t.Fatal(err)
		}
		known := randFrames(r, 40)
		e := addVideo(t, db, loose, known, "iwf-a")
		addVideo(t, db, strict, known[:39], "iwf-b")
		addVideo(t, db, loose, randFrames(r, 40), "") // another video
		m := newMatcher(t, db, match.Config{})

		// A re-encode: every frame a little changed.
		got := mustMatch(t, m, vigil.MatchQuery{Video: nearCopy(r, known, 12)})
		if len(got) != 2 || got[0].EntryID != e.ID && got[1].EntryID != e.ID {
			t.Fatalf("re-encode: %+v", got)
		}
		for _, g := range got {
			if g.Signal != vigil.SignalVPDQ || g.QueryPercent < 97 || g.CompPercent < 97 {
				t.Errorf("re-encode: %+v", g)
			}
		}
		// A clip of a quarter: P_c 0 matches, P_c 60 does not.
		got = mustMatch(t, m, vigil.MatchQuery{Video: nearCopy(r, known[10:20], 8)})
		if len(got) != 1 || got[0].EntryID != e.ID || got[0].QueryPercent != 100 || got[0].CompPercent != 25 {
			t.Fatalf("clip: %+v", got)
		}
		// Mostly other material: under P_q.
		mixed := append(randFrames(r, 30), known[:5]...)
		if got := mustMatch(t, m, vigil.MatchQuery{Video: mixed}); len(got) != 0 {
			t.Fatalf("mixed: %+v", got)
		}
		if got := mustMatch(t, m, vigil.MatchQuery{Video: randFrames(r, 20)}); len(got) != 0 {
			t.Fatalf("unrelated: %+v", got)
		}
		// Low-quality frames never match.
		low := nearCopy(r, known, 0)
		for i := range low {
			low[i].Quality = 20
		}
		if got := mustMatch(t, m, vigil.MatchQuery{Video: low}); len(got) != 0 {
			t.Fatalf("low quality: %+v", got)
		}
		// Removed in another process: gone after the feed is followed.
		if err := other.RemoveBankEntry(ctx, loose.ID, vigil.SignalVPDQ, e.Value); err != nil {
			t.Fatal(err)
		}
		if err := m.Sync(ctx); err != nil {
			t.Fatal(err)
		}
		got = mustMatch(t, m, vigil.MatchQuery{Video: known})
		if len(got) != 1 || got[0].BankName != "strict" {
			t.Fatalf("after removal: %+v", got)
		}
		// The entry's frames are stored and read back with it.
		es, err := db.BankEntries(ctx, strict.ID, 0, 10)
		if err != nil || len(es) != 1 || len(es[0].Frames) != 39 || es[0].Value != vigil.VideoDigest(known[:39]) {
			t.Fatalf("entries: %v %+v", err, es)
		}
	})
}

// ffmpegVideo generates a video with ffmpeg and hashes it at one frame a
// second.
func ffmpegVideo(t *testing.T, name string, args ...string) []vigil.VideoFrame {
	t.Helper()
	out := videotest.Generate(t, name, args...)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res, err := video.New(videotest.Tools(t), video.Options{Interval: 1}).Hash(ctx, video.Input{Path: out})
	if err != nil {
		t.Fatal(err)
	}
	return res.Frames
}

// TestMatchGeneratedVideos: a known video (generated) matches its
// re-encoded copy (other codec, bitrate, size and container) and a 10 s
// clip cut from it, and not an unrelated video.
func TestMatchGeneratedVideos(t *testing.T) {
	src := "testsrc2=s=192x144:r=10:d=20"
	known := ffmpegVideo(t, "known.mp4", "-f", "lavfi", "-i", src, "-c:v", "libx264", "-pix_fmt", "yuv420p")
	reencoded := ffmpegVideo(t, "copy.avi", "-f", "lavfi", "-i", src, "-vf", "scale=128:96", "-c:v", "mpeg4", "-b:v", "100k")
	clip := ffmpegVideo(t, "clip.webm", "-f", "lavfi", "-i", src, "-ss", "5", "-t", "10", "-c:v", "libvpx", "-b:v", "200k")
	unrelated := ffmpegVideo(t, "other.mp4", "-f", "lavfi", "-i", "mandelbrot=s=192x144:r=10", "-t", "10", "-c:v", "libx264", "-pix_fmt", "yuv420p")
	forEach(t, func(t *testing.T, db, _ *store.DB) {
		b := mkBank(t, db, "known-videos", vigil.BankBlock, 31, true)
		e := addVideo(t, db, b, known, "baseline")
		m := newMatcher(t, db, match.Config{})
		for _, tc := range []struct {
			name  string
			query []vigil.VideoFrame
			want  bool
		}{{"re-encoded copy", reencoded, true}, {"10 s clip", clip, true}, {"unrelated", unrelated, false}} {
			got := mustMatch(t, m, vigil.MatchQuery{Video: tc.query})
			if matched := len(got) == 1 && got[0].EntryID == e.ID; matched != tc.want {
				t.Errorf("%s: matched %v (%+v), want %v", tc.name, matched, got, tc.want)
			} else if len(got) == 1 {
				t.Logf("%s: P_q %.0f%%, P_c %.0f%%", tc.name, got[0].QueryPercent, got[0].CompPercent)
			}
		}
	})
}
