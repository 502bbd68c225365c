package web

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"net/http"
	"time"

	xdraw "golang.org/x/image/draw"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/hashing"
)

// Media leave the vault only through these two handlers: decrypted in
// memory, never written to disk, served with Cache-Control: no-store (the
// staff gate sets it). The preview is a blurred, greyscale rendition made
// here, so the original pixels reach the browser only through a reveal,
// and every one of both is on the audit log before a byte is sent.

// blurSizes is the long side, in pixels, that a preview is reduced to for
// each blur strength: so few pixels that no detail survives the
// upscaling.
var blurSizes = [6]int{0, 40, 28, 20, 14, 10}

// previewSide is the long side of a preview as sent.
const previewSide = 320

// stripFrames is how many frames of a video its strip shows.
const stripFrames = 6

// ffmpegTimeout bounds the frame strip of one video.
const ffmpegTimeout = 20 * time.Second

// loadMedia reads a media item and its decrypted bytes, refusing an
// analyst whose exposure budget is spent.
func (s *Server) loadMedia(w http.ResponseWriter, r *http.Request) (*vigil.Media, bool) {
	id, ok := pathID(r, "id")
	if !ok {
		http.NotFound(w, r)
		return nil, false
	}
	if _, stop, err := s.exposure(r); err != nil || stop {
		if err != nil {
			s.workbenchError(w, "exposure", err)
			return nil, false
		}
		s.staffRefusal(w, r, http.StatusForbidden, "refuse_budget_spent")
		return nil, false
	}
	m, err := s.cfg.Workbench.Media.FindMedia(r.Context(), id)
	if err != nil {
		s.workbenchError(w, "find media", err)
		return nil, false
	}
	return m, true
}

func (s *Server) mediaBytes(ctx context.Context, m *vigil.Media) ([]byte, error) {
	if s.cfg.Workbench.Blobs == nil {
		return nil, vigil.Errorf(vigil.ENOTFOUND, "no media store configured")
	}
	b, err := s.cfg.Workbench.Blobs.Get(ctx, m.BlobKey)
	if err != nil {
		return nil, fmt.Errorf("media %d: %w", m.ID, err)
	}
	return b, nil
}

// handleMediaPreview serves the blurred greyscale rendition (for a video,
// a blurred strip of frames when ffmpeg is available).
func (s *Server) handleMediaPreview(w http.ResponseWriter, r *http.Request) {
	m, ok := s.loadMedia(w, r)
	if !ok {
		return
	}
	if m.Class == "video" && s.cfg.Workbench.FFmpeg == "" {
		s.staffRefusal(w, r, http.StatusNotFound, "refuse_no_frames")
		return
	}
	prefs, err := s.cfg.Workbench.Store.FindPrefs(r.Context(), userFrom(r.Context()).ID)
	if err != nil {
		s.workbenchError(w, "preferences", err)
		return
	}
	if err := s.audit(r, "media.view", fmt.Sprintf("media:%d", m.ID), map[string]any{"rendition": "blurred", "blur": prefs.Blur}); err != nil {
		s.staffRefusal(w, r, http.StatusServiceUnavailable, "refuse_view_record")
		return
	}
	data, err := s.mediaBytes(r.Context(), m)
	if err != nil {
		s.workbenchError(w, "media", err)
		return
	}
	var img image.Image
	tiles := 1
	var marks []bool
	if m.Class == "video" {
		var times []float64
		var span float64
		img, times, span, err = s.frameStrip(r.Context(), data)
		tiles = stripFrames
		if err == nil {
			marks = s.markedTiles(r.Context(), m, times, span)
		}
	} else {
		img, _, err = hashing.DecodeImage(data, hashing.Options{})
	}
	if err != nil {
		s.staffRefusal(w, r, http.StatusUnprocessableEntity, "refuse_no_preview")
		return
	}
	preview := blurred(img, prefs.Blur, tiles)
	markTiles(preview, marks)
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, preview, &jpeg.Options{Quality: 75}); err != nil {
		s.workbenchError(w, "preview", err)
		return
	}
	w.Header().Set("Content-Type", "image/jpeg")
	_, _ = w.Write(buf.Bytes())
}

// handleMediaOriginal reveals one item: the audit entry is written first,
// and nothing is sent when it cannot be (fail closed).
func (s *Server) handleMediaOriginal(w http.ResponseWriter, r *http.Request) {
	m, ok := s.loadMedia(w, r)
	if !ok {
		return
	}
	prefs, err := s.cfg.Workbench.Store.FindPrefs(r.Context(), userFrom(r.Context()).ID)
	if err != nil {
		s.workbenchError(w, "preferences", err)
		return
	}
	grey := prefs.GreyReveal && m.Class == "image"
	if err := s.audit(r, "media.reveal", fmt.Sprintf("media:%d", m.ID), map[string]any{"greyscale": grey}); err != nil {
		s.staffRefusal(w, r, http.StatusServiceUnavailable, "refuse_reveal_record")
		return
	}
	data, err := s.mediaBytes(r.Context(), m)
	if err != nil {
		s.workbenchError(w, "media", err)
		return
	}
	cost := s.cfg.Workbench.RevealCost
	if m.Class == "video" {
		// A revealed video counts for its length: the analyst sees all
		// of it, or may.
		seconds := time.Duration(s.videoSeconds(r.Context(), m) * float64(time.Second))
		cost = max(cost, s.cfg.Workbench.VideoRevealCost, seconds)
	}
	if err := s.chargeExposure(r, cost); err != nil {
		s.workbenchError(w, "exposure", err)
		return
	}
	if grey {
		img, _, err := hashing.DecodeImage(data, hashing.Options{})
		if err != nil {
			s.staffRefusal(w, r, http.StatusUnprocessableEntity, "refuse_no_greyscale")
			return
		}
		g := image.NewGray(img.Bounds())
		xdraw.Draw(g, g.Bounds(), img, img.Bounds().Min, xdraw.Src)
		var buf bytes.Buffer
		if err := png.Encode(&buf, g); err != nil {
			s.workbenchError(w, "greyscale", err)
			return
		}
		w.Header().Set("Content-Type", "image/png")
		_, _ = w.Write(buf.Bytes())
		return
	}
	w.Header().Set("Content-Type", m.MIME)
	w.Header().Set("Content-Disposition", "inline")
	_, _ = w.Write(data)
}

// blurred reduces img to a few pixels and scales it back up: a blur that
// keeps shapes and no detail. It is greyscale always. A strip of tiles
// frames keeps that few pixels per frame.
func blurred(img image.Image, strength, tiles int) image.Image {
	strength = min(max(strength, 1), len(blurSizes)-1)
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if w <= 0 || h <= 0 {
		return image.NewGray(image.Rect(0, 0, 1, 1))
	}
	fit := func(side int) (int, int) {
		if w >= h {
			return side, max(1, h*side/w)
		}
		return max(1, w*side/h), side
	}
	sw, sh := fit(blurSizes[strength] * tiles)
	small := image.NewGray(image.Rect(0, 0, sw, sh))
	xdraw.ApproxBiLinear.Scale(small, small.Bounds(), img, b, xdraw.Src, nil)
	ow, oh := fit(min(previewSide*tiles, 960))
	out := image.NewGray(image.Rect(0, 0, ow, oh))
	xdraw.BiLinear.Scale(out, out.Bounds(), small, small.Bounds(), xdraw.Src, nil)
	return out
}
