package vigil

import (
	"strings"
	"testing"
)

func frames(hashes ...string) []VideoFrame {
	var fs []VideoFrame
	for i, h := range hashes {
		fs = append(fs, VideoFrame{Frame: i * 30, Quality: 100, PDQ: h, Timestamp: float64(i)})
	}
	return fs
}

// hx makes a 64-digit hash whose first d bits differ from the all-zero hash.
func hx(ones int) string {
	b := []byte(strings.Repeat("0", 64))
	for i := 0; i < ones/4; i++ {
		b[i] = 'f'
	}
	return string(b)
}

func TestVideoFramesRoundTrip(t *testing.T) {
	in := "0,100," + hx(0) + ",0.000\n30,49," + hx(8) + ",1.000\n"
	fs, err := ParseVideoFrames(in)
	if err != nil || len(fs) != 2 || fs[1].Quality != 49 {
		t.Fatalf("%v %+v", err, fs)
	}
	if out := FormatVideoFrames(fs); out != in {
		t.Fatalf("round trip: %q", out)
	}
	j, err := VideoFramesToTEJSON(fs)
	if err != nil {
		t.Fatal(err)
	}
	back, err := VideoFramesFromTEJSON(j)
	if err != nil || FormatVideoFrames(back) != in {
		t.Fatalf("TE JSON round trip: %v %s", err, j)
	}
	if VideoDigest(fs) != VideoDigest(back) {
		t.Fatal("digest of the same list differs")
	}
	for _, bad := range []string{"", "1,2,3", "0,100,xyz,0.0", "0,101," + hx(0) + ",0", "0,100," + hx(0) + ",-1"} {
		if _, err := ParseVideoFrames(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestCompareVideos(t *testing.T) {
	known := frames(hx(0), hx(64), hx(128), hx(192))
	// A clip: two of the known frames, one a little changed.
	clip := frames(hx(64), hx(128+8))
	m := CompareVideos(clip, known, VideoFrameDistance)
	if m.QueryPercent != 100 || m.CompPercent != 50 || !m.Matches(DefaultVideoQueryPercent, DefaultVideoCompPercent) {
		t.Fatalf("clip: %+v", m)
	}
	if m.Matches(80, 60) {
		t.Fatal("P_c 60% should refuse a clip of half the video")
	}
	other := frames(hx(32), hx(96))
	if m := CompareVideos(other, known, VideoFrameDistance); m.QueryPercent != 0 || m.Matches(80, 0) {
		t.Fatalf("unrelated: %+v", m)
	}
	// Low-quality frames are dropped on both sides.
	low := frames(hx(0))
	low[0].Quality = 10
	if m := CompareVideos(low, known, VideoFrameDistance); m.Matches(0, 0) {
		t.Fatalf("low quality matched: %+v", m)
	}
}
