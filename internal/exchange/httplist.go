package exchange

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/bankfile"
)

// MaxListBytes bounds an http-list's body (after decompression).
const MaxListBytes = 8 << 30

// httpList reads a hash list served over HTTP(S) in any format that
// `vigil bank import` reads, the "id" column being the upstream id. Each
// fetch is the whole list (Page.Replace); ETag and Last-Modified make an
// unchanged list cost one 304. Pages are read from one streaming body, so
// memory stays at one page whatever the list's size.
type httpList struct {
	cfg  Config
	resp *http.Response
	body *errRecorder
	rd   *bankfile.Reader
	// next is the checkpoint (the list's validators) given with the last
	// page.
	next string
}

type listCheckpoint struct {
	ETag         string `json:"etag,omitempty"`
	LastModified string `json:"last_modified,omitempty"`
}

func newHTTPList(cfg Config) (*httpList, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, fmt.Errorf("exchange: http-list needs an http(s) URL")
	}
	return &httpList{cfg: cfg}, nil
}

func (l *httpList) pageSize() int {
	if l.cfg.PageSize > 0 {
		return l.cfg.PageSize
	}
	return 5000
}

// Close ends a list read midway.
func (l *httpList) Close() error {
	if l.resp != nil {
		err := l.resp.Body.Close()
		l.resp, l.rd = nil, nil
		return err
	}
	return nil
}

// formatOf picks the list's format from its media type, else from the
// URL's extension, else CSV.
func formatOf(resp *http.Response, rawURL string) bankfile.Format {
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	switch mt {
	case "text/csv":
		return bankfile.CSV
	case "text/tab-separated-values":
		return bankfile.TSV
	case "application/x-ndjson", "application/jsonl", "application/x-jsonlines", "application/json":
		return bankfile.JSONL
	}
	if u, err := url.Parse(rawURL); err == nil {
		if f := bankfile.FormatFromName(u.Path); f != "" && f != bankfile.Lines {
			return f
		}
	}
	return bankfile.CSV
}

func (l *httpList) start(ctx context.Context, checkpoint string) (done bool, err error) {
	var cp listCheckpoint
	if checkpoint != "" {
		_ = json.Unmarshal([]byte(checkpoint), &cp) // a bad checkpoint just fetches the whole list
	}
	h := http.Header{}
	if cp.ETag != "" {
		h.Set("If-None-Match", cp.ETag)
	}
	if cp.LastModified != "" {
		h.Set("If-Modified-Since", cp.LastModified)
	}
	resp, err := open(ctx, l.cfg, l.cfg.URL, h, MaxListBytes, l.cfg.idle())
	if err != nil {
		return false, err
	}
	if resp.StatusCode == http.StatusNotModified {
		_ = resp.Body.Close()
		return true, nil
	}
	next, _ := json.Marshal(listCheckpoint{ETag: resp.Header.Get("ETag"), LastModified: resp.Header.Get("Last-Modified")})
	l.next = string(next)
	if l.next == "{}" {
		l.next = ""
	}
	l.body = &errRecorder{r: resp.Body}
	rd, err := bankfile.NewReader(l.body, bankfile.Options{Format: formatOf(resp, l.cfg.URL), Upstream: true})
	if l.body.err != nil {
		err = l.body.err // the list was cut, not malformed
	}
	if err != nil {
		_ = resp.Body.Close()
		var ve *vigil.Error
		if errors.As(err, &ve) { // the list itself is unreadable
			return false, fmt.Errorf("exchange: http-list %s: %w", l.cfg.URL, err)
		}
		return false, TransportError(ctx, err)
	}
	l.resp, l.rd = resp, rd
	return false, nil
}

// FetchPage returns the next page of the list; the first call sends the
// request. Pages before the last carry the previous checkpoint, so that a
// fetch killed midway reads the whole list again.
func (l *httpList) FetchPage(ctx context.Context, checkpoint string) (Page, error) {
	if l.rd == nil {
		notModified, err := l.start(ctx, checkpoint)
		if err != nil {
			return Page{}, err
		}
		if notModified {
			return Page{Checkpoint: checkpoint, Done: true}, nil
		}
	}
	p := Page{Checkpoint: checkpoint, Replace: true}
	for len(p.Entries) < l.pageSize() {
		rec, err := l.rd.Next()
		if l.body.err != nil {
			// A body cut short: the parser may have made a record or a
			// bad line of the cut; drop the page and read the list again.
			err = l.body.err
		}
		if err == io.EOF {
			_ = l.Close()
			p.Done, p.Checkpoint = true, l.next
			return p, nil
		}
		var le *bankfile.LineError
		if errors.As(err, &le) {
			p.Skipped++
			continue
		}
		if err != nil {
			_ = l.Close() // the next call starts the list again
			return Page{}, TransportError(ctx, fmt.Errorf("exchange: reading %s: %w", l.cfg.URL, err))
		}
		p.Entries = append(p.Entries, Entry{UpstreamID: rec.UpstreamID, Signal: rec.Signal, Value: rec.Value,
			Classification: rec.UpstreamClassification})
	}
	return p, nil
}

// errRecorder remembers a read error other than EOF, which the list
// parser may otherwise report as a malformed line.
type errRecorder struct {
	r   io.Reader
	err error
}

func (e *errRecorder) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && err != io.EOF && e.err == nil {
		e.err = err
	}
	return n, err
}
