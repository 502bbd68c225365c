package web_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/store"
	"github.com/vigil-hotline/vigil/internal/storetest"
	"github.com/vigil-hotline/vigil/internal/web"
)

// countingKeys counts the reads of key rows.
type countingKeys struct {
	vigil.APIKeyService
	reads atomic.Int64
}

func (c *countingKeys) FindAPIKeyByHash(ctx context.Context, hash []byte) (*vigil.APIKey, error) {
	c.reads.Add(1)
	return c.APIKeyService.FindAPIKeyByHash(ctx, hash)
}

// TestAPIKeyCache: a key is read from the store once and then served from
// memory; a change made by another process (here: through the store, as
// `vigil apikey` does) holds from the next request; a key with a quota is
// read again about every second for the calls other processes recorded,
// and the calls this process made since are charged on top.
func TestAPIKeyCache(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		clock := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
		now := func() time.Time { return clock }
		db.Now = now
		keys := &countingKeys{APIKeyService: db}
		e := newEnv(t, db, func(c *web.Config) { c.Now, c.APIKeys = now, keys })
		other := newEnv(t, db, func(c *web.Config) { c.Now = now }) // a second process

		free := e.apiKeyWith("free", vigil.DefaultAPIScopes, 0, 0)
		for i := 0; i < 20; i++ {
			if status := e.apiStatus("GET", "/api/v1/stats", free); status != 200 {
				t.Fatalf("call %d: %d", i, status)
			}
		}
		if n := keys.reads.Load(); n != 1 {
			t.Errorf("20 calls read the key %d times, want once", n)
		}
		// Scopes taken away elsewhere: refused on the next request.
		if err := db.UpdateAPIKey(ctx, &vigil.APIKey{Name: "free", Scopes: []vigil.APIScope{vigil.ScopeLookup}}); err != nil {
			t.Fatal(err)
		}
		if status := e.apiStatus("GET", "/api/v1/stats", free); status != 403 {
			t.Errorf("scope taken away: %d, want 403", status)
		}
		if err := db.RevokeAPIKey(ctx, "free"); err != nil {
			t.Fatal(err)
		}
		if status := e.apiStatus("GET", "/api/v1/lookup?md5=d41d8cd98f00b204e9800998ecf8427e", free); status != 401 {
			t.Errorf("revoked: %d, want 401", status)
		}

		capped := e.apiKeyWith("capped", vigil.DefaultAPIScopes, 0, 5)
		for i := 0; i < 2; i++ {
			if status := e.apiStatus("GET", "/api/v1/stats", capped); status != 200 {
				t.Fatalf("capped call %d: %d", i, status)
			}
		}
		for i := 0; i < 2; i++ {
			if status := other.apiStatus("GET", "/api/v1/stats", capped); status != 200 {
				t.Fatalf("capped call %d elsewhere: %d", i, status)
			}
		}
		other.web.Close(ctx) // its two calls are written
		clock = clock.Add(2 * time.Second)
		// Two here (not yet written) and two elsewhere: one call is left.
		for i, want := range []int{200, 429} {
			if status := e.apiStatus("GET", "/api/v1/stats", capped); status != want {
				t.Errorf("quota across processes: call %d: %d, want %d", i, status, want)
			}
		}
		// Once this process has written its own, they are not charged twice.
		e.web.Close(ctx)
		clock = clock.Add(2 * time.Second)
		if status := e.apiStatus("GET", "/api/v1/stats", capped); status != 429 {
			t.Errorf("after writing: %d, want 429", status)
		}
		if err := db.UpdateAPIKey(ctx, &vigil.APIKey{Name: "capped", Scopes: vigil.DefaultAPIScopes, DailyQuota: 6}); err != nil {
			t.Fatal(err)
		}
		for i, want := range []int{200, 429} {
			if status := e.apiStatus("GET", "/api/v1/stats", capped); status != want {
				t.Errorf("quota raised to 6: call %d: %d, want %d", i, status, want)
			}
		}
	})
}
