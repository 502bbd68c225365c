package web

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/crawl"
	"github.com/vigil-hotline/vigil/internal/hashing"
	"github.com/vigil-hotline/vigil/internal/video"
)

// LookupConfig serves the scanning API (issue 17).
type LookupConfig struct {
	// Matcher answers lookups; nil answers 503.
	Matcher vigil.Matcher
	// Hashing bounds what an uploaded file may cost (bytes, pixels).
	Hashing hashing.Options
	// MaxFiles is how many uploads are hashed at once (0: 4); the others
	// wait, so that hostile files cannot take all memory together.
	MaxFiles int
	// Video hashes uploaded videos (vPDQ through ffmpeg); nil matches a
	// video by its digests only, and says so in the answer.
	Video *video.Hasher
	// MaxVideoBytes bounds an uploaded video, held in memory while it is
	// hashed (0: DefaultMaxVideoBytes).
	MaxVideoBytes int64
	// MaxVideos is how many uploaded videos are hashed at once (0: 1).
	MaxVideos int
	// Observe, if set, is told of each lookup: the signal asked and
	// whether it matched (for the metrics). Never the hash.
	Observe func(signal string, matched bool)
}

// lookupMatch is one match in an answer; its shape is the interface other
// tools rely on.
type lookupMatch struct {
	Signal         string `json:"signal"`
	Bank           string `json:"bank"`
	EntryID        string `json:"entry_id"`
	Distance       int    `json:"distance"`
	Classification string `json:"classification"`
	Source         string `json:"source"`
	// UpstreamID is the entry's ID at the list's issuer, when known.
	UpstreamID string `json:"upstream_id,omitempty"`
	// Exchange names the exchange the entry came from, and
	// UpstreamClassification is its label there, verbatim.
	Exchange               string `json:"exchange,omitempty"`
	UpstreamClassification string `json:"upstream_classification,omitempty"`
	// Variant is the rotation or flip through which an image matched
	// ("orig" when as it is); Transformed says it was not "orig".
	Variant     string `json:"variant,omitempty"`
	Transformed bool   `json:"transformed"`
	// QueryPercent (P_q) and ComparedPercent (P_c) are a video match's
	// shares of frames found: of the uploaded video's in the known one,
	// and of the known video's in the upload.
	QueryPercent    float64 `json:"query_percent,omitempty"`
	ComparedPercent float64 `json:"compared_percent,omitempty"`
}

type lookupAnswer struct {
	Matches []lookupMatch `json:"matches"`
	// Hashes are what Vigil computed from an uploaded file.
	Hashes *lookupHashes `json:"hashes,omitempty"`
}

type lookupHashes struct {
	MD5     string `json:"md5"`
	SHA1    string `json:"sha1"`
	SHA256  string `json:"sha256"`
	PDQ     string `json:"pdq,omitempty"`
	Quality int    `json:"quality"`
	Format  string `json:"format,omitempty"`
	Width   int    `json:"width,omitempty"`
	Height  int    `json:"height,omitempty"`
	// A video's duration in seconds, the frames its vPDQ hash holds, and
	// why it has none when it could not be computed here.
	Duration   float64 `json:"duration,omitempty"`
	VPDQFrames int     `json:"vpdq_frames,omitempty"`
	VPDQError  string  `json:"vpdq_error,omitempty"`
}

type lookupBatch struct {
	Hashes          []lookupHash `json:"hashes"`
	Banks           []string     `json:"banks"`
	Classifications []string     `json:"classifications"`
}

type lookupHash struct {
	Signal string `json:"signal"`
	Value  string `json:"value"`
}

type lookupBatchAnswer struct {
	Results []lookupBatchResult `json:"results"`
}

type lookupBatchResult struct {
	Signal  string        `json:"signal"`
	Value   string        `json:"value"`
	Matches []lookupMatch `json:"matches"`
}

// maxLookupJSON bounds a batch body: 1,000 hashes of 64 digits and their
// names fit well within it.
const maxLookupJSON = 256 << 10

// handleAPILookupGet looks up the hashes in the query string.
func (s *Server) handleAPILookupGet(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Lookup.Matcher == nil {
		writeJSONError(w, http.StatusServiceUnavailable, "lookups are not available on this server")
		return
	}
	qv := r.URL.Query()
	filter := lookupFilter(qv["bank"], qv["classification"])
	var q vigil.MatchQuery
	var asked []vigil.SignalType
	for _, t := range vigil.SignalTypes {
		vs := qv[string(t)]
		if len(vs) == 0 {
			continue
		}
		if len(vs) > 1 {
			s.writeAPIError(w, vigil.Errorf(vigil.EINVALID, "give %s once; use the JSON batch for more", t))
			return
		}
		v, err := vigil.NormalizeSignalValue(t, vs[0])
		if err != nil {
			s.writeAPIError(w, err)
			return
		}
		setQuery(&q, t, v)
		asked = append(asked, t)
	}
	if len(asked) == 0 {
		s.writeAPIError(w, vigil.Errorf(vigil.EINVALID, "give a hash: pdq=, md5=, sha1= or sha256="))
		return
	}
	ms, err := s.lookup(r, q, asked, filter)
	if err != nil {
		s.writeAPIError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, lookupAnswer{Matches: ms})
}

// setQuery sets one signal of q. A PDQ hash given as text is taken at full
// quality: its sender computed it and vouches for it.
func setQuery(q *vigil.MatchQuery, t vigil.SignalType, v string) {
	q.Set(t, v)
	if t == vigil.SignalPDQ {
		q.Quality = 100
	}
}

// lookup matches q, filters, counts, and shapes the answer.
func (s *Server) lookup(r *http.Request, q vigil.MatchQuery, asked []vigil.SignalType, f vigil.LookupFilter) ([]lookupMatch, error) {
	ms, err := s.cfg.Lookup.Matcher.Match(r.Context(), q)
	if err != nil {
		return nil, err
	}
	ms = f.Apply(ms)
	if c := apiCallFrom(r.Context()); c != nil {
		c.lookups++
		if len(ms) > 0 {
			c.matches++
		}
	}
	if obs := s.cfg.Lookup.Observe; obs != nil {
		for _, t := range asked {
			obs(string(t), slices.ContainsFunc(ms, func(m vigil.Match) bool { return m.Signal == t }))
		}
	}
	out := make([]lookupMatch, 0, len(ms))
	for _, m := range ms {
		out = append(out, lookupMatch{Signal: string(m.Signal), Bank: m.BankName, EntryID: strconv.FormatInt(m.EntryID, 10),
			Distance: m.Distance, Classification: m.Classification, Source: string(m.BankSource),
			Variant: m.Variant, Transformed: m.Transformed(), QueryPercent: m.QueryPercent, ComparedPercent: m.CompPercent,
			UpstreamID: m.UpstreamID, Exchange: m.ExchangeName, UpstreamClassification: m.UpstreamClassification})
	}
	return out, nil
}

func lookupFilter(banks, classes []string) vigil.LookupFilter {
	split := func(in []string) []string {
		var out []string
		for _, v := range in {
			for _, f := range strings.Split(v, ",") {
				if f = strings.TrimSpace(f); f != "" {
					out = append(out, f)
				}
			}
		}
		return out
	}
	return vigil.LookupFilter{Banks: split(banks), Classifications: split(classes)}
}

// handleAPILookupPost looks up a JSON batch of hashes, or hashes an
// uploaded file (multipart or the raw body) in memory and looks it up. The
// file is never written anywhere, and neither it nor its hashes are logged.
func (s *Server) handleAPILookupPost(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Lookup.Matcher == nil {
		writeJSONError(w, http.StatusServiceUnavailable, "lookups are not available on this server")
		return
	}
	mt, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch mt {
	case "application/json":
		s.lookupBatch(w, r)
	case "multipart/form-data":
		s.lookupMultipart(w, r, params["boundary"])
	default:
		s.lookupFile(w, r, r.Body)
	}
}

func (s *Server) lookupBatch(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxLookupJSON))
	if err != nil {
		s.writeAPIError(w, bodyError(err, maxLookupJSON))
		return
	}
	if !utf8.Valid(body) {
		s.writeAPIError(w, vigil.Errorf(vigil.EINVALID, "the body is not valid UTF-8"))
		return
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	var in lookupBatch
	if err := dec.Decode(&in); err != nil {
		s.writeAPIError(w, vigil.Errorf(vigil.EINVALID, "the body is not a valid lookup: %s", jsonProblem(err)))
		return
	}
	if _, err := dec.Token(); err != io.EOF {
		s.writeAPIError(w, vigil.Errorf(vigil.EINVALID, "the body must hold one JSON object"))
		return
	}
	switch {
	case len(in.Hashes) == 0:
		s.writeAPIError(w, vigil.Errorf(vigil.EINVALID, `"hashes" must list at least one hash`))
		return
	case len(in.Hashes) > vigil.MaxLookupBatch:
		s.writeAPIError(w, vigil.Errorf(vigil.EINVALID, "a batch may hold at most %d hashes", vigil.MaxLookupBatch))
		return
	}
	queries := make([]vigil.MatchQuery, len(in.Hashes))
	types := make([]vigil.SignalType, len(in.Hashes))
	for i, h := range in.Hashes {
		t, err := vigil.ParseSignalType(h.Signal)
		if err == nil {
			h.Value, err = vigil.NormalizeSignalValue(t, h.Value)
		}
		if err != nil {
			s.writeAPIError(w, vigil.Errorf(vigil.EINVALID, "hash %d: %s", i+1, vigil.ErrorMessage(err)))
			return
		}
		setQuery(&queries[i], t, h.Value)
		types[i] = t
	}
	if !s.apiQuotaAllows(r, int64(len(queries))) {
		writeQuotaExceeded(w, s.cfg.Now())
		return
	}
	filter := lookupFilter(in.Banks, in.Classifications)
	out := lookupBatchAnswer{Results: make([]lookupBatchResult, len(queries))}
	for i, q := range queries {
		ms, err := s.lookup(r, q, types[i:i+1], filter)
		if err != nil {
			s.writeAPIError(w, err)
			return
		}
		out.Results[i] = lookupBatchResult{Signal: string(types[i]), Value: q.Value(types[i]), Matches: ms}
	}
	writeJSON(w, http.StatusOK, out)
}

// lookupMultipart takes the part named "file"; filters may come as form
// fields before it or in the query string.
func (s *Server) lookupMultipart(w http.ResponseWriter, r *http.Request, boundary string) {
	if boundary == "" {
		s.writeAPIError(w, vigil.Errorf(vigil.EINVALID, "the multipart body has no boundary"))
		return
	}
	limit := max(s.maxUpload(), s.maxVideo()) + 64<<10 // room for the headers and form fields
	mr := multipart.NewReader(http.MaxBytesReader(w, r.Body, limit), boundary)
	for parts := 0; parts < 16; parts++ {
		p, err := mr.NextPart()
		if err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			s.writeAPIError(w, bodyError(err, limit))
			return
		}
		switch p.FormName() {
		case "file":
			s.lookupFile(w, r, p)
			return
		case "bank", "classification":
			v, err := io.ReadAll(io.LimitReader(p, 4<<10))
			if err != nil {
				s.writeAPIError(w, bodyError(err, limit))
				return
			}
			q := r.URL.Query()
			q.Add(p.FormName(), string(v))
			r.URL.RawQuery = q.Encode()
		}
	}
	s.writeAPIError(w, vigil.Errorf(vigil.EINVALID, `the multipart body has no part named "file"`))
}

func (s *Server) maxUpload() int64 {
	if s.cfg.Lookup.Hashing.MaxBytes > 0 {
		return s.cfg.Lookup.Hashing.MaxBytes
	}
	return hashing.DefaultMaxBytes
}

// lookupFile hashes body in memory (within the hashing limits, a few
// files at a time) and looks up what it computed. A video (judged by its
// bytes, not its Content-Type) goes to lookupVideo.
func (s *Server) lookupFile(w http.ResponseWriter, r *http.Request, body io.Reader) {
	br := bufio.NewReaderSize(body, sniffLen)
	head, _ := br.Peek(sniffLen) // a short or failing body is the hasher's to report
	if _, class := crawl.Sniff(head); class == crawl.ClassVideo {
		s.lookupVideo(w, r, br)
		return
	}
	body = br
	select {
	case s.fileSlots <- struct{}{}:
	case <-r.Context().Done():
		return
	}
	opts := s.cfg.Lookup.Hashing
	opts.Dihedral = true
	res, err := hashing.Hash(http.MaxBytesReader(w, io.NopCloser(body), s.maxUpload()+1), opts)
	<-s.fileSlots
	if err != nil {
		s.writeAPIError(w, hashingError(err, s.maxUpload()))
		return
	}
	h := &lookupHashes{MD5: hex.EncodeToString(res.MD5[:]), SHA1: hex.EncodeToString(res.SHA1[:]),
		SHA256: hex.EncodeToString(res.SHA256[:]), Quality: res.Quality, Format: string(res.Format),
		Width: res.Width, Height: res.Height}
	q := vigil.MatchQuery{MD5: h.MD5, SHA1: h.SHA1, SHA256: h.SHA256, Quality: res.Quality}
	asked := []vigil.SignalType{vigil.SignalMD5, vigil.SignalSHA1, vigil.SignalSHA256}
	if !res.PDQ.IsZero() || res.Quality > 0 {
		h.PDQ = res.PDQ.String()
		q.PDQ = h.PDQ
		asked = append(asked, vigil.SignalPDQ)
		if res.Dihedral != nil {
			for _, d := range res.Dihedral {
				q.Dihedral = append(q.Dihedral, d.String())
			}
		}
	}
	qv := r.URL.Query()
	ms, err := s.lookup(r, q, asked, lookupFilter(qv["bank"], qv["classification"]))
	if err != nil {
		s.writeAPIError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, lookupAnswer{Matches: ms, Hashes: h})
}

// hashingError says why a file could not be hashed, as a client error.
func hashingError(err error, limit int64) error {
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe), errors.Is(err, hashing.ErrTooLarge):
		return vigil.Errorf(vigil.ETOOLARGE, "the file is larger than %d bytes, or its image has more pixels than allowed", limit)
	case errors.Is(err, hashing.ErrEmpty):
		return vigil.Errorf(vigil.EINVALID, "the file is empty")
	case errors.Is(err, hashing.ErrUnsupportedFormat):
		return vigil.Errorf(vigil.EUNSUPPORTED, "the file is not an image in a supported format (JPEG, PNG, GIF, BMP, TIFF, WebP)")
	case errors.Is(err, hashing.ErrMalformed):
		return vigil.Errorf(vigil.EINVALID, "the image is malformed or cut short")
	}
	return vigil.Errorf(vigil.EINVALID, "the file could not be read")
}

// bodyError turns a body read failure into a client error.
func bodyError(err error, limit int64) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return vigil.Errorf(vigil.ETOOLARGE, "the body is larger than %d bytes", limit)
	}
	return vigil.Errorf(vigil.EINVALID, "the body could not be read")
}
