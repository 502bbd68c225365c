package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/store"
	"github.com/vigil-hotline/vigil/internal/storetest"
)

func (e *env) api(method, path, key, contentType, body string) (int, map[string]string) {
	e.t.Helper()
	req, _ := http.NewRequest(method, e.srv.URL+path, strings.NewReader(body))
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, b := e.do(http.DefaultClient, req)
	// Strings as they are; any other value as its JSON text.
	raw := map[string]json.RawMessage{}
	if err := json.Unmarshal([]byte(b), &raw); err != nil {
		e.t.Errorf("%s %s: answer is not a JSON object: %q", method, path, b)
	}
	out := map[string]string{}
	for k, v := range raw {
		var s string
		if json.Unmarshal(v, &s) != nil {
			s = string(v)
		}
		out[k] = s
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		e.t.Errorf("%s %s: Content-Type %q", method, path, ct)
	}
	return resp.StatusCode, out
}

func TestAPIReports(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		key := e.apiKey("partner")
		status, out := e.api("POST", "/api/v1/reports", key, "application/json",
			`{"urls": ["https://Example.com/a#x"], "description": "seen", "language": "nl", "saw": ["images", "videos"]}`)
		if status != 201 || out["tracking_code"] == "" || out["status"] != "received" {
			t.Fatalf("create: %d %v", status, out)
		}
		code := out["tracking_code"]
		status, out = e.api("GET", "/api/v1/reports/"+code, key, "", "")
		if status != 200 || out["status"] != "received" || out["tracking_code"] != code {
			t.Errorf("status: %d %v", status, out)
		}
		rep, err := db.FindReportByTrackingCode(context.Background(), code)
		if err != nil {
			t.Fatal(err)
		}
		// The case reference staff and notices use (no prefix configured).
		if want := `["` + vigil.CaseReference("", rep.URLs[0].ID, rep.URLs[0].FirstReportedAt) + `"]`; out["case_references"] != want {
			t.Errorf("case references %s, want %s", out["case_references"], want)
		}
		if err != nil || rep.Source != "api" || rep.APIKeyID == 0 || rep.Language != "nl" || !rep.SawVideos ||
			rep.URLs[0].URL != "https://example.com/a" {
			t.Errorf("stored report: %+v %v", rep, err)
		}
	})
}

func TestAPIRefusals(t *testing.T) {
	e := newEnv(t, storetest.Open(t, "sqlite"))
	key := e.apiKey("partner")
	revoked := e.apiKey("old")
	if err := e.db.RevokeAPIKey(context.Background(), "old"); err != nil {
		t.Fatal(err)
	}
	many := `"https://example.com/1"` + strings.Repeat(`, "https://example.com/1"`, 50)
	cases := []struct {
		name, key, ct, body string
		status              int
		msg                 string
	}{
		{"no key", "", "application/json", `{"urls": ["https://example.com/"]}`, 401, "API key is required"},
		{"unknown key", "vgl_nope", "application/json", `{"urls": ["https://example.com/"]}`, 401, "not valid"},
		{"revoked key", revoked, "application/json", `{"urls": ["https://example.com/"]}`, 401, "not valid"},
		{"not JSON", key, "application/json", `urls=https://example.com/`, 400, "syntax error"},
		{"wrong content type", key, "text/plain", `{"urls": ["https://example.com/"]}`, 400, "must be JSON"},
		{"unknown field", key, "application/json", `{"urls": ["https://example.com/"], "ip": "1.2.3.4"}`, 400, "unknown field"},
		{"two objects", key, "application/json", `{"urls": ["https://example.com/"]} {}`, 400, "one JSON object"},
		{"wrong type", key, "application/json", `{"urls": "https://example.com/"}`, 400, "wrong type"},
		{"no URL", key, "application/json", `{"urls": []}`, 400, "at least one URL"},
		{"51 URLs", key, "application/json", `{"urls": [` + many + `]}`, 400, "at most 50"},
		{"ftp URL", key, "application/json", `{"urls": ["ftp://example.com/"]}`, 400, "http and https"},
		{"no host", key, "application/json", `{"urls": ["https:///x"]}`, 400, "no host"},
		{"bad language", key, "application/json", `{"urls": ["https://example.com/"], "language": "xx"}`, 400, "language"},
		{"bad saw", key, "application/json", `{"urls": ["https://example.com/"], "saw": ["smells"]}`, 400, "saw"},
		{"invalid UTF-8", key, "application/json", "{\"urls\": [\"https://example.com/\"], \"description\": \"caf\xe9\"}", 400, "UTF-8"},
		{"too large", key, "application/json", `{"urls": ["https://example.com/"], "description": "` + strings.Repeat("x", 300<<10) + `"}`, 413, "larger than"},
		{"empty body", key, "application/json", ``, 400, "empty"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, out := e.api("POST", "/api/v1/reports", tc.key, tc.ct, tc.body)
			if status != tc.status || out["error"] == "" || !strings.Contains(out["error"], tc.msg) {
				t.Errorf("got %d %q, want %d with %q", status, out["error"], tc.status, tc.msg)
			}
			if n := e.reportCount(); n != 0 {
				t.Fatalf("%d reports stored after a refusal", n)
			}
		})
	}
	if status, out := e.api("GET", "/api/v1/reports/AAAA-BBBB-CCCC-DDDD", key, "", ""); status != 404 || out["error"] == "" {
		t.Errorf("unknown code: %d %v", status, out)
	}
	if status, _ := e.api("GET", "/api/v1/reports/AAAA-BBBB-CCCC-DDDD", "", "", ""); status != 401 {
		t.Errorf("status without key: %d", status)
	}
}
