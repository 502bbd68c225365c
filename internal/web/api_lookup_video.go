package web

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/video"
)

// DefaultMaxVideoBytes bounds an uploaded video: it is held in memory
// (never on disk) while ffmpeg decodes it, one or two at a time.
const DefaultMaxVideoBytes = 256 << 20

// sniffLen is how much of an upload is read to tell a video from an image.
const sniffLen = 512

func (s *Server) maxVideo() int64 {
	if s.cfg.Lookup.MaxVideoBytes > 0 {
		return s.cfg.Lookup.MaxVideoBytes
	}
	return DefaultMaxVideoBytes
}

// lookupVideo reads an uploaded video into memory, digests it, computes
// its vPDQ hash (ffmpeg reads it from an anonymous memory file, within the
// video limits) and looks it up: known videos match by the banks' P_q and
// P_c, and the digests exactly. Without ffmpeg the digests alone are
// looked up, and the answer says why there is no vPDQ.
func (s *Server) lookupVideo(w http.ResponseWriter, r *http.Request, body io.Reader) {
	select {
	case s.videoSlots <- struct{}{}:
	case <-r.Context().Done():
		return
	}
	defer func() { <-s.videoSlots }()
	limit := s.maxVideo()
	data, err := io.ReadAll(http.MaxBytesReader(w, io.NopCloser(body), limit))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			s.writeAPIError(w, vigil.Errorf(vigil.ETOOLARGE, "the video is larger than %d bytes", limit))
			return
		}
		s.writeAPIError(w, bodyError(err, limit))
		return
	}
	m, s1, s2 := md5.Sum(data), sha1.Sum(data), sha256.Sum256(data)
	h := &lookupHashes{MD5: hex.EncodeToString(m[:]), SHA1: hex.EncodeToString(s1[:]), SHA256: hex.EncodeToString(s2[:]), Format: "video"}
	q := vigil.MatchQuery{MD5: h.MD5, SHA1: h.SHA1, SHA256: h.SHA256}
	asked := []vigil.SignalType{vigil.SignalMD5, vigil.SignalSHA1, vigil.SignalSHA256}
	if s.cfg.Lookup.Video == nil {
		h.VPDQError = string(video.ReasonNoFFmpeg)
	} else {
		res, err := s.cfg.Lookup.Video.Hash(r.Context(), video.Input{Data: data})
		if err != nil {
			if video.ReasonOf(err) == video.ReasonCanceled || r.Context().Err() != nil {
				return // the client left
			}
			s.writeAPIError(w, videoError(err, limit))
			return
		}
		if res.Info != nil {
			h.Width, h.Height, h.Duration = res.Info.Width, res.Info.Height, res.Info.Duration
		}
		h.VPDQFrames = len(res.Frames)
		q.Video = res.Frames
		asked = append(asked, vigil.SignalVPDQ)
	}
	data = nil // not kept past the hashing
	qv := r.URL.Query()
	ms, err := s.lookup(r, q, asked, lookupFilter(qv["bank"], qv["classification"]))
	if err != nil {
		s.writeAPIError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, lookupAnswer{Matches: ms, Hashes: h})
}

// videoError says why a video could not be hashed, as a client error (a
// tool gone missing says so as unsupported).
func videoError(err error, limit int64) error {
	switch r := video.ReasonOf(err); r {
	case video.ReasonNoFFmpeg:
		return vigil.Errorf(vigil.EUNSUPPORTED, "videos cannot be hashed on this server")
	case video.ReasonTooLarge:
		return vigil.Errorf(vigil.ETOOLARGE, "the video is larger than %d bytes", limit)
	case video.ReasonTooLong, video.ReasonResolution, video.ReasonStreams, video.ReasonTooMany:
		return vigil.Errorf(vigil.ETOOLARGE, "the video is over this server's limits (%s)", r)
	case video.ReasonMalformed, video.ReasonNoVideo, video.ReasonNoFrames:
		return vigil.Errorf(vigil.EINVALID, "the video could not be read (%s)", r)
	case "":
		return err
	default: // timeout, cpu_limit, memory
		return vigil.Errorf(vigil.EINVALID, "the video cost more than this server allows to hash (%s)", r)
	}
}
