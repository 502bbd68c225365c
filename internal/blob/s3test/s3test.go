// Package s3test is an in-process S3 server for tests, on loopback only,
// holding objects in memory. It speaks as much of the S3 REST API as
// blob.S3 uses through minio-go: path-style PUT, GET, HEAD and DELETE of
// objects, HEAD and PUT of buckets, and GetBucketLocation.
//
// It does not verify SigV4 signatures (that would re-implement the
// client's signer and test nothing of ours). It does refuse a request
// without an AWS4-HMAC-SHA256 Authorization header or with another access
// key, so a client that forgot its credentials fails as it would against
// real storage. It decodes aws-chunked bodies (what minio-go sends over
// plain HTTP) and checks Content-MD5 and X-Amz-Content-Sha256 when they
// are given, so a body garbled on the way is caught.
package s3test

import (
	"bufio"
	"bytes"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Server is a fake S3 server.
type Server struct {
	// HTTP is the underlying test server; HTTP.Client().Transport trusts
	// its certificate when it was started with TLS.
	HTTP      *httptest.Server
	accessKey string
	region    string

	mu       sync.Mutex
	buckets  map[string]map[string]object
	requests []string
}

type object struct {
	data     []byte
	etag     string
	modified time.Time
	ctype    string
}

// NewServer starts a plain-HTTP server accepting accessKey. Region is what
// GetBucketLocation answers ("" means us-east-1, as on AWS).
func NewServer(accessKey, region string) *Server {
	s := newServer(accessKey, region)
	s.HTTP = httptest.NewServer(s)
	return s
}

// NewTLSServer starts an HTTPS server; use HTTP.Client().Transport to
// trust its certificate.
func NewTLSServer(accessKey, region string) *Server {
	s := newServer(accessKey, region)
	s.HTTP = httptest.NewTLSServer(s)
	return s
}

func newServer(accessKey, region string) *Server {
	return &Server{accessKey: accessKey, region: region, buckets: map[string]map[string]object{}}
}

// Close stops the server.
func (s *Server) Close() { s.HTTP.Close() }

// Endpoint is the server's host:port, the form minio-go wants.
func (s *Server) Endpoint() string {
	u, _ := url.Parse(s.HTTP.URL)
	return u.Host
}

// MakeBucket creates an empty bucket, as the operator of the storage would.
func (s *Server) MakeBucket(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.buckets[name] == nil {
		s.buckets[name] = map[string]object{}
	}
}

// HasBucket reports whether a bucket exists.
func (s *Server) HasBucket(name string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buckets[name] != nil
}

// Object returns the stored bytes of an object, as the server holds them.
func (s *Server) Object(bucket, key string) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.buckets[bucket][key]
	return bytes.Clone(o.data), ok
}

// Keys lists the keys of a bucket, sorted.
func (s *Server) Keys(bucket string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var keys []string
	for k := range s.buckets[bucket] {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// Requests lists the requests served so far as "METHOD PATH[?QUERY]".
func (s *Server) Requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

type errorBody struct {
	XMLName    xml.Name `xml:"Error"`
	Code       string
	Message    string
	BucketName string `xml:",omitempty"`
	Key        string `xml:",omitempty"`
	Resource   string
	RequestID  string `xml:"RequestId"`
}

// fail writes an S3 error. HEAD answers carry no body, so the code also
// goes in x-minio-error-code, as MinIO sends it, for the client to read.
func fail(w http.ResponseWriter, r *http.Request, status int, code, msg, bucket, key string) {
	w.Header().Set("x-amz-request-id", "fake")
	w.Header().Set("x-minio-error-code", code)
	if r.Method == http.MethodHead {
		w.WriteHeader(status)
		return
	}
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	b, _ := xml.Marshal(errorBody{Code: code, Message: msg, BucketName: bucket, Key: key, Resource: r.URL.Path, RequestID: "fake"})
	w.Write(append([]byte(xml.Header), b...))
}

// ServeHTTP implements the path-style S3 API: /BUCKET and /BUCKET/KEY.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	line := r.Method + " " + r.URL.Path
	if r.URL.RawQuery != "" {
		line += "?" + r.URL.RawQuery
	}
	s.requests = append(s.requests, line)
	s.mu.Unlock()

	bucket, key, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	if code, msg := s.authorize(r); code != "" {
		fail(w, r, http.StatusForbidden, code, msg, bucket, key)
		return
	}
	if bucket == "" {
		fail(w, r, http.StatusNotImplemented, "NotImplemented", "listing buckets is not implemented", "", "")
		return
	}
	if key == "" {
		s.serveBucket(w, r, bucket)
		return
	}
	s.serveObject(w, r, bucket, key)
}

// authorize checks that a request is signed (header form only) with the
// server's access key; the signature itself is not verified.
func (s *Server) authorize(r *http.Request) (code, msg string) {
	auth := r.Header.Get("Authorization")
	cred, ok := strings.CutPrefix(auth, "AWS4-HMAC-SHA256 Credential=")
	if !ok {
		return "AccessDenied", "request is not signed with AWS4-HMAC-SHA256"
	}
	if ak, _, _ := strings.Cut(cred, "/"); ak != s.accessKey {
		return "InvalidAccessKeyId", "unknown access key"
	}
	return "", ""
}

func (s *Server) serveBucket(w http.ResponseWriter, r *http.Request, bucket string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	exists := s.buckets[bucket] != nil
	switch {
	case r.Method == http.MethodGet && r.URL.Query().Has("location"):
		if !exists {
			fail(w, r, http.StatusNotFound, "NoSuchBucket", "no such bucket", bucket, "")
			return
		}
		w.Header().Set("Content-Type", "application/xml")
		fmt.Fprintf(w, `%s<LocationConstraint xmlns="http://s3.amazonaws.com/doc/2006-03-01/">%s</LocationConstraint>`, xml.Header, s.region)
	case r.Method == http.MethodHead && len(r.URL.Query()) == 0:
		if !exists {
			fail(w, r, http.StatusNotFound, "NoSuchBucket", "no such bucket", bucket, "")
			return
		}
		w.WriteHeader(http.StatusOK)
	case r.Method == http.MethodPut && len(r.URL.Query()) == 0:
		_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, 1<<20)) // CreateBucketConfiguration, unread
		if exists {
			fail(w, r, http.StatusConflict, "BucketAlreadyOwnedByYou", "bucket exists", bucket, "")
			return
		}
		s.buckets[bucket] = map[string]object{}
		w.Header().Set("Location", "/"+bucket)
		w.WriteHeader(http.StatusOK)
	default:
		fail(w, r, http.StatusNotImplemented, "NotImplemented", r.Method+" on a bucket is not implemented", bucket, "")
	}
}

func (s *Server) serveObject(w http.ResponseWriter, r *http.Request, bucket, key string) {
	// Multipart uploads, copies, tagging and ranges are not implemented:
	// refuse them plainly rather than answer something wrong.
	if len(r.URL.Query()) > 0 || r.Header.Get("X-Amz-Copy-Source") != "" || r.Header.Get("Range") != "" {
		fail(w, r, http.StatusNotImplemented, "NotImplemented", "not implemented by s3test", bucket, key)
		return
	}
	var data []byte
	if r.Method == http.MethodPut {
		var err error
		if data, err = readBody(r); err != nil {
			fail(w, r, http.StatusBadRequest, "BadDigest", err.Error(), bucket, key)
			return
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	objects := s.buckets[bucket]
	if objects == nil {
		fail(w, r, http.StatusNotFound, "NoSuchBucket", "no such bucket", bucket, key)
		return
	}
	switch r.Method {
	case http.MethodPut:
		sum := md5.Sum(data)
		o := object{data: data, etag: `"` + hex.EncodeToString(sum[:]) + `"`,
			modified: time.Now().UTC().Truncate(time.Second), ctype: r.Header.Get("Content-Type")}
		objects[key] = o
		w.Header().Set("ETag", o.etag)
		w.WriteHeader(http.StatusOK)
	case http.MethodGet, http.MethodHead:
		o, ok := objects[key]
		if !ok {
			fail(w, r, http.StatusNotFound, "NoSuchKey", "no such key", bucket, key)
			return
		}
		h := w.Header()
		h.Set("ETag", o.etag)
		h.Set("Last-Modified", o.modified.Format(http.TimeFormat))
		h.Set("Content-Length", strconv.Itoa(len(o.data)))
		h.Set("Accept-Ranges", "bytes")
		if o.ctype != "" {
			h.Set("Content-Type", o.ctype)
		}
		w.WriteHeader(http.StatusOK)
		if r.Method == http.MethodGet {
			w.Write(o.data)
		}
	case http.MethodDelete:
		delete(objects, key)
		w.WriteHeader(http.StatusNoContent)
	default:
		fail(w, r, http.StatusMethodNotAllowed, "MethodNotAllowed", r.Method+" is not allowed", bucket, key)
	}
}

// readBody reads a PUT body, decoding aws-chunked framing and checking the
// digests the client sent.
func readBody(r *http.Request) ([]byte, error) {
	sha := r.Header.Get("X-Amz-Content-Sha256")
	var data []byte
	var err error
	if strings.HasPrefix(sha, "STREAMING-") || strings.Contains(r.Header.Get("Content-Encoding"), "aws-chunked") {
		data, err = decodeChunked(bufio.NewReader(r.Body))
		if err != nil {
			return nil, err
		}
		if want := r.Header.Get("X-Amz-Decoded-Content-Length"); want != "" && want != strconv.Itoa(len(data)) {
			return nil, fmt.Errorf("decoded length %d, header says %s", len(data), want)
		}
	} else {
		if data, err = io.ReadAll(r.Body); err != nil {
			return nil, err
		}
		if len(sha) == 64 {
			if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) != sha {
				return nil, errors.New("X-Amz-Content-Sha256 does not match the body")
			}
		}
	}
	if m := r.Header.Get("Content-Md5"); m != "" {
		if sum := md5.Sum(data); base64.StdEncoding.EncodeToString(sum[:]) != m {
			return nil, errors.New("Content-MD5 does not match the body")
		}
	}
	return data, nil
}

// decodeChunked reads aws-chunked framing: "HEXSIZE[;chunk-signature=…]\r\n"
// then the bytes and "\r\n", ending with a zero-size chunk and any
// trailers, which are ignored.
func decodeChunked(br *bufio.Reader) ([]byte, error) {
	var out []byte
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return nil, fmt.Errorf("aws-chunked: %w", err)
		}
		sizeHex, _, _ := strings.Cut(strings.TrimRight(line, "\r\n"), ";")
		n, err := strconv.ParseInt(sizeHex, 16, 64)
		if err != nil || n < 0 || n > 1<<30 {
			return nil, fmt.Errorf("aws-chunked: bad chunk size %q", sizeHex)
		}
		if n == 0 {
			_, _ = io.Copy(io.Discard, br) // the trailer, unread
			return out, nil
		}
		start := len(out)
		out = append(out, make([]byte, n)...)
		if _, err := io.ReadFull(br, out[start:]); err != nil {
			return nil, fmt.Errorf("aws-chunked: %w", err)
		}
		var crlf [2]byte
		if _, err := io.ReadFull(br, crlf[:]); err != nil || crlf != [2]byte{'\r', '\n'} {
			return nil, errors.New("aws-chunked: chunk not followed by CRLF")
		}
	}
}
