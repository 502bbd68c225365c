package web_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/store"
	"github.com/vigil-hotline/vigil/internal/storetest"
	"github.com/vigil-hotline/vigil/internal/testrig"
)

// TestAPILookupProvenance: an entry fetched from an exchange says, in the
// lookup's answer, which exchange and upstream entry it is and the
// exchange's own label.
func TestAPILookupProvenance(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newLookupFixture(t, db, nil)
		partner, err := db.FindBankByName(ctx, "partner")
		if err != nil {
			t.Fatal(err)
		}
		x := &vigil.Exchange{Name: "ncmec-npo", Kind: vigil.ExchangeNCMEC, BankID: partner.ID, URL: "https://hashsharing.example/npo"}
		if err := db.CreateExchange(ctx, x, vigil.ExchangeCredentials{User: "u", Password: "p"}); err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256([]byte("benign exchange entry"))
		value := hex.EncodeToString(sum[:16])
		if err := db.AcquireExchangeLease(ctx, x.ID, "test", time.Minute); err != nil {
			t.Fatal(err)
		}
		if _, err := db.StoreExchangePage(ctx, x.ID, "test", &vigil.ExchangePage{Checkpoint: "c", Entries: []*vigil.BankEntry{
			{Signal: vigil.SignalMD5, Value: value, UpstreamID: "ncmec-42", UpstreamClassification: "A1"}}}); err != nil {
			t.Fatal(err)
		}
		var got map[string]any
		testrig.WaitFor(t, "the fetched entry to match", 5*time.Second, func() bool {
			req, _ := http.NewRequest("GET", f.srv.URL+"/api/v1/lookup?md5="+value, nil)
			req.Header.Set("Authorization", "Bearer "+f.key)
			resp, body := f.do(http.DefaultClient, req)
			var out struct {
				Matches []map[string]any `json:"matches"`
			}
			if resp.StatusCode != 200 || json.Unmarshal([]byte(body), &out) != nil || len(out.Matches) != 1 {
				return false
			}
			got = out.Matches[0]
			return true
		})
		if got["exchange"] != "ncmec-npo" || got["upstream_id"] != "ncmec-42" || got["upstream_classification"] != "A1" ||
			got["bank"] != "partner" {
			t.Errorf("match: %v", got)
		}
	})
}
