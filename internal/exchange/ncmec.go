package exchange

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/vigil-hotline/vigil"
)

// NCMEC's hash-sharing API (v2), as its documentation describes it
// (https://report.cybertip.org/hashsharing/v2/documentation.pdf): XML over
// HTTPS with basic authentication; GET {base}/v2/entries?from=&to= lists
// the entries changed in a window, a page at a time, each page ending with
// a <paging><next> link (relative to the base) to the rest; withdrawn
// entries come as <deletedImage>/<deletedVideo>. The API does not list a
// window in time order, so only a window read to its end moves the
// checkpoint on: until then the checkpoint holds the window and the link
// to its next page, and a link that has expired restarts the window
// (Rewind), whose entries are stored once however often they come.

// MaxNCMECPage bounds one page's body.
const MaxNCMECPage = 64 << 20

// ncmecEpoch is where a first fetch starts: before any entry.
var ncmecEpoch = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

const ncmecTime = "2006-01-02T15:04:05.000Z"

type ncmec struct {
	cfg  Config
	base string
	now  func() time.Time
}

type ncmecCheckpoint struct {
	From time.Time `json:"from"`
	// To and Next are set inside a window.
	To   time.Time `json:"to,omitzero"`
	Next string    `json:"next,omitempty"`
}

func newNCMEC(cfg Config) (*ncmec, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("exchange: ncmec needs the API's base URL (https://…/npo)")
	}
	if cfg.User == "" {
		return nil, fmt.Errorf("exchange: ncmec takes basic authentication: a user and password")
	}
	return &ncmec{cfg: cfg, base: strings.TrimRight(cfg.URL, "/"), now: time.Now}, nil
}

func parseNCMECCheckpoint(s string) ncmecCheckpoint {
	cp := ncmecCheckpoint{From: ncmecEpoch}
	if s != "" {
		_ = json.Unmarshal([]byte(s), &cp) // a bad checkpoint starts from the beginning
	}
	return cp
}

func (cp ncmecCheckpoint) String() string {
	b, _ := json.Marshal(cp)
	return string(b)
}

// Rewind drops an expired link: the window is read again from its start.
func (c *ncmec) Rewind(checkpoint string) string {
	cp := parseNCMECCheckpoint(checkpoint)
	cp.Next = ""
	return cp.String()
}

// FetchPage reads the page the checkpoint points to.
func (c *ncmec) FetchPage(ctx context.Context, checkpoint string) (Page, error) {
	cp := parseNCMECCheckpoint(checkpoint)
	var target string
	if cp.Next != "" {
		// Only a path on the same service: a link is never followed
		// elsewhere (the credentials go with it).
		if !strings.HasPrefix(cp.Next, "/") || strings.HasPrefix(cp.Next, "//") {
			return Page{}, fmt.Errorf("exchange: ncmec: a paging link that is not a path: %q", Snippet([]byte(cp.Next)))
		}
		target = c.base + cp.Next
	} else {
		if cp.To.IsZero() {
			cp.To = c.now().UTC().Truncate(time.Millisecond)
		}
		if !cp.From.Before(cp.To) { // fetched again within the same millisecond
			return Page{Checkpoint: ncmecCheckpoint{From: cp.From}.String(), Done: true}, nil
		}
		q := url.Values{}
		q.Set("from", cp.From.UTC().Format(ncmecTime))
		q.Set("to", cp.To.UTC().Format(ncmecTime))
		target = c.base + "/v2/entries?" + q.Encode()
	}
	resp, err := open(ctx, c.cfg, target, http.Header{"Accept": {"application/xml"}}, MaxNCMECPage, c.cfg.idle())
	if err != nil {
		var se *StatusError
		if cp.Next != "" && errors.As(err, &se) && (se.Status == http.StatusGone || se.Status == http.StatusBadRequest ||
			se.Status == http.StatusNotFound) {
			return Page{}, fmt.Errorf("%w: %v", ErrCheckpointExpired, err)
		}
		return Page{}, err
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return Page{}, TransportError(ctx, fmt.Errorf("exchange: ncmec: reading a page: %w", err))
	}
	res, err := parseNCMECPage(body)
	if err != nil {
		return Page{}, err
	}
	p := Page{Entries: res.entries, Skipped: res.skipped}
	if res.next != "" {
		cp.Next = res.next
		p.Checkpoint = cp.String()
		return p, nil
	}
	// The window is read: the next fetch asks for what changed since.
	p.Checkpoint, p.Done = ncmecCheckpoint{From: cp.To}.String(), true
	return p, nil
}

// The XML, as the documentation describes it (namespaces ignored).
type ncmecResult struct {
	Images ncmecList `xml:"images"`
	Videos ncmecList `xml:"videos"`
	Next   string    `xml:"paging>next"`
}

type ncmecList struct {
	Items []ncmecItem `xml:",any"`
}

type ncmecItem struct {
	XMLName        xml.Name
	ID             string `xml:"id"`
	Member         ncmecMember
	Timestamp      string            `xml:"timestamp"`
	Classification string            `xml:"classification"`
	Fingerprints   ncmecFingerprints `xml:"fingerprints"`
	Feedback       struct {
		Items []struct {
			XMLName xml.Name
		} `xml:",any"`
	} `xml:"feedback"`
}

type ncmecMember struct {
	XMLName xml.Name `xml:"member"`
	ID      string   `xml:"id,attr"`
	Name    string   `xml:",chardata"`
}

type ncmecFingerprints struct {
	Items []struct {
		XMLName xml.Name
		Value   string `xml:",chardata"`
	} `xml:",any"`
}

type parsedPage struct {
	entries []Entry
	skipped int
	next    string
}

// parseNCMECPage turns one page into entries: one per fingerprint Vigil
// holds (MD5, SHA-1, PDQ), all with the entry's id; PhotoDNA and other
// fingerprints are counted as skipped.
func parseNCMECPage(body []byte) (parsedPage, error) {
	var r ncmecResult
	d := xml.NewDecoder(bytes.NewReader(body))
	d.Strict = true
	if err := d.Decode(&r); err != nil {
		return parsedPage{}, fmt.Errorf("exchange: ncmec: a page that is not the API's XML: %w", err)
	}
	var out parsedPage
	out.next = strings.TrimSpace(r.Next)
	for _, list := range []struct {
		kind  string
		items []ncmecItem
	}{{"image", r.Images.Items}, {"video", r.Videos.Items}} {
		for _, it := range list.items {
			tag := it.XMLName.Local
			id := strings.TrimSpace(it.ID)
			if id == "" {
				out.skipped++
				continue
			}
			if strings.HasPrefix(tag, "deleted") {
				out.entries = append(out.entries, Entry{UpstreamID: id, Deleted: true})
				continue
			}
			if tag != list.kind {
				out.skipped++
				continue
			}
			updated, _ := time.Parse(time.RFC3339Nano, strings.TrimSpace(it.Timestamp))
			tags := []string{list.kind}
			if m := strings.TrimSpace(it.Member.Name); m != "" {
				tags = append(tags, "member:"+truncate(m, 80))
			}
			for _, f := range it.Feedback.Items {
				tags = append(tags, "feedback:"+truncate(f.XMLName.Local, 80))
				if len(tags) >= vigil.MaxEntryTags {
					break
				}
			}
			n := 0
			for _, fp := range it.Fingerprints.Items {
				var sig vigil.SignalType
				switch strings.ToLower(fp.XMLName.Local) {
				case "md5":
					sig = vigil.SignalMD5
				case "sha1":
					sig = vigil.SignalSHA1
				case "pdq":
					sig = vigil.SignalPDQ
				default: // pdna (PhotoDNA), tmk, …: not held by Vigil
					out.skipped++
					continue
				}
				v, err := vigil.NormalizeSignalValue(sig, fp.Value)
				if err != nil {
					out.skipped++
					continue
				}
				out.entries = append(out.entries, Entry{UpstreamID: id, Signal: sig, Value: v,
					Classification: strings.TrimSpace(it.Classification), Tags: tags, UpdatedAt: updated})
				n++
			}
			if n == 0 && len(it.Fingerprints.Items) == 0 {
				out.skipped++
			}
		}
	}
	return out, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}
