package vigil

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/bits"
	"sort"
	"strconv"
	"strings"
)

// VideoFrame is one hashed frame of a video: vPDQ, the field's video hash
// (Meta's ThreatExchange vpdq), is the list of a video's sampled frames,
// each with its PDQ hash, quality and time.
type VideoFrame struct {
	// Frame is the frame's number in decoding order, from 0.
	Frame   int `json:"frame"`
	Quality int `json:"quality"`
	// PDQ is the frame's PDQ hash, 64 lower-case hex digits.
	PDQ string `json:"pdq"`
	// Timestamp is the frame's time in seconds (frame number over frame
	// rate, as the reference computes it).
	Timestamp float64 `json:"timestamp"`
}

// The vPDQ matching rule's constants, as in the reference
// (python-threatexchange's vpdq extension and vpdq's matchTwoHash).
const (
	// VideoFrameDistance: two frames within this PDQ distance are the same
	// picture. The reference compares with < 31 in its C++ matcher and
	// <= 31 in its Python index; Vigil uses "within 31" for video as for
	// images.
	VideoFrameDistance = 31
	// VideoMinQuality: frames of lower quality (black, flat, blurred) are
	// dropped before matching: they match everything.
	VideoMinQuality = 50
	// DefaultVideoQueryPercent (P_q): a video matches a known video when at
	// least 80% of its usable frames are found in the known video. High,
	// because a query that is mostly the known video is the known video
	// whatever was added around it.
	DefaultVideoQueryPercent = 80
	// DefaultVideoCompPercent (P_c): the share of the known video's frames
	// that must be found in the query. 0, because a clip cut from a known
	// video is the known material: it must match however short it is.
	DefaultVideoCompPercent = 0
	// MaxVideoFrames bounds one video's frame list (a day of video at one
	// frame a second): a hostile list cannot make an entry of any size.
	MaxVideoFrames = 86400
)

// VideoMatch is how much two frame lists have in common.
type VideoMatch struct {
	// QueryPercent is the share (0…100) of the query's usable frames with
	// a frame of the known video within VideoFrameDistance; CompPercent
	// the share of the known video's usable frames with one in the query.
	QueryPercent, CompPercent float64
	// QueryFrames are the indices, in the query's list, of its frames that
	// matched (for the workbench to mark).
	QueryFrames []int
}

// Matches applies a bank's thresholds (percentages) to a comparison. A
// video with no usable frame on either side never matches.
func (m VideoMatch) Matches(queryPercent, compPercent float64) bool {
	return m.QueryPercent > 0 && m.QueryPercent >= queryPercent && m.CompPercent >= compPercent
}

// CompareVideos computes the vPDQ comparison of query against known: frames
// under VideoMinQuality are dropped from both, then each side's share of
// frames that have a frame of the other side within maxDist. Frames whose
// hash does not parse count as unusable.
func CompareVideos(query, known []VideoFrame, maxDist int) VideoMatch {
	q, qi := usableFrames(query)
	k, _ := usableFrames(known)
	var out VideoMatch
	if len(q) == 0 || len(k) == 0 {
		return out
	}
	kHit := make([]bool, len(k))
	qHits := 0
	for i, a := range q {
		found := false
		for j, b := range k {
			if frameDistance(a, b) <= maxDist {
				found = true
				kHit[j] = true
			}
		}
		if found {
			qHits++
			out.QueryFrames = append(out.QueryFrames, qi[i])
		}
	}
	kHits := 0
	for _, h := range kHit {
		if h {
			kHits++
		}
	}
	out.QueryPercent = 100 * float64(qHits) / float64(len(q))
	out.CompPercent = 100 * float64(kHits) / float64(len(k))
	return out
}

type frameBits [4]uint64

func frameDistance(a, b frameBits) int {
	return bits.OnesCount64(a[0]^b[0]) + bits.OnesCount64(a[1]^b[1]) +
		bits.OnesCount64(a[2]^b[2]) + bits.OnesCount64(a[3]^b[3])
}

// usableFrames parses the hashes of frames of sufficient quality, with
// their positions in the list.
func usableFrames(fs []VideoFrame) ([]frameBits, []int) {
	out := make([]frameBits, 0, len(fs))
	idx := make([]int, 0, len(fs))
	var raw [32]byte
	for i, f := range fs {
		if f.Quality < VideoMinQuality || len(f.PDQ) != 64 {
			continue
		}
		if _, err := hex.Decode(raw[:], []byte(f.PDQ)); err != nil {
			continue
		}
		var h frameBits
		for w := 0; w < 4; w++ {
			for _, c := range raw[w*8 : w*8+8] {
				h[w] = h[w]<<8 | uint64(c)
			}
		}
		out, idx = append(out, h), append(idx, i)
	}
	return out, idx
}

// ValidateVideoFrames normalises a frame list (hashes to lower case, frames
// in frame order) and checks it: at least one frame, at most
// MaxVideoFrames, qualities 0…100, times not negative.
func ValidateVideoFrames(fs []VideoFrame) error {
	if len(fs) == 0 {
		return Errorf(EINVALID, "a video hash needs at least one frame")
	}
	if len(fs) > MaxVideoFrames {
		return Errorf(EINVALID, "a video hash has at most %d frames, got %d", MaxVideoFrames, len(fs))
	}
	for i := range fs {
		f := &fs[i]
		v, err := NormalizeSignalValue(SignalPDQ, f.PDQ)
		if err != nil {
			return Errorf(EINVALID, "frame %d: %s", f.Frame, err.Error())
		}
		f.PDQ = v
		if f.Frame < 0 || f.Quality < 0 || f.Quality > 100 || f.Timestamp < 0 || f.Timestamp != f.Timestamp {
			return Errorf(EINVALID, "frame %d: frame number, quality (0…100) or timestamp out of range", f.Frame)
		}
	}
	sort.SliceStable(fs, func(i, j int) bool { return fs[i].Frame < fs[j].Frame })
	return nil
}

// FormatVideoFrames writes the reference's text form: one line per frame,
// "frame_number,quality,pdq_hex,timestamp" with the time to 3 decimals.
func FormatVideoFrames(fs []VideoFrame) string {
	var b strings.Builder
	for _, f := range fs {
		fmt.Fprintf(&b, "%d,%d,%s,%.3f\n", f.Frame, f.Quality, f.PDQ, f.Timestamp)
	}
	return b.String()
}

// ParseVideoFrames reads the reference's text form (blank lines skipped)
// and validates the list.
func ParseVideoFrames(s string) ([]VideoFrame, error) {
	var fs []VideoFrame
	sc := bufio.NewScanner(strings.NewReader(s))
	sc.Buffer(make([]byte, 0, 256), 4096)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		if len(fs) >= MaxVideoFrames {
			return nil, Errorf(EINVALID, "a video hash has at most %d frames", MaxVideoFrames)
		}
		f, err := parseVideoFrameLine(line)
		if err != nil {
			return nil, Errorf(EINVALID, "line %d: %s", n, err.Error())
		}
		fs = append(fs, f)
	}
	if err := sc.Err(); err != nil {
		return nil, Errorf(EINVALID, "reading video hash: %s", err.Error())
	}
	if err := ValidateVideoFrames(fs); err != nil {
		return nil, err
	}
	return fs, nil
}

func parseVideoFrameLine(line string) (VideoFrame, error) {
	parts := strings.Split(line, ",")
	if len(parts) != 4 {
		return VideoFrame{}, fmt.Errorf("want frame_number,quality,pdq_hex,timestamp")
	}
	frame, err1 := strconv.Atoi(strings.TrimSpace(parts[0]))
	quality, err2 := strconv.Atoi(strings.TrimSpace(parts[1]))
	ts, err3 := strconv.ParseFloat(strings.TrimSpace(parts[3]), 64)
	if err1 != nil || err2 != nil || err3 != nil {
		return VideoFrame{}, fmt.Errorf("frame number, quality or timestamp is not a number")
	}
	return VideoFrame{Frame: frame, Quality: quality, PDQ: strings.TrimSpace(parts[2]), Timestamp: ts}, nil
}

// teFrame is one frame in ThreatExchange's JSON form of a vPDQ hash
// (python-threatexchange's vpdq_to_json): an object keyed by frame number.
type teFrame struct {
	Quality   int     `json:"quality"`
	Hash      string  `json:"hash"`
	Timestamp float64 `json:"timestamp"`
}

// VideoFramesToTEJSON writes ThreatExchange's JSON form:
// {"FRAME": {"quality": Q, "hash": "HEX", "timestamp": T}, …}.
func VideoFramesToTEJSON(fs []VideoFrame) ([]byte, error) {
	m := make(map[string]teFrame, len(fs))
	for _, f := range fs {
		m[strconv.Itoa(f.Frame)] = teFrame{Quality: f.Quality, Hash: f.PDQ, Timestamp: f.Timestamp}
	}
	return json.Marshal(m)
}

// VideoFramesFromTEJSON reads ThreatExchange's JSON form and validates it.
func VideoFramesFromTEJSON(b []byte) ([]VideoFrame, error) {
	var m map[string]teFrame
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, Errorf(EINVALID, "vPDQ JSON: %s", err.Error())
	}
	if len(m) > MaxVideoFrames {
		return nil, Errorf(EINVALID, "a video hash has at most %d frames", MaxVideoFrames)
	}
	fs := make([]VideoFrame, 0, len(m))
	for k, v := range m {
		n, err := strconv.Atoi(k)
		if err != nil {
			return nil, Errorf(EINVALID, "vPDQ JSON: frame key %q is not a number", k)
		}
		fs = append(fs, VideoFrame{Frame: n, Quality: v.Quality, PDQ: v.Hash, Timestamp: v.Timestamp})
	}
	if err := ValidateVideoFrames(fs); err != nil {
		return nil, err
	}
	return fs, nil
}

// VideoDigest identifies a frame list: the SHA-256 of its reference text
// form, lower-case hex. It is the value of a vpdq bank entry, so that the
// same list imported twice is one entry.
func VideoDigest(fs []VideoFrame) string {
	sum := sha256.Sum256([]byte(FormatVideoFrames(fs)))
	return hex.EncodeToString(sum[:])
}
