package exchange

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/vigil-hotline/vigil/internal/crawl"
)

// HTTPClient returns the client an exchange's fetches use: through the
// crawler's address guard (no private, loopback or metadata address, and
// the address checked is the address dialled), unless allowPrivate lets
// this one exchange reach an on-premises server. resolver nil uses the
// system's.
func HTTPClient(allowPrivate bool, resolver crawl.Resolver) *http.Client {
	tr := &http.Transport{
		// Never through a proxy from the environment: the guard checks the
		// address actually dialled.
		Proxy:                 nil,
		TLSHandshakeTimeout:   15 * time.Second,
		ResponseHeaderTimeout: time.Minute,
		IdleConnTimeout:       time.Minute,
		MaxIdleConnsPerHost:   2,
		ForceAttemptHTTP2:     true,
	}
	if allowPrivate {
		tr.DialContext = (&net.Dialer{Timeout: 15 * time.Second}).DialContext
	} else {
		tr.DialContext = (&crawl.Dialer{Resolver: resolver, Timeout: 15 * time.Second}).DialContext
	}
	return &http.Client{Transport: tr, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if len(via) >= 5 {
			return errors.New("exchange: more than 5 redirects")
		}
		return nil
	}}
}

// StatusError is an HTTP answer that is not a success. It never holds the
// body or the request's credentials.
type StatusError struct {
	Status int
	URL    string // without query: paging links may carry tokens
}

func (e *StatusError) Error() string {
	switch e.Status {
	case http.StatusUnauthorized, http.StatusForbidden:
		return fmt.Sprintf("%s answered %d: the credentials were refused", e.URL, e.Status)
	}
	return fmt.Sprintf("%s answered %d %s", e.URL, e.Status, http.StatusText(e.Status))
}

// CheckStatus turns a response that is not 2xx (or 304) into an error:
// retryable for 408, 425, 429 and 5xx (with the Retry-After asked for).
// The body is drained a little and closed.
func CheckStatus(resp *http.Response) error {
	if resp.StatusCode/100 == 2 || resp.StatusCode == http.StatusNotModified {
		return nil
	}
	_, _ = io.CopyN(io.Discard, resp.Body, 4096)
	_ = resp.Body.Close()
	err := &StatusError{Status: resp.StatusCode, URL: RedactURL(resp.Request.URL)}
	switch s := resp.StatusCode; {
	case s == http.StatusTooManyRequests || s == http.StatusRequestTimeout || s == http.StatusTooEarly || s >= 500:
		return &RetryableError{After: retryAfter(resp.Header.Get("Retry-After")), Status: s, Err: err}
	}
	return err
}

// TransportError classifies an error from sending a request or reading a
// body: refusals by the address guard and cancellations are final, network
// failures and timeouts retryable.
func TransportError(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	var refused *crawl.RefusedError
	var retry *RetryableError
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	case errors.As(err, &refused), errors.As(err, &retry), errors.Is(err, errTooLarge):
		return err
	}
	// A *url.Error's text holds the whole URL, query included, where a
	// list's token may travel.
	return &RetryableError{Err: unwrapURLError(err)}
}

var errTooLarge = errors.New("exchange: answer larger than allowed")

// limitedBody reads at most max bytes of r, then fails: an exchange's
// answer is bounded whatever it claims.
type limitedBody struct {
	r    io.ReadCloser
	left int64
}

func (l *limitedBody) Read(p []byte) (int, error) {
	if l.left <= 0 {
		return 0, errTooLarge
	}
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	return n, err
}

func (l *limitedBody) Close() error { return l.r.Close() }

// idleBody cancels the request when no byte arrives for idle: a server
// that stalls mid-body fails in bounded time (the client's overall
// timeout cannot be used for lists that take long to stream).
type idleBody struct {
	r      io.ReadCloser
	timer  *time.Timer
	idle   time.Duration
	cancel context.CancelFunc
}

func newIdleBody(r io.ReadCloser, idle time.Duration, cancel context.CancelFunc) *idleBody {
	return &idleBody{r: r, idle: idle, cancel: cancel, timer: time.AfterFunc(idle, cancel)}
}

func (b *idleBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if n > 0 {
		b.timer.Reset(b.idle)
	}
	return n, err
}

func (b *idleBody) Close() error {
	b.timer.Stop()
	err := b.r.Close()
	b.cancel()
	return err
}

// setAuth adds the configured credentials to a request.
func setAuth(req *http.Request, cfg Config) {
	switch {
	case cfg.Token != "":
		req.Header.Set("Authorization", "Bearer "+cfg.Token)
	case cfg.User != "":
		req.SetBasicAuth(cfg.User, cfg.Password)
	}
}

// open sends a GET and returns the response with its body bounded in size
// and in idle time; the caller closes the body.
func open(ctx context.Context, cfg Config, url string, header http.Header, max int64, idle time.Duration) (*http.Response, error) {
	rctx, cancel := context.WithCancel(ctx)
	req, err := http.NewRequestWithContext(rctx, http.MethodGet, url, nil)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("exchange: bad URL: %w", err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("User-Agent", "Vigil hash exchange")
	setAuth(req, cfg)
	resp, err := cfg.HTTP.Do(req)
	if err != nil {
		cancel()
		return nil, TransportError(ctx, err)
	}
	if err := CheckStatus(resp); err != nil {
		cancel()
		return nil, err
	}
	resp.Body = &limitedBody{r: newIdleBody(resp.Body, idle, cancel), left: max}
	return resp, nil
}
