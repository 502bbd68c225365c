package takedown_test

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/hashing"
	"github.com/vigil-hotline/vigil/internal/match"
	"github.com/vigil-hotline/vigil/internal/simnet"
	"github.com/vigil-hotline/vigil/internal/simworld"
	"github.com/vigil-hotline/vigil/internal/store"
	"github.com/vigil-hotline/vigil/internal/storetest"
	"github.com/vigil-hotline/vigil/internal/testrig"
	"github.com/vigil-hotline/vigil/internal/web"
)

// victimSite is the victim's side of the test: the public pages, with a
// browser's cookie jar.
type victimSite struct {
	t   *testing.T
	srv *httptest.Server
	c   *http.Client
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func newVictimSite(t *testing.T, db *store.DB) *victimSite {
	t.Helper()
	s, err := web.New(web.Config{Reports: db, Users: db, APIKeys: db, Jobs: db, Victims: db,
		Secret: []byte("0123456789abcdef0123456789abcdef"), FormRate: web.DefaultFormRate})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	jar, _ := cookiejar.New(nil)
	return &victimSite{t: t, srv: srv, c: &http.Client{Jar: jar}}
}

func (v *victimSite) do(req *http.Request) (int, string) {
	v.t.Helper()
	resp, err := v.c.Do(req)
	if err != nil {
		v.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (v *victimSite) token() string {
	v.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, v.srv.URL+"/remove/status?lang=nl", nil)
	_, body := v.do(req)
	m := csrfRE.FindStringSubmatch(body)
	if m == nil {
		v.t.Fatal("no CSRF token on the status page")
	}
	return m[1]
}

// submit sends hashes as the victim's page does and returns the code.
func (v *victimSite) submit(hashes []vigil.VictimHash) string {
	v.t.Helper()
	body, _ := json.Marshal(map[string]any{"hashes": hashes, "description": "my ex posted it"})
	req, _ := http.NewRequest(http.MethodPost, v.srv.URL+"/remove?lang=nl", strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-CSRF-Token", v.token())
	status, resp := v.do(req)
	var out struct {
		TrackingCode string `json:"tracking_code"`
	}
	if status != 200 || json.Unmarshal([]byte(resp), &out) != nil || out.TrackingCode == "" {
		v.t.Fatalf("submission: %d %s", status, resp)
	}
	return out.TrackingCode
}

var countRE = regexp.MustCompile(`id="(found|removed)" data-count="(\d+)"`)

// status returns the page's found and removed counts.
func (v *victimSite) status(code string) (found, removed string) {
	v.t.Helper()
	form := url.Values{"csrf": {v.token()}, "lang": {"nl"}, "code": {code}}
	req, _ := http.NewRequest(http.MethodPost, v.srv.URL+"/remove/status", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	status, body := v.do(req)
	if status != 200 {
		v.t.Fatalf("status page: %d", status)
	}
	if strings.Contains(body, "mirror.example") || strings.Contains(body, "http://127.") {
		v.t.Error("the status page shows where copies were found")
	}
	for _, m := range countRE.FindAllStringSubmatch(body, -1) {
		if m[1] == "found" {
			found = m[2]
		} else {
			removed = m[2]
		}
	}
	return found, removed
}

// TestVictimCopyFoundAndRemoved: a person sends the hashes of a picture
// of them; the crawler meets a re-encoded copy on a simulated site; the
// match takes the victim route (a priority notice to the provider, no
// analyst); the status page counts one copy found, then one removed once
// the provider takes it down.
func TestVictimCopyFoundAndRemoved(t *testing.T) {
	t.Parallel() // waiting on River's scheduler and the crawl, as the tests beside it
	storetest.ForEachParallel(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		m, err := match.New(ctx, match.Config{Store: db, PollInterval: 50 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { m.Close() })
		h := newHarness(t, db, simworld.Options{RenoticeInterval: time.Hour}, m)
		victim := newVictimSite(t, db)

		// The original on the person's device: picture 101 as first saved.
		// The mirror serves it re-encoded at JPEG quality 40.
		original, err := h.sim.Images.Bytes(101, simnet.Variant{})
		if err != nil {
			t.Fatal(err)
		}
		res, err := hashing.HashBytes(original, hashing.Options{})
		if err != nil {
			t.Fatal(err)
		}
		q := res.Quality
		code := victim.submit([]vigil.VictimHash{
			{Type: vigil.SignalPDQ, Value: res.PDQ.String(), Quality: &q},
			{Type: vigil.SignalSHA256, Value: hex.EncodeToString(res.SHA256[:])},
		})
		if f, r := victim.status(code); f != "0" || r != "0" {
			t.Fatalf("before any crawl: found %s removed %s", f, r)
		}
		// The matcher follows the change feed: wait until it has the hash.
		testrig.WaitFor(t, "matcher has the victim's hash", 10*time.Second, func() bool {
			got, _ := m.Match(ctx, vigil.MatchQuery{PDQ: res.PDQ.String(), Quality: 100})
			return len(got) == 1
		})

		id := h.report(t, h.sim.URL(simnet.Mirror, "/"))
		td := h.takedown(t, id)
		if td.Classification != vigil.ClassSelfReported || strings.Join(td.Routes, ",") != "provider" {
			t.Fatalf("case %+v: want a self-reported case routed to the provider only", td)
		}
		testrig.WaitFor(t, "notice sent", 20*time.Second, func() bool { return len(sent(t, db, td.ID)) == 1 })
		notices := h.world.Mail.To(simworld.ProviderUS)
		if len(notices) != 1 || !strings.Contains(string(notices[0].Data), "Importance: high") {
			t.Fatalf("provider got %d notices, or one without priority", len(notices))
		}
		if len(h.world.Mail.To(simworld.Police)) != 0 {
			t.Error("the police were sent a victim's case")
		}
		if f, r := victim.status(code); f != "1" || r != "0" {
			t.Fatalf("after the notice: found %s removed %s, want 1 and 0", f, r)
		}

		h.sim.TakeDown(simnet.Mirror, "/")
		testrig.WaitFor(t, "removed", 30*time.Second, func() bool {
			td, _ = db.FindTakedown(ctx, td.ID)
			return td.State == vigil.TakedownRemoved
		})
		if f, r := victim.status(code); f != "1" || r != "1" {
			t.Fatalf("after removal: found %s removed %s, want 1 and 1", f, r)
		}
	})
}
