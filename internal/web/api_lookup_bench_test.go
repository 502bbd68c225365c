package web_test

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/auth"
	"github.com/vigil-hotline/vigil/internal/match"
	"github.com/vigil-hotline/vigil/internal/pdq"
	"github.com/vigil-hotline/vigil/internal/storetest"
	"github.com/vigil-hotline/vigil/internal/web"
)

// BenchmarkAPILookup measures the single-lookup path in process (no
// network): key check, matcher, answer. Profile it with
//
//	go test ./internal/web -run '^$' -bench APILookup -cpuprofile /tmp/lookup.prof
func BenchmarkAPILookup(b *testing.B) {
	ctx := context.Background()
	db := storetest.Open(b, "sqlite")
	bank := &vigil.Bank{Name: "bench", Source: vigil.SourceOther, Kind: vigil.BankBlock, PDQThreshold: 31, Enabled: true}
	if err := db.CreateBank(ctx, bank); err != nil {
		b.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	hashes := make([]pdq.Hash, 20_000)
	var es []*vigil.BankEntry
	var digests []string
	for i := range hashes {
		hashes[i] = pdq.Hash{r.Uint64(), r.Uint64(), r.Uint64(), r.Uint64()}
		es = append(es, &vigil.BankEntry{Signal: vigil.SignalPDQ, Value: hashes[i].String(), AddedFrom: "bench"})
		d := md5.Sum([]byte(hashes[i].String()))
		digests = append(digests, hex.EncodeToString(d[:]))
		es = append(es, &vigil.BankEntry{Signal: vigil.SignalMD5, Value: digests[i], AddedFrom: "bench"})
	}
	if _, err := db.AddBankEntries(ctx, bank.ID, es); err != nil {
		b.Fatal(err)
	}
	m, err := match.New(ctx, match.Config{Store: db, PollInterval: -1})
	if err != nil {
		b.Fatal(err)
	}
	key, kh := auth.NewAPIKey()
	if err := db.CreateAPIKey(ctx, &vigil.APIKey{Name: "bench", Hash: kh, Scopes: []vigil.APIScope{vigil.ScopeLookup}, RatePerMinute: 1 << 30}); err != nil {
		b.Fatal(err)
	}
	srv, err := web.New(web.Config{Reports: db, Users: db, APIKeys: db, Jobs: db, Secret: make([]byte, 32),
		Lookup: web.LookupConfig{Matcher: m}})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { srv.Close(ctx) })
	run := func(b *testing.B, url func(i int) string) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				req := httptest.NewRequest(http.MethodGet, url(i), nil)
				req.Header.Set("Authorization", "Bearer "+key)
				w := httptest.NewRecorder()
				srv.ServeHTTP(w, req)
				if w.Code != http.StatusOK {
					b.Fatalf("%d %s", w.Code, w.Body)
				}
				i++
			}
		})
	}
	b.Run("pdq", func(b *testing.B) {
		run(b, func(i int) string {
			h := hashes[i%len(hashes)]
			if i%2 == 1 {
				h[0] = ^h[0] // far from everything
			}
			return "/api/v1/lookup?pdq=" + h.String()
		})
	})
	b.Run("md5", func(b *testing.B) {
		run(b, func(i int) string {
			d := digests[i%len(digests)]
			if i%2 == 1 {
				d = "ffffffffffffffffffffffffffffffff"
			}
			return "/api/v1/lookup?md5=" + d
		})
	})
}
