package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/auth"
	"github.com/vigil-hotline/vigil/internal/store"
	"github.com/vigil-hotline/vigil/internal/storetest"
	"github.com/vigil-hotline/vigil/internal/web"
)

// apiKeyWith creates a key with these scopes, rate and quota.
func (e *env) apiKeyWith(name string, scopes []vigil.APIScope, ratePerMinute int, quota int64) string {
	e.t.Helper()
	key, hash := auth.NewAPIKey()
	k := &vigil.APIKey{Name: name, Hash: hash, Scopes: scopes, RatePerMinute: ratePerMinute, DailyQuota: quota}
	if err := e.db.CreateAPIKey(context.Background(), k); err != nil {
		e.t.Fatal(err)
	}
	return key
}

// TestAPIReportStatusOnlyOwnKey is issue 12 item 13: a partner key read
// the status of a report filed through the public form. Now only the key
// that filed a report reads its status, or a key with the report-status
// scope; others get the same answer as for an unknown code.
func TestAPIReportStatusOnlyOwnKey(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		filer := e.apiKey("filer")
		other := e.apiKey("other")
		follow := e.apiKeyWith("follow-up", []vigil.APIScope{vigil.ScopeReportStatus}, 0, 0)
		status, out := e.api("POST", "/api/v1/reports", filer, "application/json", `{"urls": ["https://example.com/x"]}`)
		if status != 201 {
			t.Fatalf("create: %d %v", status, out)
		}
		code := out["tracking_code"]
		form, err := vigil.NewReport(vigil.ReportInput{URLs: []string{"https://example.org/y"}}, vigil.SourceForm, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if err := db.CreateReport(context.Background(), form); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			name, key, code string
			want            int
		}{
			{"own report", filer, code, 200},
			{"another key's report", other, code, 404},
			{"a form report", other, form.TrackingCode, 404},
			{"a form report, filer", filer, form.TrackingCode, 404},
			{"scope report-status", follow, form.TrackingCode, 200},
			{"scope report-status, partner's", follow, code, 200},
		} {
			status, out := e.api("GET", "/api/v1/reports/"+tc.code, tc.key, "", "")
			if status != tc.want {
				t.Errorf("%s: %d %v, want %d", tc.name, status, out, tc.want)
			}
			if status == 404 && out["status"] != "" {
				t.Errorf("%s: refused, yet the answer holds a status: %v", tc.name, out)
			}
		}
	})
}

// TestAPIKeyScopes: each route asks its scope; keys made without scopes
// keep what keys could do before (report, stats).
func TestAPIKeyScopes(t *testing.T) {
	e := newEnv(t, storetest.Open(t, "sqlite"))
	legacy := e.apiKey("legacy")
	lookupOnly := e.apiKeyWith("lookup-only", []vigil.APIScope{vigil.ScopeLookup}, 0, 0)
	for _, tc := range []struct {
		key, method, path string
		want              int
	}{
		{legacy, "POST", "/api/v1/reports", 201},
		{legacy, "GET", "/api/v1/stats", 200},
		{lookupOnly, "POST", "/api/v1/reports", 403},
		{lookupOnly, "GET", "/api/v1/stats", 403},
	} {
		body := ""
		if tc.method == "POST" {
			body = `{"urls": ["https://example.com/scope"]}`
		}
		req, _ := http.NewRequest(tc.method, e.srv.URL+tc.path, stringsReader(body))
		req.Header.Set("Authorization", "Bearer "+tc.key)
		resp, b := e.do(http.DefaultClient, req)
		if resp.StatusCode != tc.want {
			t.Errorf("%s %s: %d %s, want %d", tc.method, tc.path, resp.StatusCode, b, tc.want)
		}
	}
}

// TestAPIKeyRateQuotaRevocation: a key's own rate and daily quota hold,
// use is recorded with the last-used time, and a revocation through one
// process holds on the next request served by another.
func TestAPIKeyRateQuotaRevocation(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		clock := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
		now := func() time.Time { return clock }
		db.Now = now
		e := newEnv(t, db, func(c *web.Config) { c.Now = now })
		other := newEnv(t, db, func(c *web.Config) { c.Now = now }) // a second process
		slow := e.apiKeyWith("slow", vigil.DefaultAPIScopes, 2, 0)
		for i, want := range []int{200, 200, 429} {
			if status := e.apiStatus("GET", "/api/v1/stats", slow); status != want {
				t.Errorf("rate: call %d: %d, want %d", i, status, want)
			}
		}
		capped := e.apiKeyWith("capped", vigil.DefaultAPIScopes, 0, 3)
		for i, want := range []int{200, 200, 200, 429} {
			if status := e.apiStatus("GET", "/api/v1/stats", capped); status != want {
				t.Errorf("quota: call %d: %d, want %d", i, status, want)
			}
		}
		// Written to the store, the quota holds in the other process too.
		e.web.Close(context.Background())
		if status := other.apiStatus("GET", "/api/v1/stats", capped); status != 429 {
			t.Errorf("quota in another process: %d, want 429", status)
		}
		// The next day it is fresh again.
		clock = clock.Add(24 * time.Hour)
		if status := e.apiStatus("GET", "/api/v1/stats", capped); status != 200 {
			t.Errorf("quota the next day: %d, want 200", status)
		}
		e.web.Close(context.Background())
		keys, err := db.ListAPIKeys(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range keys {
			if k.Name == "capped" && (k.LastUsedAt == nil || !k.LastUsedAt.Equal(clock)) {
				t.Errorf("last used: %v, want %v", k.LastUsedAt, clock)
			}
		}
		use, err := db.APIKeyUsage(context.Background(), "2026-03-01")
		if err != nil || len(use) != 3 {
			t.Fatalf("usage: %+v %v", use, err)
		}
		// Revoked through the store (as `vigil apikey revoke` does), the
		// key is refused by both processes on their next request.
		if err := db.RevokeAPIKey(context.Background(), "capped"); err != nil {
			t.Fatal(err)
		}
		for _, s := range []*env{e, other} {
			if status := s.apiStatus("GET", "/api/v1/stats", capped); status != 401 {
				t.Errorf("revoked key: %d, want 401", status)
			}
		}
	})
}

// apiStatus sends a request and returns its status only.
func (e *env) apiStatus(method, path, key string) int {
	e.t.Helper()
	req, _ := http.NewRequest(method, e.srv.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+key)
	resp, _ := e.do(http.DefaultClient, req)
	return resp.StatusCode
}

func stringsReader(s string) *strings.Reader { return strings.NewReader(s) }
