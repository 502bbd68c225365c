package federation

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/vigil-hotline/vigil"
)

// Partners finds a partner by name.
type Partners interface {
	FindPartner(ctx context.Context, name string) (*vigil.Partner, error)
}

// Client posts signed referrals and status updates to partners.
type Client struct {
	Key      ed25519.PrivateKey
	Partners Partners
	// HTTP defaults to a client with a 30-second timeout that follows no
	// redirects: a partner's API answers where it was configured.
	HTTP *http.Client
	Now  func() time.Time
}

// SendError is a refused or failed post. Permanent ones (a 4xx other than
// 408 and 429: the partner refused the request as it is) are not retried.
type SendError struct {
	Status    int
	Message   string
	Permanent bool
}

func (e *SendError) Error() string {
	if e.Status == 0 {
		return e.Message
	}
	return fmt.Sprintf("partner answered %d: %s", e.Status, e.Message)
}

// Permanent reports whether err says that sending again cannot help.
func Permanent(err error) bool {
	var se *SendError
	return errors.As(err, &se) && se.Permanent
}

func (c *Client) httpClient() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return &http.Client{Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func (c *Client) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

// post sends body to the partner's path, signed, with our API key at it,
// and returns the partner's answer (bounded).
func (c *Client) post(ctx context.Context, p *vigil.Partner, path string, body []byte) (string, error) {
	return c.send(ctx, p, http.MethodPost, path, "application/json", body)
}

// send is post with any method and content type.
func (c *Client) send(ctx context.Context, p *vigil.Partner, method, path, contentType string, body []byte) (string, error) {
	if !p.IsVigil() {
		return "", &SendError{Message: fmt.Sprintf("partner %q does not run Vigil (no URL)", p.Name), Permanent: true}
	}
	req, err := http.NewRequestWithContext(ctx, method, p.BaseURL+path, bytes.NewReader(body))
	if err != nil {
		return "", &SendError{Message: err.Error(), Permanent: true}
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Authorization", "Bearer "+p.APIKey)
	Sign(req, c.Key, body, c.now())
	resp, err := c.httpClient().Do(req)
	if err != nil {
		return "", &SendError{Message: err.Error()}
	}
	defer resp.Body.Close()
	reply, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	msg := strings.TrimSpace(string(reply))
	var refusal struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(reply, &refusal) == nil && refusal.Error != "" {
		msg = refusal.Error
	}
	msg = truncate(msg, 500)
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return fmt.Sprintf("%d %s", resp.StatusCode, msg), nil
	case resp.StatusCode == http.StatusRequestTimeout || resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		return "", &SendError{Status: resp.StatusCode, Message: msg}
	default:
		return "", &SendError{Status: resp.StatusCode, Message: msg, Permanent: true}
	}
}

// Refer posts a stored referral (an outbound message of kind referral) to
// its partner.
func (c *Client) Refer(ctx context.Context, m *vigil.Outbound) (string, error) {
	p, err := c.Partners.FindPartner(ctx, m.Recipient)
	if err != nil {
		if vigil.IsNotFound(err) {
			return "", &SendError{Message: vigil.ErrorMessage(err), Permanent: true}
		}
		return "", err
	}
	return c.post(ctx, p, "/api/v1/referrals", m.Raw)
}

// SendStatus posts a status update about the partner's case ref.
func (c *Client) SendStatus(ctx context.Context, p *vigil.Partner, st *vigil.ReferralStatus) (string, error) {
	body, err := json.Marshal(StatusUpdate{Reference: st.CaseRef, Status: Status(st.Status), At: st.At.UTC(),
		Classification: st.Classification, Detail: st.Detail})
	if err != nil {
		return "", &SendError{Message: err.Error(), Permanent: true}
	}
	return c.post(ctx, p, "/api/v1/referrals/"+url.PathEscape(st.CaseRef)+"/status", body)
}
