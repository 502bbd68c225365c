// Package stopnciitest is a fake StopNCII.org hash API on loopback, for
// tests. StopNCII publishes no open reference; the fake follows what the
// open-source python-threatexchange client
// (threatexchange/exchanges/clients/stopncii/api.py) sends and reads:
// GET /v1/FetchHashes?startTimestamp=&pageSize=&nextPageToken= with the
// Ocp-Apim-Subscription-Key (and x-functions-key) headers, answering
// {count, nextPageToken, nextSetTimestamp, hasMoreRecords, hashRecords};
// POST /v1/SubmitFeedback with {count, hashFeedbacks}.
//
// Its clock is logical: every change gets the next timestamp, and a run
// started at startTimestamp covers the changes before the run began, its
// nextSetTimestamp being where the following run starts. Faults: page
// tokens that expire, 429 and 5xx answers, stalls, hand-made answers.
package stopnciitest

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"sync"

	"github.com/vigil-hotline/vigil/internal/exchange/exchangetest"
)

// Record is one hash in the fake's list.
type Record struct {
	SignalType string // ImagePDQ, VideoMD5, VideoTMK, ...
	HashValue  string
	HashStatus string // Active, Received, Withdrawn, Deleted
	LastMod    int64
}

// Feedback is one feedback the fake received.
type Feedback struct {
	HashValue     string
	FeedbackValue string
}

// Server is the fake.
type Server struct {
	*httptest.Server
	exchangetest.Faults // Fault, Stall
	SubscriptionKey     string
	FunctionKey         string

	mu       sync.Mutex
	clock    int64
	records  map[string]*Record // by hash value
	tokens   exchangetest.Cursors[run]
	feedback []Feedback
}

type run struct {
	start, end int64
	offset     int
	size       int
}

// New starts a fake that wants these keys (functionKey may be empty).
func New(subscriptionKey, functionKey string) *Server {
	s := &Server{SubscriptionKey: subscriptionKey, FunctionKey: functionKey, clock: 1_700_000_000,
		records: map[string]*Record{}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// BaseURL is the API base, as an exchange's --url.
func (s *Server) BaseURL() string { return s.Server.URL + "/v1" }

// Put adds or replaces a record, stamped with the next tick.
func (s *Server) Put(r Record) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clock++
	r.LastMod = s.clock
	if r.HashStatus == "" {
		r.HashStatus = "Active"
	}
	s.records[r.HashValue] = &r
}

// Withdraw marks a record withdrawn by its victim.
func (s *Server) Withdraw(hash string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r, ok := s.records[hash]; ok {
		s.clock++
		r.HashStatus, r.LastMod = "Withdrawn", s.clock
	}
}

// ExpireTokens makes every page token handed out so far invalid.
func (s *Server) ExpireTokens() {
	s.tokens.Expire()
}

// Fail answers the next n requests with status.
func (s *Server) Fail(n, status int) {
	s.FailWith(n, status, `{"message":"fake failure"}`)
}

// Feedback returns the feedback received, in order.
func (s *Server) Feedback() []Feedback {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Feedback(nil), s.feedback...)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if s.Answer(w) {
		return
	}
	if r.Header.Get("Ocp-Apim-Subscription-Key") != s.SubscriptionKey ||
		s.FunctionKey != "" && r.Header.Get("x-functions-key") != s.FunctionKey {
		writeJSON(w, http.StatusUnauthorized, map[string]any{"statusCode": 401, "message": "Access denied due to invalid subscription key."})
		return
	}
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/v1/FetchHashes":
		s.fetch(w, r)
	case r.Method == http.MethodPost && r.URL.Path == "/v1/SubmitFeedback":
		s.submitFeedback(w, r)
	default:
		writeJSON(w, http.StatusNotFound, map[string]any{"message": "Resource not found"})
	}
}

func (s *Server) fetch(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	s.mu.Lock()
	defer s.mu.Unlock()
	var rn run
	if tok := q.Get("nextPageToken"); tok != "" {
		var ok bool
		if rn, ok = s.tokens.Take(tok); !ok {
			writeJSON(w, http.StatusBadRequest, map[string]any{"message": "nextPageToken is invalid or expired"})
			return
		}
	} else {
		start, err1 := strconv.ParseInt(q.Get("startTimestamp"), 10, 64)
		size, err2 := strconv.Atoi(q.Get("pageSize"))
		if err1 != nil || err2 != nil || size <= 0 {
			writeJSON(w, http.StatusBadRequest, map[string]any{"message": "bad startTimestamp or pageSize"})
			return
		}
		rn = run{start: start, end: s.clock + 1, size: min(size, 1000)}
	}
	var rs []*Record
	for _, rec := range s.records {
		if rec.LastMod >= rn.start && rec.LastMod < rn.end {
			rs = append(rs, rec)
		}
	}
	sort.Slice(rs, func(i, j int) bool { return rs[i].LastMod < rs[j].LastMod })
	end := min(rn.offset+rn.size, len(rs))
	page := make([]map[string]any, 0, end-rn.offset)
	for _, rec := range rs[min(rn.offset, end):end] {
		page = append(page, map[string]any{
			"lastModtimestamp": rec.LastMod, "signalType": rec.SignalType, "hashValue": rec.HashValue,
			"hashStatus": rec.HashStatus, "caseNumbers": map[string]string{}, "CSPFeedbacks": []any{},
		})
	}
	out := map[string]any{"count": len(page), "hashRecords": page, "nextSetTimestamp": rn.end, "hasMoreRecords": end < len(rs), "nextPageToken": ""}
	if end < len(rs) {
		out["nextPageToken"] = s.tokens.Issue(run{start: rn.start, end: rn.end, offset: end, size: rn.size})
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) submitFeedback(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Count         int `json:"count"`
		HashFeedbacks []struct {
			HashValue     string `json:"hashValue"`
			FeedbackValue string `json:"feedbackValue"`
		} `json:"hashFeedbacks"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&in); err != nil || in.Count != len(in.HashFeedbacks) {
		writeJSON(w, http.StatusBadRequest, map[string]any{"message": "bad feedback"})
		return
	}
	s.mu.Lock()
	for _, f := range in.HashFeedbacks {
		s.feedback = append(s.feedback, Feedback{HashValue: f.HashValue, FeedbackValue: f.FeedbackValue})
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"count": len(in.HashFeedbacks)})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
