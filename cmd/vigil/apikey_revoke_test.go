package main

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestAPIKeyRevocationAcrossProcesses: `vigil serve` keeps the keys it has
// seen in memory, and a change made by another process (`vigil apikey`)
// still holds from serve's very next request: a scope taken away answers
// 403, a revoked key 401, with no wait in between.
func TestAPIKeyRevocationAcrossProcesses(t *testing.T) {
	needVigil(t)
	for _, kind := range []string{"sqlite", "postgres"} {
		t.Run(kind, func(t *testing.T) {
			data, dbURL := storeURLs(t, kind) // postgres skips without VIGIL_TEST_POSTGRES
			srv := startServe(t, data, dbURL, io.Discard)
			key := strings.TrimSpace(vigilCmd(t, data, dbURL, "", "apikey", "create", "--scopes", "lookup,stats", "platform"))
			get := func(path string) int {
				t.Helper()
				req, _ := http.NewRequest(http.MethodGet, srv.url+path, nil)
				req.Header.Set("Authorization", "Bearer "+key)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				return resp.StatusCode
			}
			const lookup = "/api/v1/lookup?md5=d41d8cd98f00b204e9800998ecf8427e"
			for i := 0; i < 5; i++ { // served from serve's cache after the first
				if status := get(lookup); status != http.StatusOK {
					t.Fatalf("lookup %d: %d", i, status)
				}
			}
			vigilCmd(t, data, dbURL, "", "apikey", "update", "--scopes", "stats", "platform")
			if status := get(lookup); status != http.StatusForbidden {
				t.Errorf("lookup right after the scope was taken away by another process: %d, want 403", status)
			}
			if status := get("/api/v1/stats"); status != http.StatusOK {
				t.Errorf("stats with the scope kept: %d", status)
			}
			vigilCmd(t, data, dbURL, "", "apikey", "revoke", "platform")
			if status := get("/api/v1/stats"); status != http.StatusUnauthorized {
				t.Errorf("right after revocation by another process: %d, want 401", status)
			}
		})
	}
}
