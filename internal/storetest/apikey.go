package storetest

import (
	"context"
	"crypto/sha256"
	"slices"
	"testing"
	"time"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/store"
)

// testAPIKeyScopesAndUse: keys made without scopes get the defaults;
// scopes, rate and quota are stored and changed; use adds up per day and
// moves the last-used time forward only.
func testAPIKeyScopesAndUse(t *testing.T, db *store.DB) {
	ctx := context.Background()
	gen := func() int64 {
		t.Helper()
		g, err := db.APIKeyGeneration(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return g
	}
	g0 := gen()
	h := sha256.Sum256([]byte("vgl_scoped"))
	k := &vigil.APIKey{Name: "scoped", Hash: h[:]}
	if err := db.CreateAPIKey(ctx, k); err != nil {
		t.Fatal(err)
	}
	g1 := gen()
	if g1 == g0 {
		t.Error("creating a key left the key generation as it was")
	}
	got, err := db.FindAPIKeyByHash(ctx, h[:])
	if err != nil || !slices.Equal(got.Scopes, vigil.DefaultAPIScopes) || got.LastUsedAt != nil || got.UsedToday != 0 {
		t.Fatalf("new key: %+v %v", got, err)
	}
	k.Scopes, k.RatePerMinute, k.DailyQuota = []vigil.APIScope{vigil.ScopeLookup, vigil.ScopeStats}, 60, 1000
	if err := db.UpdateAPIKey(ctx, k); err != nil {
		t.Fatal(err)
	}
	if err := db.UpdateAPIKey(ctx, &vigil.APIKey{Name: "nobody"}); !vigil.IsNotFound(err) {
		t.Errorf("update unknown key: %v", err)
	}
	if err := db.UpdateAPIKey(ctx, &vigil.APIKey{Name: "scoped", Scopes: []vigil.APIScope{"admin"}}); vigil.ErrorCode(err) != vigil.EINVALID {
		t.Errorf("unknown scope: %v", err)
	}
	g2 := gen()
	if g2 == g1 {
		t.Error("changing a key left the key generation as it was")
	}
	now := db.Now().Truncate(time.Second)
	day := vigil.APIKeyDay(now)
	uses := []vigil.APIKeyUse{
		{KeyID: k.ID, Day: day, Requests: 5, Lookups: 7, Matches: 1, LastUsed: now},
		{KeyID: k.ID, Day: day, Requests: 2, Lookups: 2, LastUsed: now.Add(-time.Hour)},
	}
	if err := db.RecordAPIKeyUse(ctx, uses); err != nil {
		t.Fatal(err)
	}
	if g3 := gen(); g3 != g2 {
		t.Errorf("recording use moved the key generation (%d to %d): every process would drop its cached keys each second", g2, g3)
	}
	got, err = db.FindAPIKeyByHash(ctx, h[:])
	if err != nil || got.UsedToday != 7 || got.RatePerMinute != 60 || got.DailyQuota != 1000 ||
		!slices.Equal(got.Scopes, k.Scopes) || got.LastUsedAt == nil || !got.LastUsedAt.Equal(now) {
		t.Fatalf("after use: %+v %v", got, err)
	}
	usage, err := db.APIKeyUsage(ctx, day)
	if err != nil || len(usage) != 1 || usage[0] != (vigil.APIKeyUsage{Name: "scoped", Day: day, Requests: 7, Lookups: 9, Matches: 1}) {
		t.Errorf("usage: %+v %v", usage, err)
	}
}
