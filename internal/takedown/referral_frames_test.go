package takedown

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/vigil-hotline/vigil"
)

type fakeVideos map[int64][]vigil.VideoFrame

func (f fakeVideos) MediaVideo(_ context.Context, id int64) (*vigil.MediaVideo, error) {
	if id == 99 {
		return nil, errors.New("database gone")
	}
	fs, ok := f[id]
	if !ok {
		return nil, vigil.Errorf(vigil.ENOTFOUND, "media %d has no video hash", id)
	}
	return &vigil.MediaVideo{MediaID: id, Frames: fs}, nil
}

// TestWithVideoFrames: a referral's videos carry their vPDQ frames,
// pictures none; the media given are left as they were; a store error is
// an error, not a referral sent without frames.
func TestWithVideoFrames(t *testing.T) {
	frames := []vigil.VideoFrame{{Frame: 0, Quality: 90, PDQ: strings.Repeat("a", 64)}}
	media := []vigil.KnownMedia{{MediaID: 1, SHA256: "pic"}, {MediaID: 2, SHA256: "video"}}
	out, err := withVideoFrames(context.Background(), fakeVideos{2: frames}, media)
	if err != nil || out[0].VPDQ != nil || len(out[1].VPDQ) != 1 || media[1].VPDQ != nil {
		t.Fatalf("%+v %v (given: %+v)", out, err, media)
	}
	if _, err := withVideoFrames(context.Background(), fakeVideos{}, []vigil.KnownMedia{{MediaID: 99}}); err == nil {
		t.Error("a store error was dropped")
	}
}
