package jobs

import (
	"context"
	"fmt"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/video"
)

// hashVideo computes a stored video's vPDQ hash, at most VideoHashers at
// once. A video that cannot be hashed (over a limit, malformed, no ffmpeg)
// keeps its reason: it is matched by its digests and, unknown, goes to an
// analyst with that reason.
func (p *Pipeline) hashVideo(ctx context.Context, t *vigil.CrawlTask, m *vigil.Media) error {
	if p.Video == nil {
		return p.Store.FinishHash(ctx, t, &vigil.MediaHashes{Format: "video", Error: string(video.ReasonNoFFmpeg)})
	}
	data, err := p.Blobs.Get(ctx, m.BlobKey)
	if err != nil {
		return err
	}
	select {
	case p.videos <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	res, err := p.Video.Hash(ctx, video.Input{Data: data})
	<-p.videos
	h := &vigil.MediaHashes{Format: "video"}
	if res != nil && res.Info != nil {
		h.Width, h.Height, h.Duration = res.Info.Width, res.Info.Height, res.Info.Duration
	}
	if err != nil {
		r := video.ReasonOf(err)
		if r == "" || r == video.ReasonCanceled {
			// Not a fact about the file (the store, a shutdown): retried.
			return fmt.Errorf("hash video %d: %w", m.ID, err)
		}
		p.Logger.Info("video not hashed", "media", m.ID, "reason", r)
		h.Error = err.Error()
		return p.Store.FinishHash(ctx, t, h)
	}
	h.Video = res.Frames
	return p.Store.FinishHash(ctx, t, h)
}

// videoFrames returns a video's vPDQ frames for matching (none when it was
// not hashed).
func (p *Pipeline) videoFrames(ctx context.Context, mediaID int64) ([]vigil.VideoFrame, error) {
	v, err := p.Store.MediaVideo(ctx, mediaID)
	if vigil.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return v.Frames, nil
}
