package web

import (
	"context"
	"errors"
	"image"
	"image/color"
	"math"
	"os/exec"
	"path/filepath"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/video"
)

// stripTileWidth is the width of one frame of a strip as decoded: a
// preview is blurred to a few pixels anyway.
const stripTileWidth = 160

// errStripFull stops decoding once the strip has its frames.
var errStripFull = errors.New("strip full")

// videoFrameHitter is what a matcher offers to mark the frames of a video
// that a known video has (internal/match's Matcher).
type videoFrameHitter interface {
	VideoFrameHits(ctx context.Context, frames []vigil.VideoFrame) ([]int, error)
}

// videoTools finds ffprobe beside the configured ffmpeg.
func (s *Server) videoTools() video.Tools {
	t := video.Tools{FFmpeg: s.cfg.Workbench.FFmpeg}
	if p := filepath.Join(filepath.Dir(t.FFmpeg), "ffprobe"); t.FFmpeg != "" {
		if _, err := exec.LookPath(p); err == nil {
			t.FFprobe = p
		} else if p, err := exec.LookPath("ffprobe"); err == nil {
			t.FFprobe = p
		}
	}
	return t
}

// frameStrip decodes stripFrames frames spread over a video, side by side
// in one image, with the times each tile starts at. The bytes reach ffmpeg
// in memory (internal/video), under its time, CPU and memory limits.
func (s *Server) frameStrip(ctx context.Context, data []byte) (image.Image, []float64, float64, error) {
	tools := s.videoTools()
	limits := video.Limits{Timeout: ffmpegTimeout, CPUSeconds: int(ffmpegTimeout.Seconds())}
	info, err := video.New(tools, video.Options{Limits: limits}).Probe(ctx, video.Input{Data: data})
	if err != nil {
		return nil, nil, 0, err
	}
	th := max(6, int(math.Round(float64(stripTileWidth*info.Height)/float64(info.Width)/2))*2)
	interval := info.Duration / stripFrames
	if interval <= 0 {
		interval = 1
	}
	h := video.New(tools, video.Options{Interval: interval, Width: stripTileWidth, Height: th, Limits: limits})
	strip := image.NewRGBA(image.Rect(0, 0, stripTileWidth*stripFrames, th))
	var times []float64
	_, err = h.Frames(ctx, video.Input{Data: data}, func(f *video.Frame) error {
		x0 := len(times) * stripTileWidth
		for y := 0; y < f.Height; y++ {
			for x := 0; x < f.Width; x++ {
				p, q := 3*(y*f.Width+x), strip.PixOffset(x0+x, y)
				strip.Pix[q], strip.Pix[q+1], strip.Pix[q+2], strip.Pix[q+3] = f.RGB[p], f.RGB[p+1], f.RGB[p+2], 255
			}
		}
		times = append(times, f.Timestamp)
		if len(times) == stripFrames {
			return errStripFull
		}
		return nil
	})
	if err != nil && !errors.Is(err, errStripFull) {
		return nil, nil, 0, err
	}
	return strip, times, interval, nil
}

// markedTiles says which tiles of a strip show a frame that a known video
// has: those whose span holds a hashed frame the matcher found.
func (s *Server) markedTiles(ctx context.Context, m *vigil.Media, times []float64, span float64) []bool {
	hitter, ok := s.cfg.Lookup.Matcher.(videoFrameHitter)
	if !ok || len(times) == 0 {
		return nil
	}
	v, err := s.cfg.Workbench.Media.MediaVideo(ctx, m.ID)
	if err != nil || len(v.Frames) == 0 {
		return nil
	}
	hits, err := hitter.VideoFrameHits(ctx, v.Frames)
	if err != nil {
		s.logger.Warn("video frame marks", "media", m.ID, "err", err)
		return nil
	}
	marks := make([]bool, len(times))
	for _, i := range hits {
		t := v.Frames[i].Timestamp
		for k, start := range times {
			if t >= start && t < start+span {
				marks[k] = true
			}
		}
	}
	return marks
}

// markTiles draws a white frame around the marked tiles of a blurred strip.
func markTiles(img image.Image, marks []bool) {
	g, ok := img.(*image.Gray)
	if !ok || len(marks) == 0 {
		return
	}
	b := g.Bounds()
	tw := b.Dx() / stripFrames
	const border = 3
	for k, on := range marks {
		if !on {
			continue
		}
		x0, x1 := b.Min.X+k*tw, b.Min.X+(k+1)*tw
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := x0; x < x1; x++ {
				if x-x0 < border || x1-1-x < border || y-b.Min.Y < border || b.Max.Y-1-y < border {
					g.SetGray(x, y, whiteGray)
				}
			}
		}
	}
}

// videoSeconds is a video's length as hashed, 0 when unknown.
func (s *Server) videoSeconds(ctx context.Context, m *vigil.Media) float64 {
	v, err := s.cfg.Workbench.Media.MediaVideo(ctx, m.ID)
	if err != nil {
		return 0
	}
	return v.Duration
}

var whiteGray = color.Gray{Y: 255}
