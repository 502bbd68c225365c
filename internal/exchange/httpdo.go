package exchange

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// DefaultRequestTimeout bounds one request, body included: a service that
// stalls or trickles is cut off and the request retried.
const DefaultRequestTimeout = 60 * time.Second

// ErrBodyTooLarge says a response passed the client's bound.
var ErrBodyTooLarge = errors.New("exchange: response body too large")

// Do sends req through hc with a deadline of timeout (DefaultRequestTimeout
// if zero) and reads at most maxBody bytes of the answer. A 2xx status gives
// the body; 429, 5xx, timeouts and dropped connections give a
// *RetryableError (with the Retry-After the service asked for); any other
// status gives an error naming it and the start of the body. Errors name
// the request without its query string or user info, where tokens travel.
func Do(ctx context.Context, hc *http.Client, req *http.Request, timeout time.Duration, maxBody int64) (int, []byte, error) {
	if timeout <= 0 {
		timeout = DefaultRequestTimeout
	}
	rctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req = req.WithContext(rctx)
	where := req.Method + " " + RedactURL(req.URL)
	resp, err := hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return 0, nil, fmt.Errorf("%s: %w", where, ctx.Err())
		}
		return 0, nil, &RetryableError{Err: fmt.Errorf("%s: %w", where, unwrapURLError(err))}
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		if ctx.Err() != nil {
			return 0, nil, fmt.Errorf("%s: %w", where, ctx.Err())
		}
		return 0, nil, &RetryableError{Err: fmt.Errorf("%s: reading body: %w", where, err)}
	}
	if int64(len(body)) > maxBody {
		return resp.StatusCode, nil, fmt.Errorf("%s: %w (over %d bytes)", where, ErrBodyTooLarge, maxBody)
	}
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return resp.StatusCode, body, nil
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		return resp.StatusCode, body, &RetryableError{
			After:  retryAfter(resp.Header.Get("Retry-After")),
			Status: resp.StatusCode,
			Err:    fmt.Errorf("%s: %s", where, resp.Status),
		}
	default:
		return resp.StatusCode, body, fmt.Errorf("%s: %s: %s", where, resp.Status, Snippet(body))
	}
}

// GetJSON is Do for a GET that wants a JSON answer, with the credentials
// auth puts in its headers (never in the URL, which errors and logs show).
func GetJSON(ctx context.Context, hc *http.Client, link string, auth func(*http.Request), timeout time.Duration, maxBody int64) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, link, nil)
	if err != nil {
		return 0, nil, err
	}
	auth(req)
	req.Header.Set("Accept", "application/json")
	return Do(ctx, hc, req, timeout, maxBody)
}

// Post is Do for a POST of body as contentType, with the credentials auth
// puts in its headers.
func Post(ctx context.Context, hc *http.Client, link, contentType string, body io.Reader, auth func(*http.Request), timeout time.Duration, maxBody int64) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, link, body)
	if err != nil {
		return 0, nil, err
	}
	auth(req)
	req.Header.Set("Content-Type", contentType)
	return Do(ctx, hc, req, timeout, maxBody)
}

// MaxRetryAfter caps the wait a service may ask for.
const MaxRetryAfter = 10 * time.Minute

func retryAfter(h string) time.Duration {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0
	}
	if s, err := strconv.Atoi(h); err == nil && s >= 0 {
		return min(time.Duration(s)*time.Second, MaxRetryAfter)
	}
	if t, err := http.ParseTime(h); err == nil {
		return min(max(time.Until(t), 0), MaxRetryAfter)
	}
	return 0
}

// Snippet is the start of a body for an error message: printable, short.
func Snippet(b []byte) string {
	const n = 120
	s := string(b)
	if len(s) > n {
		s = s[:n] + "…"
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == 0xfffd {
			return ' '
		}
		return r
	}, s)
}

// RedactURL is u without user info, query or fragment: what may appear in
// an error or a log.
func RedactURL(u *url.URL) string {
	if u == nil {
		return ""
	}
	c := *u
	c.User = nil
	c.RawQuery = ""
	c.ForceQuery = false
	c.Fragment = ""
	c.RawFragment = ""
	return c.String()
}

// unwrapURLError drops the *url.Error wrapper, whose message holds the
// whole URL (and so any token in its query).
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		if ue.Timeout() {
			return fmt.Errorf("timed out: %w", ue.Err)
		}
		return ue.Err
	}
	return err
}
