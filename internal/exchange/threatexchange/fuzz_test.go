package threatexchange_test

import (
	"testing"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/exchange/threatexchange"
)

// FuzzThreatExchangePage: any body gives a page or an error, never a
// panic, and every entry it gives is one the store would accept.
// Seeds in testdata/fuzz/FuzzThreatExchangePage.
func FuzzThreatExchangePage(f *testing.F) {
	f.Add([]byte(`{"data":[{"id":"1","type":"HASH_PDQ","indicator":"` + pdq(1) + `","last_updated":"1700000000","should_delete":true,"tags":["x"]}],"paging":{"next":"https://graph.facebook.com/v21.0/1/threat_updates?after=abc"}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := threatexchange.ParsePage(body)
		if err != nil {
			return
		}
		for _, e := range p.Entries {
			be := vigil.BankEntry{Signal: e.Signal, Value: e.Value, Frames: e.Frames}
			if err := be.Validate(nil); err != nil {
				t.Fatalf("entry %+v rejected by the store: %v", e, err)
			}
			if len(e.Tags) > threatexchange.MaxTags || e.UpstreamID == "" {
				t.Fatalf("entry %+v", e)
			}
		}
	})
}
