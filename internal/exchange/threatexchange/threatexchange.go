// Package threatexchange reads a ThreatExchange privacy group through Meta's
// Graph API /threat_updates edge, and reacts to descriptors as feedback.
//
// The fetch shape follows Meta's "Threat Updates" reference
// (developers.facebook.com/docs/threat-exchange/reference/apis/threat-updates)
// and the open-source python-threatexchange client: a window
// [start_time, stop_time) of descriptor updates ordered by last_updated,
// paged with Graph API cursors (paging.next), a record with should_delete
// being a tombstone. The checkpoint is the window and the cursor; a cursor
// that has expired restarts the window from the last update time seen, so
// nothing is lost (an entry seen twice is stored once).
package threatexchange

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/exchange"
)

// Limits on what the service may send.
const (
	// PageSize is the limit asked for per page.
	PageSize = 500
	// MaxPageBytes bounds one page's body (a vPDQ descriptor of a long
	// video is megabytes).
	MaxPageBytes = 64 << 20
	// MaxTags bounds one descriptor's tags, MaxTagLen each tag (the
	// store's limits on an entry's tags).
	MaxTags   = 32
	MaxTagLen = 100
	// maxFeedbackBytes bounds the answer to a reaction.
	maxFeedbackBytes = 64 << 10
)

// ClockSkew is how far the next window reaches back before the end of the
// last: the window's end is this machine's clock, an update's time the
// service's, and an update stamped just before the end by a clock that
// lags would otherwise fall between two windows. What is read twice is
// stored once.
const ClockSkew = 5 * time.Minute

// Descriptor types read from threat_updates, and the signal each carries.
var signalOfType = map[string]vigil.SignalType{
	"HASH_PDQ":       vigil.SignalPDQ,
	"HASH_MD5":       vigil.SignalMD5,
	"HASH_VIDEO_MD5": vigil.SignalMD5,
	"HASH_VPDQ":      vigil.SignalVPDQ,
}

// Reactions sent as feedback: SAW_THIS_TOO and DISAGREE_WITH_TAGS are the
// reactions the reference names as well understood by every group.
const (
	ReactionConfirm = "SAW_THIS_TOO"
	ReactionDispute = "DISAGREE_WITH_TAGS"
)

// Client reads one privacy group.
type Client struct {
	hc    *http.Client
	root  *url.URL // the Graph API version root, e.g. https://graph.facebook.com/v21.0
	group string   // the privacy group's id
	token string   // app token, "APP_ID|SECRET"; sent in a header, never in a URL
	// Timeout bounds one request (exchange.DefaultRequestTimeout if zero).
	Timeout time.Duration
	// Now gives the end of a new window (time.Now if nil).
	Now func() time.Time
}

// New checks cfg: URL is the privacy group's Graph API node,
// https://graph.facebook.com/vNN.N/GROUP_ID (a trailing /threat_updates
// is accepted), Token the app token.
func New(cfg exchange.Config) (*Client, error) {
	if cfg.HTTP == nil {
		return nil, errors.New("threatexchange: no HTTP client")
	}
	if cfg.Token == "" {
		return nil, errors.New("threatexchange: an app token (--token) is needed")
	}
	u, err := url.Parse(strings.TrimSpace(cfg.URL))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("threatexchange: URL must be https://graph.facebook.com/vNN.N/PRIVACY_GROUP_ID")
	}
	p := strings.TrimSuffix(strings.TrimSuffix(u.Path, "/"), "/threat_updates")
	i := strings.LastIndex(p, "/")
	group := p[i+1:]
	if i < 0 || !isID(group) {
		return nil, fmt.Errorf("threatexchange: URL %s must end in the privacy group's numeric id", exchange.RedactURL(u))
	}
	root := &url.URL{Scheme: u.Scheme, Host: u.Host, Path: p[:i]}
	return &Client{hc: cfg.HTTP, root: root, group: group, token: cfg.Token}, nil
}

func isID(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// checkpoint is the state between pages, stored as JSON.
type checkpoint struct {
	// Since and Until bound the window being read, in Unix seconds; Until
	// is zero between fetches (the next window starts at Since).
	Since int64 `json:"since"`
	Until int64 `json:"until,omitempty"`
	// Next is the cursor link of the next page (without the token).
	Next string `json:"next,omitempty"`
	// Seen is the latest last_updated read in this window: where an
	// expired cursor restarts.
	Seen int64 `json:"seen,omitempty"`
}

func parseCheckpoint(s string) (checkpoint, error) {
	var cp checkpoint
	if s == "" {
		return cp, nil
	}
	if err := json.Unmarshal([]byte(s), &cp); err != nil {
		return cp, fmt.Errorf("threatexchange: bad checkpoint: %w", err)
	}
	return cp, nil
}

func (cp checkpoint) String() string {
	b, _ := json.Marshal(cp) // a struct of ints and strings always marshals
	return string(b)
}

// Rewind implements exchange.Rewinder: an expired cursor's window is read
// again from the last update time seen (updates come in last_updated
// order), so a fetch whose cursors keep expiring still moves on.
func (c *Client) Rewind(checkpointText string) string {
	cp, err := parseCheckpoint(checkpointText)
	if err != nil {
		return ""
	}
	cp.Next = ""
	return cp.String()
}

// FetchPage implements exchange.Client.
func (c *Client) FetchPage(ctx context.Context, checkpointText string) (exchange.Page, error) {
	cp, err := parseCheckpoint(checkpointText)
	if err != nil {
		return exchange.Page{}, err
	}
	if cp.Until == 0 {
		now := time.Now
		if c.Now != nil {
			now = c.Now
		}
		cp.Until = max(now().Unix(), cp.Since+1)
		cp.Next, cp.Seen = "", 0
	}
	var body []byte
	if cp.Next != "" {
		status, b, err := c.get(ctx, cp.Next)
		if err != nil && (status == http.StatusBadRequest || status == http.StatusNotFound || status == http.StatusGone) {
			// An expired or unknown cursor: the fetch loop rewinds.
			return exchange.Page{}, fmt.Errorf("threatexchange: %w: %w", exchange.ErrCheckpointExpired, err)
		} else if err != nil {
			return exchange.Page{}, err
		}
		body = b
	} else {
		_, b, err := c.get(ctx, c.windowURL(max(cp.Since, cp.Seen), cp.Until))
		if err != nil {
			return exchange.Page{}, err
		}
		body = b
	}
	page, err := ParsePage(body)
	if err != nil {
		return exchange.Page{}, err
	}
	for _, e := range page.Entries {
		if t := e.UpdatedAt.Unix(); t > cp.Seen && !e.UpdatedAt.IsZero() {
			cp.Seen = t
		}
	}
	out := exchange.Page{Entries: page.Entries, Skipped: page.Skipped}
	if page.Next == "" || len(page.Entries)+page.Skipped == 0 {
		out.Checkpoint = checkpoint{Since: max(cp.Until-int64(ClockSkew/time.Second), 0)}.String()
		out.Done = true
		return out, nil
	}
	next, err := c.sameOrigin(page.Next)
	if err != nil {
		return exchange.Page{}, err
	}
	cp.Next = next
	out.Checkpoint = cp.String()
	return out, nil
}

func (c *Client) windowURL(since, until int64) string {
	u := *c.root
	u.Path += "/" + c.group + "/threat_updates"
	q := url.Values{}
	q.Set("start_time", strconv.FormatInt(since, 10))
	q.Set("stop_time", strconv.FormatInt(until, 10))
	q.Set("limit", strconv.Itoa(PageSize))
	q.Set("types", "HASH_PDQ,HASH_MD5,HASH_VIDEO_MD5,HASH_VPDQ")
	q.Set("fields", "id,indicator,type,last_updated,should_delete,tags,status")
	u.RawQuery = q.Encode()
	return u.String()
}

// sameOrigin checks that a cursor link points at the service the token is
// for (a hostile answer must not send the token elsewhere) and drops any
// access_token from it.
func (c *Client) sameOrigin(link string) (string, error) {
	u, err := url.Parse(link)
	if err != nil || u.Scheme != c.root.Scheme || u.Host != c.root.Host {
		return "", fmt.Errorf("threatexchange: paging link leaves %s", c.root.Host)
	}
	q := u.Query()
	q.Del("access_token")
	u.RawQuery = q.Encode()
	u.Fragment = ""
	return u.String(), nil
}

func (c *Client) get(ctx context.Context, link string) (int, []byte, error) {
	status, body, err := exchange.GetJSON(ctx, c.hc, link, c.auth, c.Timeout, MaxPageBytes)
	if err != nil {
		return status, nil, fmt.Errorf("threatexchange: %w", err)
	}
	return status, body, nil
}

// auth puts the app token in the Authorization header, which the Graph API
// accepts in place of the access_token parameter, so that it never appears
// in a URL, an error or a proxy's log.
func (c *Client) auth(req *http.Request) {
	req.Header.Set("Authorization", "OAuth "+c.token)
}

// SendFeedback reacts to the descriptor: SAW_THIS_TOO for a confirmation,
// DISAGREE_WITH_TAGS for a dispute (Meta's "Reacting" reference). A
// reaction is a state, not an event: sending it twice leaves one reaction.
func (c *Client) SendFeedback(ctx context.Context, f exchange.Feedback) error {
	if !isID(f.UpstreamID) {
		return fmt.Errorf("threatexchange: feedback needs the descriptor's numeric id, got %q", f.UpstreamID)
	}
	var reaction string
	switch f.Verdict {
	case exchange.VerdictConfirm:
		reaction = ReactionConfirm
	case exchange.VerdictDispute:
		reaction = ReactionDispute
	default:
		return fmt.Errorf("threatexchange: unknown verdict %q", f.Verdict)
	}
	u := *c.root
	u.Path += "/" + f.UpstreamID
	form := url.Values{"reactions": {reaction}}
	_, body, err := exchange.Post(ctx, c.hc, u.String(), "application/x-www-form-urlencoded", strings.NewReader(form.Encode()), c.auth, c.Timeout, maxFeedbackBytes)
	if err != nil {
		return fmt.Errorf("threatexchange: reaction to %s: %w", f.UpstreamID, err)
	}
	var ok struct {
		Success *bool `json:"success"`
	}
	if err := json.Unmarshal(body, &ok); err != nil || ok.Success == nil || !*ok.Success {
		return fmt.Errorf("threatexchange: reaction to %s not accepted: %s", f.UpstreamID, exchange.Snippet(body))
	}
	return nil
}

// ParsedPage is one threat_updates answer.
type ParsedPage struct {
	Entries []exchange.Entry
	// Skipped counts records of other types or with malformed hashes.
	Skipped int
	// Next is paging.next, the link of the following page ("" at the end).
	Next string
}

type update struct {
	ID           flexString      `json:"id"`
	Indicator    string          `json:"indicator"`
	Type         string          `json:"type"`
	LastUpdated  flexString      `json:"last_updated"`
	ShouldDelete bool            `json:"should_delete"`
	Tags         json.RawMessage `json:"tags"`
	Status       string          `json:"status"`
}

// flexString takes a JSON string or number (the Graph API sends ids as
// strings, times as numbers or strings).
type flexString string

func (f *flexString) UnmarshalJSON(b []byte) error {
	if bytes.Equal(b, []byte("null")) {
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexString(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return err
	}
	*f = flexString(n.String())
	return nil
}

// ParsePage reads a threat_updates answer: {"data": [...], "paging":
// {"cursors": {...}, "next": LINK}}. A record of a type Vigil does not hold,
// or whose hash is malformed, is skipped and counted; a body that is not
// such an object is an error.
func ParsePage(body []byte) (ParsedPage, error) {
	var raw struct {
		Data   []json.RawMessage `json:"data"`
		Paging struct {
			Next string `json:"next"`
		} `json:"paging"`
		Error *graphError `json:"error"`
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		return ParsedPage{}, fmt.Errorf("threatexchange: page is not a Graph API answer: %w", err)
	}
	if raw.Error != nil {
		return ParsedPage{}, fmt.Errorf("threatexchange: %s", raw.Error)
	}
	out := ParsedPage{Next: raw.Paging.Next, Entries: make([]exchange.Entry, 0, len(raw.Data))}
	for _, d := range raw.Data {
		var u update
		if err := json.Unmarshal(d, &u); err != nil {
			out.Skipped++
			continue
		}
		e, ok := entryOf(u)
		if !ok {
			out.Skipped++
			continue
		}
		out.Entries = append(out.Entries, e)
	}
	return out, nil
}

func entryOf(u update) (exchange.Entry, bool) {
	sig, ok := signalOfType[strings.ToUpper(u.Type)]
	if !ok || !isID(string(u.ID)) {
		return exchange.Entry{}, false
	}
	e := exchange.Entry{UpstreamID: string(u.ID), Signal: sig, Deleted: u.ShouldDelete}
	if t, err := strconv.ParseInt(string(u.LastUpdated), 10, 64); err == nil && t > 0 && t < 1<<40 {
		e.UpdatedAt = time.Unix(t, 0).UTC()
	}
	if sig == vigil.SignalVPDQ {
		fs, err := vigil.VideoFramesFromTEJSON([]byte(u.Indicator))
		if err != nil {
			return exchange.Entry{}, false
		}
		e.Frames = fs
		e.Value = vigil.VideoDigest(fs)
	} else {
		v, err := vigil.NormalizeSignalValue(sig, u.Indicator)
		if err != nil {
			return exchange.Entry{}, false
		}
		e.Value = v
	}
	e.Tags = parseTags(u.Tags)
	return e, true
}

// parseTags reads tags as a list of strings or as the Graph API's
// {"data": [{"text": ...}]} edge; bounded, malformed ones dropped.
func parseTags(raw json.RawMessage) []string {
	if len(raw) == 0 {
		return nil
	}
	var list []string
	if err := json.Unmarshal(raw, &list); err != nil {
		var edge struct {
			Data []struct {
				Text string `json:"text"`
			} `json:"data"`
		}
		if json.Unmarshal(raw, &edge) != nil {
			return nil
		}
		for _, t := range edge.Data {
			list = append(list, t.Text)
		}
	}
	var out []string
	for _, t := range list {
		t = strings.TrimSpace(t)
		if t == "" || len(t) > MaxTagLen || !utf8Printable(t) {
			continue
		}
		out = append(out, t)
		if len(out) == MaxTags {
			break
		}
	}
	return out
}

func utf8Printable(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f || r == 0xfffd {
			return false
		}
	}
	return true
}

// graphError is the Graph API's error object.
type graphError struct {
	Message string `json:"message"`
	Type    string `json:"type"`
	Code    int    `json:"code"`
}

func (g *graphError) String() string {
	return fmt.Sprintf("Graph API error %d (%s): %s", g.Code, exchange.Snippet([]byte(g.Type)), exchange.Snippet([]byte(g.Message)))
}

// FeedbackDelivered asks the descriptor for this app's reactions
// (my_reactions): whether a reaction sent before a crash arrived.
func (c *Client) FeedbackDelivered(ctx context.Context, f exchange.Feedback) (bool, error) {
	if !isID(f.UpstreamID) {
		return false, fmt.Errorf("threatexchange: feedback needs the descriptor's numeric id, got %q", f.UpstreamID)
	}
	want := ReactionConfirm
	if f.Verdict == exchange.VerdictDispute {
		want = ReactionDispute
	}
	u := *c.root
	u.Path += "/" + f.UpstreamID
	u.RawQuery = url.Values{"fields": {"my_reactions"}}.Encode()
	_, body, err := c.get(ctx, u.String())
	if err != nil {
		return false, err
	}
	var d struct {
		MyReactions []string `json:"my_reactions"`
	}
	if err := json.Unmarshal(body, &d); err != nil {
		return false, fmt.Errorf("threatexchange: my_reactions: %w", err)
	}
	for _, r := range d.MyReactions {
		if r == want {
			return true, nil
		}
	}
	return false, nil
}
