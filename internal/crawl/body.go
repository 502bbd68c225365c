package crawl

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// errLimit is returned by capReader past its limit.
var errLimit = errors.New("limit exceeded")

// capReader fails with errLimit once more than n bytes have been read,
// instead of the silent EOF of io.LimitReader, so that a truncated body is
// never mistaken for a complete one.
type capReader struct {
	r    io.Reader
	n    int64 // bytes still allowed
	read int64
}

func (c *capReader) Read(p []byte) (int, error) {
	if c.n < 0 {
		return 0, errLimit
	}
	if int64(len(p)) > c.n+1 {
		p = p[:c.n+1]
	}
	k, err := c.r.Read(p)
	c.n -= int64(k)
	c.read += int64(k)
	if c.n < 0 {
		return k, errLimit
	}
	return k, err
}

// idleReader cancels the exchange when no byte arrives for idle: a server
// that trickles or stalls is cut off before the total timeout where it can.
type idleReader struct {
	r    io.Reader
	t    *time.Timer
	idle time.Duration
}

func (i *idleReader) Read(p []byte) (int, error) {
	n, err := i.r.Read(p)
	if n > 0 {
		i.t.Reset(i.idle)
	}
	return n, err
}

// readBody reads resp's body, decompressing gzip, keeping at most maxBytes
// of raw and of decoded bytes. It returns the decoded body and the number of
// decoded bytes read, also on error.
func readBody(ctx context.Context, cancel context.CancelCauseFunc, resp *http.Response, maxBytes int64, idle time.Duration) ([]byte, int64, error) {
	t := time.AfterFunc(idle, func() { cancel(errIdleTimeout) })
	defer t.Stop()
	raw := &capReader{r: &idleReader{r: resp.Body, t: t, idle: idle}, n: maxBytes}
	var r io.Reader = raw
	gzipped := false
	switch enc := strings.ToLower(strings.TrimSpace(resp.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
	case "gzip", "x-gzip":
		gz, err := gzip.NewReader(raw)
		if err != nil {
			return nil, 0, readErr(ctx, raw, fmt.Errorf("gzip: %w", err), maxBytes, false)
		}
		defer gz.Close()
		r, gzipped = gz, true
	default:
		// Only gzip was asked for; anything else is kept as sent, and
		// sniffing will call it "other".
	}
	dec := &capReader{r: r, n: maxBytes}
	var buf bytes.Buffer
	if !gzipped && resp.ContentLength > 0 {
		// Trust a declared length only as far as a small pre-allocation.
		buf.Grow(int(min(resp.ContentLength, 1<<20)))
	}
	_, err := buf.ReadFrom(dec)
	if err != nil {
		return nil, dec.read, readErr(ctx, raw, err, maxBytes, gzipped)
	}
	return buf.Bytes(), dec.read, nil
}

func readErr(ctx context.Context, raw *capReader, err error, maxBytes int64, gzipped bool) error {
	if cerr := ctxErr(ctx); cerr != nil {
		return cerr
	}
	if errors.Is(err, errLimit) {
		what := "body"
		if gzipped {
			what = "decompressed body"
			if raw.n < 0 {
				what = "compressed body"
			}
		}
		return &FetchError{Reason: ReasonTooLarge, Err: err,
			Msg: fmt.Sprintf("too large: %s exceeds %d bytes", what, maxBytes)}
	}
	var corrupt flate.CorruptInputError
	if gzipped && (errors.Is(err, gzip.ErrHeader) || errors.Is(err, gzip.ErrChecksum) || errors.As(err, &corrupt)) {
		return &FetchError{Reason: ReasonDecode, Msg: "decode: " + err.Error(), Err: err}
	}
	return fmt.Errorf("read body: %w", err)
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
