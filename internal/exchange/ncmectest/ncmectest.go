// Package ncmectest is a fake of NCMEC's hash-sharing API on loopback, for
// tests and the exchange bench. It is written from the public description
// of the API: NCMEC's "Hash Sharing API v2" documentation
// (https://report.cybertip.org/hashsharing/v2/documentation.pdf) as its
// open-source clients read it (Meta's python-threatexchange,
// threatexchange/exchanges/clients/ncmec/hash_api.py, with its test
// fixtures): XML in the namespace https://hashsharing.ncmec.org/hashsharing/v2,
// basic authentication, GET /v2/status and GET /v2/entries?from=&to=
// answering a <queryResult> of <images> and <videos> (each with a
// maxTimestamp) holding <image>/<video> entries and
// <deletedImage>/<deletedVideo> withdrawals, and a <paging><next> link
// (/v2/entries?from=…&to=…&start=…&size=…&max=…) to the rest of the window.
//
// What the documents leave open is chosen here and said so: each entry
// carries a <timestamp> (its last change) and a <feedback> element; a next
// link expires (410 Gone) after LinkTTL; an entry is listed at its last
// change, so a withdrawn entry appears only as a deletion after it.
//
// The entries are generated, not stored: entry i has id "e<i>", a
// synthetic MD5 (and every third a synthetic PDQ, every fifth a PhotoDNA
// Vigil does not hold), and its timestamp is Start + i·Step. Ten million
// entries cost no memory.
package ncmectest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Namespace is the API's XML namespace.
const Namespace = "https://hashsharing.ncmec.org/hashsharing/v2"

const timeFormat = "2006-01-02T15:04:05.000Z"

// Options shape the fake.
type Options struct {
	User, Password string
	// Entries is the number of entries at the start.
	Entries int
	// Start and Step give entry i its timestamp Start + i·Step (defaults:
	// 2020-01-01 and a millisecond).
	Start time.Time
	Step  time.Duration
	// PageSize is the entries per page (default 1000, as NCMEC's).
	PageSize int
	// LinkTTL is how long a next link stays valid (0: for ever).
	LinkTTL time.Duration
	// PageDelay slows every page down (tests that kill a fetch midway).
	PageDelay time.Duration
	// Now is the fake's clock (default time.Now).
	Now func() time.Time
}

// Server is the fake.
type Server struct {
	*httptest.Server
	opts Options

	mu       sync.Mutex
	n        int           // entries so far
	extra    map[int]int64 // entry index → timestamp offset, for entries added later
	deleted  map[int]time.Time
	fail     []int // statuses to answer next, in order
	stall    int   // requests to hang until the client gives up
	expire   int   // next links to refuse as expired, whatever their age
	requests int
	pages    int
}

// New starts the fake on loopback; it stops when the test ends.
func New(t interface{ Cleanup(func()) }, opts Options) *Server {
	if opts.Start.IsZero() {
		opts.Start = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	if opts.Step <= 0 {
		opts.Step = time.Millisecond
	}
	if opts.PageSize <= 0 {
		opts.PageSize = 1000
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Server{opts: opts, n: opts.Entries, extra: map[int]int64{}, deleted: map[int]time.Time{}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

// BaseURL is the URL to configure the exchange with (NCMEC's
// environments are of the form https://host/npo).
func (s *Server) BaseURL() string { return s.URL + "/npo" }

// MD5 is entry i's synthetic MD5.
func MD5(i int) string {
	sum := sha256.Sum256([]byte("ncmectest md5 " + strconv.Itoa(i)))
	return hex.EncodeToString(sum[:16])
}

// PDQ is entry i's synthetic PDQ hash (entries with i%3 == 0 have one).
func PDQ(i int) string {
	sum := sha256.Sum256([]byte("ncmectest pdq " + strconv.Itoa(i)))
	return hex.EncodeToString(sum[:])
}

// ID is entry i's upstream id.
func ID(i int) string { return "e" + strconv.Itoa(i) }

// Add adds n entries, changed now; it returns the index of the first.
func (s *Server) Add(n int) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	first := s.n
	for i := first; i < first+n; i++ {
		s.extra[i] = s.opts.Now().UnixMilli()
	}
	s.n += n
	return first
}

// Delete withdraws entries now.
func (s *Server) Delete(idx ...int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, i := range idx {
		s.deleted[i] = s.opts.Now()
	}
}

// FailNext makes the next requests answer these statuses, in order.
func (s *Server) FailNext(status ...int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail = append(s.fail, status...)
}

// ExpireNextLinks makes the next n requests that follow a next link
// answer 410 Gone, as an expired link does.
func (s *Server) ExpireNextLinks(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expire += n
}

// StallNext makes the next n requests hang until the client gives up.
func (s *Server) StallNext(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stall += n
}

// Requests and Pages count what was asked and answered.
func (s *Server) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

// Pages counts the entry pages served.
func (s *Server) Pages() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pages
}

// Len is the number of entries so far (withdrawn ones included).
func (s *Server) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n
}

func (s *Server) stamp(i int) time.Time {
	if ms, ok := s.extra[i]; ok {
		return time.UnixMilli(ms).UTC()
	}
	return s.opts.Start.Add(time.Duration(i) * s.opts.Step)
}

// lastChange is when entry i last changed: its deletion, if any.
func (s *Server) lastChange(i int) (time.Time, bool) {
	if d, ok := s.deleted[i]; ok {
		return d, true
	}
	return s.stamp(i), false
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.requests++
	if s.stall > 0 {
		s.stall--
		s.mu.Unlock()
		<-r.Context().Done()
		return
	}
	if len(s.fail) > 0 {
		code := s.fail[0]
		s.fail = s.fail[1:]
		s.mu.Unlock()
		w.Header().Set("Retry-After", "1")
		http.Error(w, "unavailable", code)
		return
	}
	s.mu.Unlock()
	user, pass, ok := r.BasicAuth()
	if !ok || user != s.opts.User || pass != s.opts.Password {
		w.Header().Set("WWW-Authenticate", `Basic realm="hashsharing"`)
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	switch r.URL.Path {
	case "/npo/v2/status":
		w.Header().Set("Content-Type", "application/xml")
		fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<status xmlns=%q><username>%s</username><member id="1">Test Hotline</member></status>`, Namespace, xmlEscape(user))
	case "/npo/v2/entries":
		s.entries(w, r)
	default:
		http.NotFound(w, r)
	}
}

func parseTime(v string) (time.Time, error) {
	for _, f := range []string{timeFormat, time.RFC3339Nano, "2006-01-02T15:04:05Z"} {
		if t, err := time.Parse(f, v); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("bad time %q", v)
}

type record struct {
	i       int
	deleted bool
	at      time.Time
}

func (s *Server) entries(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	from, err1 := parseTime(q.Get("from"))
	to, err2 := parseTime(q.Get("to"))
	if err1 != nil || err2 != nil || !from.Before(to) {
		http.Error(w, "from and to must be times, from before to", http.StatusBadRequest)
		return
	}
	if q.Get("start") != "" {
		s.mu.Lock()
		expired := s.expire > 0
		if expired {
			s.expire--
		}
		s.mu.Unlock()
		if expired {
			http.Error(w, "paging link expired", http.StatusGone)
			return
		}
	}
	if issued := q.Get("issued"); issued != "" && s.opts.LinkTTL > 0 {
		ms, _ := strconv.ParseInt(issued, 10, 64)
		if s.opts.Now().Sub(time.UnixMilli(ms)) > s.opts.LinkTTL {
			http.Error(w, "paging link expired", http.StatusGone)
			return
		}
	}
	start, size := 1, s.opts.PageSize
	if v := q.Get("start"); v != "" {
		start, _ = strconv.Atoi(v)
	}
	if v := q.Get("size"); v != "" {
		size, _ = strconv.Atoi(v)
	}
	if start < 1 || size < 1 || size > 100000 {
		http.Error(w, "bad paging", http.StatusBadRequest)
		return
	}
	if s.opts.PageDelay > 0 {
		select {
		case <-time.After(s.opts.PageDelay):
		case <-r.Context().Done():
			return
		}
	}
	s.mu.Lock()
	recs, total := s.window(from, to, start-1, size)
	s.pages++
	s.mu.Unlock()

	var b strings.Builder
	b.Grow(300 * len(recs))
	fmt.Fprintf(&b, `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>`+"\n"+`<queryResult xmlns=%q>`, Namespace)
	maxTS := from
	for _, rc := range recs {
		if rc.at.After(maxTS) {
			maxTS = rc.at
		}
	}
	fmt.Fprintf(&b, `<images count="%d" maxTimestamp="%s">`, len(recs), maxTS.UTC().Format("2006-01-02T15:04:05Z"))
	for _, rc := range recs {
		if rc.deleted {
			fmt.Fprintf(&b, `<deletedImage><id>%s</id><member id="7">Partner ESP</member><timestamp>%s</timestamp></deletedImage>`,
				ID(rc.i), rc.at.UTC().Format(timeFormat))
			continue
		}
		class := []string{"A1", "A2", "B1", "B2"}[rc.i%4]
		fmt.Fprintf(&b, `<image><id>%s</id><member id="7">Partner ESP</member><timestamp>%s</timestamp><classification>%s</classification><fingerprints><md5>%s</md5>`,
			ID(rc.i), rc.at.UTC().Format(timeFormat), class, strings.ToUpper(MD5(rc.i)))
		if rc.i%3 == 0 {
			fmt.Fprintf(&b, `<pdq>%s</pdq>`, PDQ(rc.i))
		}
		if rc.i%5 == 0 {
			b.WriteString(`<pdna>` + strings.Repeat("1,", 143) + `1</pdna>`)
		}
		b.WriteString(`</fingerprints>`)
		if rc.i%7 == 0 {
			b.WriteString(`<feedback><affirmativeFeedback type="md5"><members><member id="9">Other ESP</member></members></affirmativeFeedback></feedback>`)
		}
		b.WriteString(`</image>`)
	}
	b.WriteString(`</images><videos count="0"/>`)
	if end := start - 1 + len(recs); end < total {
		next := url.Values{}
		next.Set("from", q.Get("from"))
		next.Set("to", q.Get("to"))
		next.Set("start", strconv.Itoa(end+1))
		next.Set("size", strconv.Itoa(size))
		next.Set("max", strconv.Itoa(total))
		if s.opts.LinkTTL > 0 {
			next.Set("issued", strconv.FormatInt(s.opts.Now().UnixMilli(), 10))
		}
		fmt.Fprintf(&b, `<paging><next>%s</next></paging>`, xmlEscape("/v2/entries?"+next.Encode()))
	}
	b.WriteString(`</queryResult>`)
	w.Header().Set("Content-Type", "application/xml")
	_, _ = w.Write([]byte(b.String()))
}

// window returns records [skip, skip+size) of the window [from, to), and
// how many the window holds. Entries are listed at their last change, in
// index order (generated entries), then withdrawals.
func (s *Server) window(from, to time.Time, skip, size int) ([]record, int) {
	// Generated entries (not added later): index range by arithmetic.
	base := s.opts.Entries
	lo := int(max(0, ceilDiv(from.Sub(s.opts.Start), s.opts.Step)))
	hi := int(max(0, ceilDiv(to.Sub(s.opts.Start), s.opts.Step)))
	lo, hi = min(lo, base), min(hi, base)
	var later []int // entries added later in the window, and withdrawals
	for i := base; i < s.n; i++ {
		if _, gone := s.deleted[i]; gone {
			continue
		}
		if t := s.stamp(i); !t.Before(from) && t.Before(to) {
			later = append(later, i)
		}
	}
	var dels []int
	var skipped []int // generated entries in [lo,hi) withdrawn: not listed as entries
	for i, at := range s.deleted {
		if i >= lo && i < hi {
			skipped = append(skipped, i)
		}
		if !at.Before(from) && at.Before(to) {
			dels = append(dels, i)
		}
	}
	slices.Sort(skipped)
	slices.Sort(dels)
	gen := hi - lo - len(skipped)
	total := gen + len(later) + len(dels)
	var out []record
	for k := skip; k < total && len(out) < size; k++ {
		switch {
		case k < gen:
			// The k-th generated index in [lo,hi) not withdrawn.
			i := lo + k
			for _, d := range skipped {
				if d <= i {
					i++
				}
			}
			out = append(out, record{i: i, at: s.stamp(i)})
		case k < gen+len(later):
			i := later[k-gen]
			out = append(out, record{i: i, at: s.stamp(i)})
		default:
			i := dels[k-gen-len(later)]
			out = append(out, record{i: i, deleted: true, at: s.deleted[i]})
		}
	}
	return out, total
}

func ceilDiv(a, b time.Duration) int64 {
	if a <= 0 {
		return 0
	}
	return int64((a + b - 1) / b)
}

func xmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;").Replace(s)
}
