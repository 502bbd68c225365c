package web

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/federation"
)

// Bounds of a published list's page.
const (
	publishReadPage = 2000
	maxPublishLimit = 10000
)

// publishedEntry is one line of the list, in a form `vigil bank import`
// and an http-list exchange read: type, value, classification and id (the
// entry's ID here, the partner's upstream id).
type publishedEntry struct {
	Type           vigil.SignalType `json:"type"`
	Value          string           `json:"value"`
	Classification string           `json:"classification,omitempty"`
	ID             string           `json:"id"`
}

// handleAPIExchangeList serves the hotline's own confirmed hashes as JSON
// lines: the whole list, or with limit one page of entries after the ID
// after (a Link header names the next page). Entries that came from an
// exchange are not republished (they are another organisation's), nor
// suppressed ones, nor video hashes (exchanged as bank files). The body
// is signed while it streams: the trailer Vigil-Signature is Ed25519ph
// over its SHA-512, by the key in the Vigil-Key header (see
// federation.VerifyList).
func (s *Server) handleAPIExchangeList(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var after int64
	limit := -1
	var err error
	if v := q.Get("after"); v != "" {
		if after, err = strconv.ParseInt(v, 10, 64); err != nil || after < 0 {
			writeJSONError(w, http.StatusBadRequest, "after must be an entry ID (a whole number)")
			return
		}
	}
	if v := q.Get("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit < 1 || limit > maxPublishLimit {
			writeJSONError(w, http.StatusBadRequest, fmt.Sprintf("limit must be between 1 and %d", maxPublishLimit))
			return
		}
	}
	ctx := r.Context()
	bank, err := s.cfg.Publish.Banks.FindBankByName(ctx, vigil.HotlineBank)
	if err != nil && !vigil.IsNotFound(err) {
		s.writeAPIError(w, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/x-ndjson")
	h.Set(federation.HeaderKey, federation.PublicKey(s.cfg.Publish.Key))
	h.Set("Trailer", federation.HeaderSignature)
	// The first page is read before the status is sent, so that a failing
	// store answers 500 rather than an empty list.
	var page []*vigil.BankEntry
	if bank != nil {
		if page, err = s.cfg.Publish.Banks.BankEntries(ctx, bank.ID, after, publishReadPage); err != nil {
			s.writeAPIError(w, err)
			return
		}
	}
	sig := federation.NewListSigner(s.cfg.Publish.Key)
	// The whole list streams; a page (at most maxPublishLimit short
	// lines) is held until its Link header is known.
	var out io.Writer = w
	var held bytes.Buffer
	if limit >= 0 {
		out = &held
	}
	bw := bufio.NewWriterSize(out, 64<<10)
	enc := json.NewEncoder(writerPair{bw, sig})
	sent, last := 0, after
	more := false
	for len(page) > 0 {
		for _, e := range page {
			if limit >= 0 && sent == limit {
				more = true
				break
			}
			last = e.ID
			if e.ExchangeID != 0 || e.Suppressed != "" || e.Signal == vigil.SignalVPDQ {
				continue
			}
			if err := enc.Encode(publishedEntry{Type: e.Signal, Value: e.Value, Classification: e.Classification,
				ID: strconv.FormatInt(e.ID, 10)}); err != nil {
				return // the client went away
			}
			sent++
		}
		if more || len(page) < publishReadPage {
			break
		}
		if page, err = s.cfg.Publish.Banks.BankEntries(ctx, bank.ID, last, publishReadPage); err != nil {
			// Headers are gone: end the body unsigned, which a partner
			// takes for a failed read.
			s.logger.Error("published list", "err", err)
			return
		}
	}
	if err := bw.Flush(); err != nil {
		return
	}
	if more {
		next := url.Values{"after": {strconv.FormatInt(last, 10)}, "limit": {strconv.Itoa(limit)}}
		h.Set("Link", "<"+r.URL.Path+"?"+next.Encode()+`>; rel="next"`)
	}
	if limit >= 0 {
		if _, err := held.WriteTo(w); err != nil {
			return
		}
	}
	signature, err := sig.Sign()
	if err != nil {
		s.logger.Error("signing the published list", "err", err)
		return
	}
	h.Set(federation.HeaderSignature, signature)
}

// writerPair writes to both the response and the signature.
type writerPair struct {
	w   *bufio.Writer
	sig *federation.ListSigner
}

func (p writerPair) Write(b []byte) (int, error) {
	_, _ = p.sig.Write(b) // a hash never fails
	return p.w.Write(b)
}
