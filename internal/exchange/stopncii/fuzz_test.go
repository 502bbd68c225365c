package stopncii_test

import (
	"testing"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/exchange/stopncii"
)

// FuzzStopNCIIPage: any body gives a page or an error, never a panic, and
// every entry it gives is one the store would accept. Seeds in
// testdata/fuzz/FuzzStopNCIIPage.
func FuzzStopNCIIPage(f *testing.F) {
	f.Add([]byte(`{"count":1,"nextPageToken":"t","nextSetTimestamp":5,"hasMoreRecords":true,"hashRecords":[{"lastModtimestamp":4,"signalType":"ImagePDQ","hashValue":"` + pdq(1) + `","hashStatus":"Withdrawn"}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := stopncii.ParsePage(body)
		if err != nil {
			return
		}
		if len(p.NextPageToken) > stopncii.MaxTokenLen || p.NextSetTimestamp < 0 {
			t.Fatalf("page %+v", p)
		}
		for _, e := range p.Entries {
			be := vigil.BankEntry{Signal: e.Signal, Value: e.Value}
			if err := be.Validate(nil); err != nil {
				t.Fatalf("entry %+v rejected by the store: %v", e, err)
			}
		}
	})
}
