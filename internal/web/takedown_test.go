package web_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/store"
	"github.com/vigil-hotline/vigil/internal/storetest"
)

func TestAPIStats(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		key := e.apiKey("stats")
		if status, _ := e.api("POST", "/api/v1/reports", key, "application/json", `{"urls": ["https://a.example/", "https://b.example/"]}`); status != 201 {
			t.Fatal(status)
		}
		req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/api/v1/stats", nil)
		req.Header.Set("Authorization", "Bearer "+key)
		resp, body := e.do(http.DefaultClient, req)
		if resp.StatusCode != 200 {
			t.Fatalf("status %d: %s", resp.StatusCode, body)
		}
		var got map[string]any
		if err := json.Unmarshal([]byte(body), &got); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"reports", "reported_urls", "media", "known_media", "unknown_media", "assessed_illegal",
			"notices_sent", "urls_removed", "median_time_to_removal_seconds", "by_route"} {
			if _, ok := got[k]; !ok {
				t.Errorf("stats lack %q: %s", k, body)
			}
		}
		if got["reports"] != 1.0 || got["reported_urls"] != 2.0 {
			t.Errorf("counts: %s", body)
		}
		req, _ = http.NewRequest(http.MethodGet, e.srv.URL+"/api/v1/stats", nil)
		if resp, _ := e.do(http.DefaultClient, req); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("stats without a key: %d", resp.StatusCode)
		}
	})
}

func TestTakedownsPage(t *testing.T) {
	e := newEnv(t, storetest.Open(t, "sqlite"))
	e.addUser("sup", vigil.RoleSupervisor, "a long supervisor password")
	c := e.login("sup", "a long supervisor password")
	resp, body := e.get(c, "/staff/takedowns")
	if resp.StatusCode != 200 || !strings.Contains(body, `id="takedowns"`) || !strings.Contains(body, "Time to removal") {
		t.Errorf("takedowns page: %d", resp.StatusCode)
	}
}
