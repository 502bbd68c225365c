// Package stopncii reads StopNCII.org's hash list (hashes that victims of
// non-consensual intimate image abuse made on their own devices) and sends
// a hotline's feedback on them.
//
// StopNCII publishes no open API reference; the shape follows the
// open-source python-threatexchange client
// (threatexchange/exchanges/clients/stopncii/api.py) and Meta's HMA: GET
// {base}/FetchHashes with startTimestamp, pageSize and nextPageToken,
// authenticated by the Ocp-Apim-Subscription-Key header (and an Azure
// x-functions-key where the deployment has one); answers of count,
// nextPageToken, nextSetTimestamp, hasMoreRecords and hashRecords, each a
// current snapshot of one hash (signalType, hashValue, hashStatus,
// lastModtimestamp); POST {base}/SubmitFeedback with hashFeedbacks.
// A record withdrawn or deleted by its victim is removed from the bank.
package stopncii

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

// DefaultURL is the service's base URL.
const DefaultURL = "https://api.stopncii.org/v1"

// Limits on what the service may send.
const (
	PageSize     = 800
	MaxPageBytes = 16 << 20
	// maxFeedbackBytes bounds the answer to a feedback.
	maxFeedbackBytes = 64 << 10
)

// Feedback values (StopNCIICSPFeedbackValue in the reference): Blocked
// says the match was reviewed and is the material; NotBlocked that it was
// reviewed and is not.
const (
	FeedbackConfirm = "Blocked"
	FeedbackDispute = "NotBlocked"
)

// Client reads StopNCII.
type Client struct {
	hc           *http.Client
	base         *url.URL
	subscription string
	function     string
	// Timeout bounds one request (exchange.DefaultRequestTimeout if zero).
	Timeout time.Duration
}

// New checks cfg: URL is the API's base (DefaultURL if empty); the
// subscription key is Token (--token), or User with the function key where
// one was issued as Password (--user SUBSCRIPTION_KEY --password-file F).
func New(cfg exchange.Config) (*Client, error) {
	if cfg.HTTP == nil {
		return nil, errors.New("stopncii: no HTTP client")
	}
	if cfg.Token == "" && cfg.User != "" {
		cfg.Token = cfg.User
	}
	if cfg.Token == "" {
		return nil, errors.New("stopncii: a subscription key is needed (--token, or --user with the function key as --password-file)")
	}
	raw := strings.TrimSpace(cfg.URL)
	if raw == "" {
		raw = DefaultURL
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" {
		return nil, errors.New("stopncii: URL must be the API's base, e.g. " + DefaultURL)
	}
	u.Path = strings.TrimSuffix(strings.TrimSuffix(u.Path, "/"), "/FetchHashes")
	return &Client{hc: cfg.HTTP, base: u, subscription: cfg.Token, function: cfg.Password}, nil
}

// checkpoint is the state between pages.
type checkpoint struct {
	// Start is the startTimestamp of the run being read: where an expired
	// page token restarts (records are snapshots, so reading some twice
	// changes nothing).
	Start int64 `json:"start"`
	// Token is the nextPageToken of the following page, "" between runs.
	Token string `json:"token,omitempty"`
}

// Rewind implements exchange.Rewinder: an expired page token's run is read
// again from its start (records are snapshots: reading some twice changes
// nothing; the API does not promise an order to resume from within a run).
func (c *Client) Rewind(checkpointText string) string {
	var cp checkpoint
	if json.Unmarshal([]byte(checkpointText), &cp) != nil {
		return ""
	}
	return marshal(checkpoint{Start: cp.Start})
}

// FetchPage implements exchange.Client.
func (c *Client) FetchPage(ctx context.Context, checkpointText string) (exchange.Page, error) {
	var cp checkpoint
	if checkpointText != "" {
		if err := json.Unmarshal([]byte(checkpointText), &cp); err != nil {
			return exchange.Page{}, fmt.Errorf("stopncii: bad checkpoint: %w", err)
		}
	}
	status, body, err := c.fetch(ctx, cp)
	if err != nil && cp.Token != "" && (status == http.StatusBadRequest || status == http.StatusNotFound || status == http.StatusGone) {
		// The page token expired: the fetch loop rewinds.
		return exchange.Page{}, fmt.Errorf("stopncii: %w: %w", exchange.ErrCheckpointExpired, err)
	}
	if err != nil {
		return exchange.Page{}, err
	}
	p, err := ParsePage(body)
	if err != nil {
		return exchange.Page{}, err
	}
	out := exchange.Page{Entries: p.Entries, Skipped: p.Skipped}
	if !p.HasMore || p.NextPageToken == "" || len(p.Entries)+p.Skipped == 0 {
		next := p.NextSetTimestamp
		if next < cp.Start {
			// A server that goes back in time is not followed.
			next = cp.Start
		}
		out.Checkpoint = marshal(checkpoint{Start: next})
		out.Done = true
		return out, nil
	}
	out.Checkpoint = marshal(checkpoint{Start: cp.Start, Token: p.NextPageToken})
	return out, nil
}

func marshal(cp checkpoint) string {
	b, _ := json.Marshal(cp) // an int and a string always marshal
	return string(b)
}

func (c *Client) fetch(ctx context.Context, cp checkpoint) (int, []byte, error) {
	u := *c.base
	u.Path += "/FetchHashes"
	q := url.Values{}
	q.Set("startTimestamp", strconv.FormatInt(cp.Start, 10))
	q.Set("pageSize", strconv.Itoa(PageSize))
	if cp.Token != "" {
		q.Set("nextPageToken", cp.Token)
	}
	u.RawQuery = q.Encode()
	status, body, err := exchange.GetJSON(ctx, c.hc, u.String(), c.auth, c.Timeout, MaxPageBytes)
	if err != nil {
		return status, nil, fmt.Errorf("stopncii: %w", err)
	}
	return status, body, nil
}

func (c *Client) auth(req *http.Request) {
	req.Header.Set("Ocp-Apim-Subscription-Key", c.subscription)
	if c.function != "" {
		req.Header.Set("x-functions-key", c.function)
	}
}

// SendFeedback reports the hotline's review of a hash: Blocked for a
// confirmation, NotBlocked for a dispute. Feedback is a state per hash and
// provider, so sending the same one twice leaves one.
func (c *Client) SendFeedback(ctx context.Context, f exchange.Feedback) error {
	var value string
	switch f.Verdict {
	case exchange.VerdictConfirm:
		value = FeedbackConfirm
	case exchange.VerdictDispute:
		value = FeedbackDispute
	default:
		return fmt.Errorf("stopncii: unknown verdict %q", f.Verdict)
	}
	if f.Signal != vigil.SignalPDQ && f.Signal != vigil.SignalMD5 {
		return fmt.Errorf("stopncii: no feedback on %s hashes", f.Signal)
	}
	hv, err := vigil.NormalizeSignalValue(f.Signal, f.Value)
	if err != nil {
		return fmt.Errorf("stopncii: feedback: %w", err)
	}
	payload, err := json.Marshal(map[string]any{
		"count": 1,
		"hashFeedbacks": []map[string]any{{
			"hashValue": hv, "feedbackValue": value, "tags": []string{},
		}},
	})
	if err != nil {
		return fmt.Errorf("stopncii: %w", err)
	}
	u := *c.base
	u.Path += "/SubmitFeedback"
	if _, _, err := exchange.Post(ctx, c.hc, u.String(), "application/json", bytes.NewReader(payload), c.auth, c.Timeout, maxFeedbackBytes); err != nil {
		return fmt.Errorf("stopncii: feedback: %w", err)
	}
	return nil
}

// ParsedPage is one FetchHashes answer.
type ParsedPage struct {
	Entries          []exchange.Entry
	Skipped          int
	NextPageToken    string
	NextSetTimestamp int64
	HasMore          bool
}

type hashRecord struct {
	LastModTimestamp int64  `json:"lastModtimestamp"`
	SignalType       string `json:"signalType"`
	HashValue        string `json:"hashValue"`
	HashStatus       string `json:"hashStatus"`
}

// MaxTokenLen bounds a page token kept in a checkpoint.
const MaxTokenLen = 4096

// ParsePage reads a FetchHashes answer. Records of signal types Vigil does
// not hold (TMK, text, URL) or with a malformed hash are skipped and
// counted; Withdrawn and Deleted records are deletions.
func ParsePage(body []byte) (ParsedPage, error) {
	var raw struct {
		Count            *int              `json:"count"`
		NextPageToken    string            `json:"nextPageToken"`
		NextSetTimestamp int64             `json:"nextSetTimestamp"`
		HasMoreRecords   bool              `json:"hasMoreRecords"`
		HashRecords      []json.RawMessage `json:"hashRecords"`
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		return ParsedPage{}, fmt.Errorf("stopncii: page is not a FetchHashes answer: %w", err)
	}
	if raw.Count == nil || raw.HashRecords == nil && *raw.Count != 0 {
		return ParsedPage{}, errors.New("stopncii: page is not a FetchHashes answer: no count or hashRecords")
	}
	if len(raw.NextPageToken) > MaxTokenLen {
		return ParsedPage{}, fmt.Errorf("stopncii: nextPageToken longer than %d bytes", MaxTokenLen)
	}
	if raw.NextSetTimestamp < 0 || raw.NextSetTimestamp > 1<<40 {
		return ParsedPage{}, fmt.Errorf("stopncii: nextSetTimestamp %d out of range", raw.NextSetTimestamp)
	}
	out := ParsedPage{NextPageToken: raw.NextPageToken, NextSetTimestamp: raw.NextSetTimestamp, HasMore: raw.HasMoreRecords,
		Entries: make([]exchange.Entry, 0, len(raw.HashRecords))}
	for _, r := range raw.HashRecords {
		var h hashRecord
		if err := json.Unmarshal(r, &h); err != nil {
			out.Skipped++
			continue
		}
		var sig vigil.SignalType
		switch h.SignalType {
		case "ImagePDQ":
			sig = vigil.SignalPDQ
		case "VideoMD5":
			sig = vigil.SignalMD5
		default:
			out.Skipped++
			continue
		}
		v, err := vigil.NormalizeSignalValue(sig, h.HashValue)
		if err != nil {
			out.Skipped++
			continue
		}
		e := exchange.Entry{Signal: sig, Value: v, Deleted: h.HashStatus == "Withdrawn" || h.HashStatus == "Deleted"}
		if h.LastModTimestamp > 0 && h.LastModTimestamp < 1<<40 {
			e.UpdatedAt = time.Unix(h.LastModTimestamp, 0).UTC()
		}
		out.Entries = append(out.Entries, e)
	}
	return out, nil
}
