package video

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"time"
)

// Info is what a video's header declares, as ffprobe reads it.
type Info struct {
	Format string `json:"format"`
	// Duration in seconds; 0 when the header does not say (streams).
	Duration float64 `json:"duration"`
	// Streams counts every stream; the rest describe the first video
	// stream, the one that is hashed.
	Streams   int     `json:"streams"`
	Codec     string  `json:"codec"`
	Width     int     `json:"width"`
	Height    int     `json:"height"`
	FrameRate float64 `json:"frame_rate"`
	// Frames is the declared frame count; 0 when unknown.
	Frames int64 `json:"frames"`
}

// probeOutputMax bounds ffprobe's JSON: a file declaring thousands of
// streams is refused, not parsed.
const probeOutputMax = 1 << 20

type probeJSON struct {
	Streams []struct {
		CodecType    string `json:"codec_type"`
		CodecName    string `json:"codec_name"`
		Width        int    `json:"width"`
		Height       int    `json:"height"`
		AvgFrameRate string `json:"avg_frame_rate"`
		RFrameRate   string `json:"r_frame_rate"`
		Duration     string `json:"duration"`
		NbFrames     string `json:"nb_frames"`
	} `json:"streams"`
	Format struct {
		FormatName string `json:"format_name"`
		Duration   string `json:"duration"`
		NbStreams  int    `json:"nb_streams"`
	} `json:"format"`
}

// probe runs ffprobe on src and checks the header against the limits.
func (h *Hasher) probe(ctx context.Context, src *source) (*Info, error) {
	l := h.opts.Limits
	out := &capped{max: probeOutputMax + 1}
	c := l.command(ctx, h.tools.FFprobe, []string{"-v", "error", "-hide_banner", "-of", "json",
		"-show_format", "-show_streams", "-i", src.arg}, src)
	c.cmd.Stdout = out
	err := c.cmd.Start()
	if err == nil {
		if h.started != nil {
			h.started(c.cmd.Process.Pid)
		}
		err = c.cmd.Wait()
	}
	if err := c.result(ctx, err, "ffprobe"); err != nil {
		return nil, err
	}
	if len(out.String()) > probeOutputMax {
		return nil, fail(ReasonStreams, "the header describes too much to read")
	}
	var p probeJSON
	if err := json.Unmarshal([]byte(out.String()), &p); err != nil {
		return nil, &Error{Reason: ReasonMalformed, Detail: "ffprobe's answer", Err: err}
	}
	info := &Info{Format: p.Format.FormatName, Streams: max(p.Format.NbStreams, len(p.Streams))}
	info.Duration, _ = strconv.ParseFloat(p.Format.Duration, 64)
	if info.Streams > l.MaxStreams {
		return info, fail(ReasonStreams, "%d streams, limit %d", info.Streams, l.MaxStreams)
	}
	found := false
	for _, s := range p.Streams {
		if s.CodecType != "video" {
			continue
		}
		found = true
		info.Codec, info.Width, info.Height = s.CodecName, s.Width, s.Height
		info.FrameRate = rational(s.AvgFrameRate)
		if info.FrameRate == 0 {
			info.FrameRate = rational(s.RFrameRate)
		}
		if d, err := strconv.ParseFloat(s.Duration, 64); err == nil && d > info.Duration {
			info.Duration = d
		}
		info.Frames, _ = strconv.ParseInt(s.NbFrames, 10, 64)
		break
	}
	switch {
	case !found:
		return info, fail(ReasonNoVideo, "no video stream in %s", orUnknown(info.Format))
	case info.Width <= 0 || info.Height <= 0:
		return info, fail(ReasonMalformed, "the video stream declares no frame size")
	case int64(info.Width)*int64(info.Height) > l.MaxPixels || info.Width > 65535 || info.Height > 65535:
		return info, fail(ReasonResolution, "%d×%d pixels, limit %d", info.Width, info.Height, l.MaxPixels)
	case info.Duration > l.MaxDuration.Seconds():
		return info, fail(ReasonTooLong, "%s long, limit %s", seconds(info.Duration), l.MaxDuration)
	case info.FrameRate <= 0 || info.FrameRate > 1000:
		return info, fail(ReasonMalformed, "frame rate %g", info.FrameRate)
	}
	return info, nil
}

// rational reads ffprobe's "num/den".
func rational(s string) float64 {
	num, den, ok := strings.Cut(s, "/")
	if !ok {
		f, _ := strconv.ParseFloat(s, 64)
		return f
	}
	n, err1 := strconv.ParseFloat(num, 64)
	d, err2 := strconv.ParseFloat(den, 64)
	if err1 != nil || err2 != nil || d == 0 {
		return 0
	}
	return n / d
}

func seconds(s float64) string {
	return (time.Duration(s * float64(time.Second))).Round(time.Second).String()
}

func orUnknown(s string) string {
	if s == "" {
		return "the file"
	}
	return s
}
