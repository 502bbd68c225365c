// Package threatexchangetest is a fake ThreatExchange on loopback, for
// tests. It follows Meta's Graph API reference for ThreatExchange as
// published at developers.facebook.com/docs/threat-exchange/reference/apis
// ("Threat Updates": GET /{privacy-group-id}/threat_updates with
// start_time, stop_time, limit, types, fields; records with id, indicator,
// type, last_updated, should_delete, tags; cursor paging with paging.next;
// "Reacting": POST /{descriptor-id} with reactions) and what the
// open-source python-threatexchange client expects of it. The app token is
// accepted as the access_token parameter or an "OAuth" Authorization
// header, as the Graph API does.
//
// Faults for tests: cursors that expire, answers of 429 or 5xx, a stall
// longer than the client's timeout, and any hand-made answer.
package threatexchangetest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vigil-hotline/vigil/internal/exchange/exchangetest"
)

// Descriptor is one threat descriptor in the fake's privacy group.
type Descriptor struct {
	ID          string
	Type        string // HASH_PDQ, HASH_MD5, HASH_VPDQ, ...
	Indicator   string
	Tags        []string
	LastUpdated int64
	Deleted     bool
}

// Server is the fake.
type Server struct {
	*httptest.Server
	exchangetest.Faults // Fault, Stall
	Group               string
	Token               string

	mu          sync.Mutex
	descriptors map[string]*Descriptor
	cursors     exchangetest.Cursors[cursor]
	reactions   map[string][]string
	requests    int
	nextID      int64
}

type cursor struct {
	since, until int64
	offset       int
	limit        int
}

// New starts a fake serving privacy group group to token.
func New(group, token string) *Server {
	s := &Server{Group: group, Token: token, descriptors: map[string]*Descriptor{},
		reactions: map[string][]string{}, nextID: 1000}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// URL is the privacy group's node, as an exchange's --url.
func (s *Server) GroupURL() string { return s.Server.URL + "/v21.0/" + s.Group }

// Add puts a descriptor (or a new version of it) in the group; an empty
// ID gets a fresh one, a zero LastUpdated the current time. It returns
// the ID.
func (s *Server) Add(d Descriptor) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d.ID == "" {
		s.nextID++
		d.ID = strconv.FormatInt(s.nextID, 10)
	}
	if d.LastUpdated == 0 {
		d.LastUpdated = time.Now().Unix()
	}
	s.descriptors[d.ID] = &d
	return d.ID
}

// Delete turns a descriptor into a tombstone (should_delete) updated now.
func (s *Server) Delete(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d, ok := s.descriptors[id]; ok {
		d.Deleted = true
		d.LastUpdated = time.Now().Unix()
	}
}

// ExpireCursors makes every cursor handed out so far invalid.
func (s *Server) ExpireCursors() {
	s.cursors.Expire()
}

// Fail answers the next n requests with status (429 with Retry-After: 0).
func (s *Server) Fail(n, status int) {
	s.FailWith(n, status, `{"error":{"message":"fake failure","type":"FakeException","code":2}}`)
}

// Reactions returns the reactions posted to a descriptor, in order.
func (s *Server) Reactions(id string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.reactions[id]...)
}

// Requests counts the requests served.
func (s *Server) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.requests++
	s.mu.Unlock()
	if s.Answer(w) {
		return
	}
	token := r.URL.Query().Get("access_token")
	if h, ok := strings.CutPrefix(r.Header.Get("Authorization"), "OAuth "); ok {
		token = h
	}
	if token != s.Token {
		graphError(w, http.StatusBadRequest, 190, "OAuthException", "Invalid OAuth access token.")
		return
	}
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	switch {
	case r.Method == http.MethodGet && len(parts) == 3 && parts[1] == s.Group && parts[2] == "threat_updates":
		s.threatUpdates(w, r)
	case r.Method == http.MethodPost && len(parts) == 2:
		s.react(w, r, parts[1])
	case r.Method == http.MethodGet && len(parts) == 2:
		s.descriptor(w, parts[1])
	default:
		graphError(w, http.StatusNotFound, 803, "OAuthException", "Unknown path components")
	}
}

func (s *Server) threatUpdates(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	s.mu.Lock()
	defer s.mu.Unlock()
	var c cursor
	if after := q.Get("after"); after != "" {
		var ok bool
		if c, ok = s.cursors.Take(after); !ok {
			graphError(w, http.StatusBadRequest, 100, "OAuthException", "Invalid cursor: the cursor has expired")
			return
		}
	} else {
		since, err1 := strconv.ParseInt(q.Get("start_time"), 10, 64)
		until, err2 := strconv.ParseInt(q.Get("stop_time"), 10, 64)
		if q.Get("start_time") == "" {
			since, err1 = 0, nil
		}
		if q.Get("stop_time") == "" {
			until, err2 = time.Now().Unix(), nil
		}
		limit, err3 := strconv.Atoi(q.Get("limit"))
		if err1 != nil || err2 != nil || err3 != nil || limit <= 0 {
			graphError(w, http.StatusBadRequest, 100, "OAuthException", "Invalid parameter")
			return
		}
		c = cursor{since: since, until: until, limit: min(limit, 1000)}
	}
	// The window's updates in last_updated order, as the reference says
	// threat_updates returns them.
	var ds []*Descriptor
	for _, d := range s.descriptors {
		if d.LastUpdated >= c.since && d.LastUpdated < c.until {
			ds = append(ds, d)
		}
	}
	sort.Slice(ds, func(i, j int) bool {
		if ds[i].LastUpdated != ds[j].LastUpdated {
			return ds[i].LastUpdated < ds[j].LastUpdated
		}
		return ds[i].ID < ds[j].ID
	})
	end := min(c.offset+c.limit, len(ds))
	if c.offset > end {
		c.offset = end
	}
	data := make([]map[string]any, 0, end-c.offset)
	for _, d := range ds[c.offset:end] {
		rec := map[string]any{
			"id": d.ID, "indicator": d.Indicator, "type": d.Type,
			"last_updated": d.LastUpdated, "should_delete": d.Deleted,
			"tags": d.Tags, "status": "MALICIOUS",
		}
		if d.Tags == nil {
			rec["tags"] = []string{}
		}
		data = append(data, rec)
	}
	out := map[string]any{"data": data}
	if end < len(ds) {
		key := s.cursors.Issue(cursor{since: c.since, until: c.until, offset: end, limit: c.limit})
		// Like the Graph API, the next link repeats the token.
		next := fmt.Sprintf("%s%s?access_token=%s&limit=%d&after=%s", s.Server.URL, r.URL.Path, s.Token, c.limit, key)
		out["paging"] = map[string]any{"cursors": map[string]string{"after": key}, "next": next}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(out)
}

func (s *Server) react(w http.ResponseWriter, r *http.Request, id string) {
	if err := r.ParseForm(); err != nil {
		graphError(w, http.StatusBadRequest, 100, "OAuthException", "bad form")
		return
	}
	reaction := r.PostForm.Get("reactions")
	s.mu.Lock()
	_, ok := s.descriptors[id]
	if ok && reaction != "" {
		s.reactions[id] = append(s.reactions[id], reaction)
	}
	s.mu.Unlock()
	if !ok {
		graphError(w, http.StatusNotFound, 100, "GraphMethodException", "Unsupported post request. Object does not exist")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(`{"success":true}`))
}

// descriptor answers GET /{descriptor-id}?fields=my_reactions: this app's
// reactions, each once.
func (s *Server) descriptor(w http.ResponseWriter, id string) {
	s.mu.Lock()
	_, ok := s.descriptors[id]
	var mine []string
	for _, r := range s.reactions[id] {
		if !slices.Contains(mine, r) {
			mine = append(mine, r)
		}
	}
	s.mu.Unlock()
	if !ok {
		graphError(w, http.StatusNotFound, 100, "GraphMethodException", "Object does not exist")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"id": id, "my_reactions": append([]string{}, mine...)})
}

func graphError(w http.ResponseWriter, status, code int, typ, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"message": msg, "type": typ, "code": code}})
}
