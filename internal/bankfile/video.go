package bankfile

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/vigil-hotline/vigil"
)

// Video hash files. A video's vPDQ hash travels as the reference's text
// file (one "frame,quality,pdq,timestamp" line a frame, one file a
// video), as ThreatExchange's JSON object keyed by frame number, or many
// videos to a file as JSON lines:
//
//	{"vpdq": [{"frame": 0, "quality": 100, "pdq": "…", "timestamp": 0}, …],
//	 "classification": "…", "note": "…"}
//
// where "vpdq_te" may carry ThreatExchange's object instead of "vpdq".

// MaxVideoLine bounds one JSON line: a day of video at one frame a second
// is about 9 MB of JSON.
const MaxVideoLine = 16 << 20

// VideoLine is one line of a video JSON lines file.
type VideoLine struct {
	Value          string             `json:"value,omitempty"` // the list's digest, on export
	VPDQ           []vigil.VideoFrame `json:"vpdq,omitempty"`
	VPDQTE         json.RawMessage    `json:"vpdq_te,omitempty"`
	Classification string             `json:"classification,omitempty"`
	Note           string             `json:"note,omitempty"`
}

// ReadVideoFile reads one video's hash in the reference's text form or
// ThreatExchange's JSON (told apart by the first byte), at most max bytes.
func ReadVideoFile(r io.Reader, max int64) ([]vigil.VideoFrame, error) {
	b, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, vigil.Errorf(vigil.EINVALID, "video hash file over %d bytes", max)
	}
	if s := strings.TrimSpace(string(b)); strings.HasPrefix(s, "{") {
		return vigil.VideoFramesFromTEJSON([]byte(s))
	}
	return vigil.ParseVideoFrames(string(b))
}

// VideoLines reads a video JSON lines file, calling fn with each good
// entry and bad with each bad line (the reader goes on after it).
func VideoLines(r io.Reader, fn func(*vigil.BankEntry) error, bad func(*LineError)) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), MaxVideoLine)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		var v VideoLine
		if err := json.Unmarshal([]byte(line), &v); err != nil {
			bad(&LineError{Line: n, Err: vigil.Errorf(vigil.EINVALID, "not a JSON object: %s", err.Error())})
			continue
		}
		frames := v.VPDQ
		if len(v.VPDQTE) > 0 {
			fs, err := vigil.VideoFramesFromTEJSON(v.VPDQTE)
			if err != nil {
				bad(&LineError{Line: n, Err: err})
				continue
			}
			frames = fs
		}
		e := &vigil.BankEntry{Signal: vigil.SignalVPDQ, Frames: frames, Classification: v.Classification, Note: v.Note}
		if err := e.Validate(nil); err != nil {
			bad(&LineError{Line: n, Err: err})
			continue
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return vigil.Errorf(vigil.EINVALID, "a line is over %d bytes", MaxVideoLine)
		}
		return fmt.Errorf("reading video lines: %w", err)
	}
	return nil
}

// WriteVideoLine writes a vpdq entry as one JSON line.
func WriteVideoLine(w io.Writer, e *vigil.BankEntry) error {
	b, err := json.Marshal(VideoLine{Value: e.Value, VPDQ: e.Frames, Classification: e.Classification, Note: e.Note})
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}
