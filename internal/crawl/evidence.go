package crawl

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"time"
)

// Evidence records one fetch as it happened: what was asked, where it led,
// which addresses were involved and what came back. It is stored with the
// case, so every field is exported and JSON-serialisable.
type Evidence struct {
	RequestedURL string         `json:"requested_url"`
	Redirects    []Hop          `json:"redirects,omitempty"`
	FinalURL     string         `json:"final_url"`
	Status       int            `json:"status,omitempty"`
	Proto        string         `json:"proto,omitempty"`
	Header       http.Header    `json:"header,omitempty"`
	ResolvedIPs  []netip.Addr   `json:"resolved_ips,omitempty"`
	Connected    netip.AddrPort `json:"connected,omitzero"`
	Started      time.Time      `json:"started"`
	Duration     time.Duration  `json:"duration_ns"`
	Attempts     int            `json:"attempts"`
	// Bytes counts the body bytes read (decoded, when the server
	// compressed them); for a body refused as too large it is how far
	// reading got.
	Bytes int64 `json:"bytes"`
	// SHA256 is the hex digest of the complete decoded body; empty when
	// the body was not read to the end.
	SHA256 string `json:"sha256,omitempty"`
	// ContentType is what the server declared; Sniffed and Class come from
	// the bytes, which is what counts.
	ContentType string `json:"content_type,omitempty"`
	Sniffed     string `json:"sniffed,omitempty"`
	Class       Class  `json:"class,omitempty"`
	// Reason is a machine-readable code and Error a sentence, both empty
	// when the fetch succeeded.
	Reason Reason `json:"reason,omitempty"`
	Error  string `json:"error,omitempty"`
	// Render is the page rendered in a browser, when it was.
	Render *RenderEvidence `json:"render,omitempty"`
}

// RenderEvidence is what a page rendered in a headless browser did: every
// request it made, each through Vigil's proxy and its checks, and the media
// the rendered page loaded or showed.
type RenderEvidence struct {
	Started  time.Time        `json:"started"`
	Duration time.Duration    `json:"duration_ns"`
	Requests []ProxiedRequest `json:"requests"`
	Media    []string         `json:"media,omitempty"`
	// PeakMemory is the most the browser's processes held together
	// (proportional set size), as the memory watch last saw it.
	PeakMemory int64 `json:"peak_memory_bytes,omitempty"`
	// Reason and Error say why the render ended early or failed.
	Reason string `json:"reason,omitempty"`
	Error  string `json:"error,omitempty"`
}

// ProxiedRequest is one request of a browser through the proxy: a GET
// fetched (and its redirects followed) by the Fetcher, or a CONNECT tunnel
// to an address the Dialer checked.
type ProxiedRequest struct {
	Method    string         `json:"method"`
	URL       string         `json:"url"`
	FinalURL  string         `json:"final_url,omitempty"`
	Status    int            `json:"status,omitempty"`
	Connected netip.AddrPort `json:"connected,omitzero"`
	Started   time.Time      `json:"started"`
	Duration  time.Duration  `json:"duration_ns"`
	Bytes     int64          `json:"bytes"`
	Class     Class          `json:"class,omitempty"`
	Reason    Reason         `json:"reason,omitempty"`
	Error     string         `json:"error,omitempty"`
}

// Hop is one redirect response in a chain.
type Hop struct {
	URL         string         `json:"url"`
	Status      int            `json:"status"`
	Location    string         `json:"location"`
	ResolvedIPs []netip.Addr   `json:"resolved_ips,omitempty"`
	Connected   netip.AddrPort `json:"connected,omitzero"`
}

// OK reports whether the fetch completed with a 2xx status.
func (e *Evidence) OK() bool { return e.Reason == "" && e.Status >= 200 && e.Status < 300 }

// Reason classifies why a fetch failed.
type Reason string

// Reasons. Retryable ones are worth another try later; the others would
// fail the same way again.
const (
	ReasonRefused          Reason = "refused"
	ReasonTooLarge         Reason = "too_large"
	ReasonTooManyRedirects Reason = "too_many_redirects"
	ReasonRedirectLoop     Reason = "redirect_loop"
	ReasonBadURL           Reason = "bad_url"
	ReasonTimeout          Reason = "timeout"
	ReasonDNS              Reason = "dns"
	ReasonNetwork          Reason = "network"
	ReasonHTTPStatus       Reason = "http_status"
	ReasonDecode           Reason = "decode"
	ReasonCanceled         Reason = "canceled"
)

// Retryable reports whether a later attempt might succeed.
func (r Reason) Retryable() bool {
	switch r {
	case ReasonTimeout, ReasonDNS, ReasonNetwork, ReasonHTTPStatus:
		return true
	}
	return false
}

// FetchError is the error of a failed fetch; its message is what Evidence
// records as Error.
type FetchError struct {
	Reason Reason
	Msg    string
	Err    error
}

func (e *FetchError) Error() string { return e.Msg }
func (e *FetchError) Unwrap() error { return e.Err }

// ReasonOf returns the Reason of a fetch error, "" for nil.
func ReasonOf(err error) Reason {
	var fe *FetchError
	switch {
	case err == nil:
		return ""
	case errors.As(err, &fe):
		return fe.Reason
	}
	return classifyErr(err).Reason
}

// classifyErr turns a transport error into a FetchError with a reason.
func classifyErr(err error) *FetchError {
	var (
		fe  *FetchError
		re  *RefusedError
		rse *ResolveError
		ne  net.Error
	)
	switch {
	case errors.As(err, &fe):
		return fe
	case errors.As(err, &re):
		return &FetchError{Reason: ReasonRefused, Msg: re.Error(), Err: err}
	case errors.As(err, &rse):
		return &FetchError{Reason: ReasonDNS, Msg: rse.Error(), Err: err}
	case errors.Is(err, errTotalTimeout):
		return &FetchError{Reason: ReasonTimeout, Msg: "timeout: fetch took too long", Err: err}
	case errors.Is(err, errIdleTimeout):
		return &FetchError{Reason: ReasonTimeout, Msg: "timeout: no data received for too long", Err: err}
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return &FetchError{Reason: ReasonTimeout, Msg: "timeout: " + err.Error(), Err: err}
	case errors.Is(err, context.Canceled):
		return &FetchError{Reason: ReasonCanceled, Msg: "canceled", Err: err}
	}
	return &FetchError{Reason: ReasonNetwork, Msg: "network: " + err.Error(), Err: err}
}

var (
	errTotalTimeout = errors.New("total fetch timeout")
	errIdleTimeout  = errors.New("idle body timeout")
)

// ClassifyDialErr turns an error of Dialer.DialContext into a FetchError
// with its reason (refused, dns, network, …), for a dial made outside a
// fetch: the render proxy's tunnels.
func ClassifyDialErr(err error) *FetchError { return classifyErr(err) }
