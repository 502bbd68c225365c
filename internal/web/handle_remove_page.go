package web

import (
	"bytes"
	"compress/gzip"
	"net/http"
	"strings"
	"sync"
)

// removeCSP is the page's policy: the site's own, plus 'wasm-unsafe-eval'
// so that the page may compile the hashing module, and nothing else: no
// other origin can receive a byte.
var removeCSP = strings.Replace(contentSecurityPolicy, "script-src 'self'", "script-src 'self' 'wasm-unsafe-eval'", 1)

// handleRemovePage shows the victim's page: pictures and videos are
// chosen and hashed on the device; only hashes are sent, and only once
// the person confirms.
func (s *Server) handleRemovePage(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Security-Policy", removeCSP)
	lang := s.catalog.language(r)
	s.render(w, r, http.StatusOK, "remove", s.newPage(w, r, lang))
}

// handleHasherWasm serves the embedded hashing module as application/wasm,
// gzipped for browsers that accept it (a quarter of the size), the
// compressed copy made once on first use.
func (s *Server) handleHasherWasm() http.HandlerFunc {
	var once sync.Once
	var raw, gz []byte
	load := func() {
		var err error
		if raw, err = staticFS.ReadFile("static/hasher.wasm"); err != nil {
			return
		}
		var b bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
		_, _ = zw.Write(raw)
		if zw.Close() == nil {
			gz = b.Bytes()
		}
	}
	return func(w http.ResponseWriter, r *http.Request) {
		once.Do(load)
		if raw == nil {
			http.NotFound(w, r)
			return
		}
		h := w.Header()
		h.Set("Content-Type", "application/wasm")
		h.Set("Cache-Control", "public, max-age=3600")
		h.Add("Vary", "Accept-Encoding")
		body := raw
		if gz != nil && strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
			h.Set("Content-Encoding", "gzip")
			body = gz
		}
		_, _ = w.Write(body)
	}
}
