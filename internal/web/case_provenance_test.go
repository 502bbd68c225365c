package web_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/simnet"
	"github.com/vigil-hotline/vigil/internal/storetest"
)

// TestCaseShowsMatchProvenance: the case page says which exchange entry a
// picture matched, with the exchange's own label, as stored with the match.
func TestCaseShowsMatchProvenance(t *testing.T) {
	db := storetest.Open(t, "sqlite")
	vault := newVault(t)
	e := newEnv(t, db, withWorkbench(db, vault))
	it, _ := benignItem(t, vault, 11, simnet.Variant{})
	it.Matches = []vigil.Match{{BankID: 1, BankName: "ncmec", BankSource: vigil.SourceNCMEC, EntryID: 77, Signal: vigil.SignalMD5,
		Value: it.MD5, Classification: "ncmec-a1", ExchangeID: 3, ExchangeName: "ncmec-npo", UpstreamID: "ncmec-42",
		UpstreamClassification: "A1"}}
	caseID, ids := storetest.SeedCase(t, db, "https://provenance.example/album", []storetest.SeedItem{it})
	mm, err := db.MediaMatches(t.Context(), ids[0])
	if err != nil || len(mm) != 1 || mm[0].ExchangeName != "ncmec-npo" || mm[0].UpstreamID != "ncmec-42" ||
		mm[0].UpstreamClassification != "A1" || mm[0].ExchangeID != 3 {
		t.Fatalf("stored match: %v %+v", err, mm)
	}
	e.addUser("ann", vigil.RoleAnalyst, "ann-password-1")
	ann := e.login("ann", "ann-password-1")
	_, body := e.get(ann, fmt.Sprintf("/staff/cases/%d", caseID))
	for _, want := range []string{"from exchange", "ncmec-npo", "ncmec-42", "A1"} {
		if !strings.Contains(body, want) {
			t.Errorf("case page lacks %q", want)
		}
	}
}
