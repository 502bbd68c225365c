package storetest

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/store"
)

func newExchange(t *testing.T, db *store.DB, name string, bank *vigil.Bank) *vigil.Exchange {
	t.Helper()
	x := &vigil.Exchange{Name: name, Kind: vigil.ExchangeHTTPList, BankID: bank.ID, URL: "https://lists.example/" + name,
		Schedule: time.Hour, Enabled: true}
	if err := db.CreateExchange(context.Background(), x, vigil.ExchangeCredentials{Token: "s3cret-token"}); err != nil {
		t.Fatal(err)
	}
	return x
}

func exchangeEntry(t vigil.SignalType, seed, upstreamID string) *vigil.BankEntry {
	return &vigil.BankEntry{Signal: t, Value: fakeHash(t, seed), UpstreamID: upstreamID, UpstreamClassification: "A1",
		Tags: []string{"ncmec", "image"}}
}

func bankValues(t *testing.T, db *store.DB, bankID int64) []string {
	t.Helper()
	es, err := db.BankEntries(context.Background(), bankID, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.UpstreamID+"="+e.Value[:8])
	}
	slices.Sort(out)
	return out
}

func testExchanges(t *testing.T, db *store.DB) {
	ctx := context.Background()
	bank := newBank(t, db, "ncmec-list", vigil.BankBlock)
	x := newExchange(t, db, "iwf", bank)
	if x.ID == 0 || x.Auth != "token" {
		t.Fatalf("exchange not stored: %+v", x)
	}
	if err := db.CreateExchange(ctx, &vigil.Exchange{Name: "iwf", Kind: vigil.ExchangeHTTPList, BankID: bank.ID,
		URL: "https://x.example/"}, vigil.ExchangeCredentials{}); vigil.ErrorCode(err) != vigil.ECONFLICT {
		t.Errorf("duplicate name: %v", err)
	}
	for _, bad := range []struct {
		x vigil.Exchange
		c vigil.ExchangeCredentials
	}{
		{vigil.Exchange{Name: "Bad Name", Kind: vigil.ExchangeHTTPList, BankID: bank.ID, URL: "https://x.example/"}, vigil.ExchangeCredentials{}},
		{vigil.Exchange{Name: "k", Kind: "gopher", BankID: bank.ID, URL: "https://x.example/"}, vigil.ExchangeCredentials{}},
		{vigil.Exchange{Name: "u", Kind: vigil.ExchangeHTTPList, BankID: bank.ID, URL: "ftp://x.example/"}, vigil.ExchangeCredentials{}},
		{vigil.Exchange{Name: "s", Kind: vigil.ExchangeHTTPList, BankID: bank.ID, URL: "https://x.example/", Schedule: time.Second}, vigil.ExchangeCredentials{}},
		{vigil.Exchange{Name: "c", Kind: vigil.ExchangeHTTPList, BankID: bank.ID, URL: "https://x.example/"}, vigil.ExchangeCredentials{Token: "t", User: "u", Password: "p"}},
		{vigil.Exchange{Name: "n", Kind: vigil.ExchangeNCMEC, BankID: bank.ID, URL: "https://x.example/"}, vigil.ExchangeCredentials{}},
	} {
		if err := db.CreateExchange(ctx, &bad.x, bad.c); vigil.ErrorCode(err) != vigil.EINVALID {
			t.Errorf("%+v: want invalid, got %v", bad.x, err)
		}
	}
	if err := db.CreateExchange(ctx, &vigil.Exchange{Name: "nobank", Kind: vigil.ExchangeHTTPList, BankID: 999,
		URL: "https://x.example/"}, vigil.ExchangeCredentials{}); !vigil.IsNotFound(err) {
		t.Errorf("missing bank: %v", err)
	}
	basic := &vigil.Exchange{Name: "ncmec", Kind: vigil.ExchangeNCMEC, BankID: bank.ID, URL: "https://hashsharing.example/npo",
		SignalTypes: []vigil.SignalType{vigil.SignalMD5, vigil.SignalPDQ}, Classifications: []string{"A1", "B, with comma"}}
	if err := db.CreateExchange(ctx, basic, vigil.ExchangeCredentials{User: "esp", Password: "pa55word"}); err != nil {
		t.Fatal(err)
	}
	got, err := db.FindExchangeByName(ctx, "ncmec")
	if err != nil || got.Auth != "basic" || got.BankName != "ncmec-list" || !slices.Equal(got.SignalTypes, basic.SignalTypes) ||
		!slices.Equal(got.Classifications, basic.Classifications) || got.Enabled {
		t.Fatalf("read back: %v %+v", err, got)
	}
	if !got.Brings(vigil.SignalPDQ) || got.Brings(vigil.SignalSHA1) {
		t.Error("Brings")
	}
	c, err := db.ExchangeCredentials(ctx, basic.ID)
	if err != nil || c.User != "esp" || c.Password != "pa55word" || c.Token != "" {
		t.Errorf("credentials: %v %+v", err, c)
	}
	// Sealed at rest: the plain secret is nowhere in the row.
	var token, password string
	if err := db.Driver().Reader().QueryRow(ctx, `SELECT x1.token, x2.password FROM exchanges x1, exchanges x2
		WHERE x1.id = $1 AND x2.id = $2`, x.ID, basic.ID).Scan(&token, &password); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(token, "enc1:") || strings.Contains(token, "s3cret") || !strings.HasPrefix(password, "enc1:") {
		t.Errorf("credentials not sealed: %q %q", token, password)
	}
	all, err := db.ListExchanges(ctx)
	if err != nil || len(all) != 2 || all[0].Name != "iwf" || all[1].Name != "ncmec" {
		t.Fatalf("list: %v %+v", err, all)
	}
	if _, err := db.FindExchangeByName(ctx, "nope"); !vigil.IsNotFound(err) {
		t.Errorf("missing exchange: %v", err)
	}

	// Due: the scheduled, enabled one; not once it is leased.
	due, err := db.DueExchanges(ctx, db.Now().Add(time.Second))
	if err != nil || len(due) != 1 || due[0].ID != x.ID {
		t.Fatalf("due: %v %+v", err, due)
	}

	// The lease: one owner at a time; expired leases are taken over.
	if err := db.AcquireExchangeLease(ctx, x.ID, "proc-a", time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := db.AcquireExchangeLease(ctx, x.ID, "proc-b", time.Minute); vigil.ErrorCode(err) != vigil.ECONFLICT {
		t.Fatalf("second owner: %v", err)
	}
	if err := db.AcquireExchangeLease(ctx, x.ID, "proc-a", time.Minute); err != nil {
		t.Fatalf("renew: %v", err)
	}
	if due, _ := db.DueExchanges(ctx, db.Now().Add(time.Second)); len(due) != 0 {
		t.Errorf("a leased exchange is due: %+v", due)
	}
	if err := db.StartExchangeFetch(ctx, x.ID, "proc-a"); err != nil {
		t.Fatal(err)
	}

	seq0, _ := db.LastBankChange(ctx)
	p1 := &vigil.ExchangePage{Checkpoint: "cp-1", Entries: []*vigil.BankEntry{
		exchangeEntry(vigil.SignalMD5, "a", "u1"), exchangeEntry(vigil.SignalPDQ, "a", "u1"),
		exchangeEntry(vigil.SignalMD5, "b", "u2"), exchangeEntry(vigil.SignalMD5, "b", "u2"), // twice in one page
		{Signal: vigil.SignalSHA1, Value: fakeHash(vigil.SignalSHA1, "c")},
	}}
	res, err := db.StoreExchangePage(ctx, x.ID, "proc-a", p1)
	if err != nil || res.Added != 4 || res.Removed != 0 {
		t.Fatalf("page 1: %v %+v", err, res)
	}
	if p1.Entries[0].ID == 0 {
		t.Error("new entries get their ID")
	}
	// Another owner writes nothing.
	if _, err := db.StoreExchangePage(ctx, x.ID, "proc-b", &vigil.ExchangePage{Checkpoint: "evil",
		Entries: []*vigil.BankEntry{exchangeEntry(vigil.SignalMD5, "z", "uz")}}); vigil.ErrorCode(err) != vigil.ECONFLICT {
		t.Fatalf("page from a process without the lease: %v", err)
	}
	// Delivered again (a resumed fetch): nothing new; deletions apply once.
	res, err = db.StoreExchangePage(ctx, x.ID, "proc-a", &vigil.ExchangePage{Checkpoint: "cp-2", Entries: []*vigil.BankEntry{
		exchangeEntry(vigil.SignalMD5, "a", "u1"), exchangeEntry(vigil.SignalMD5, "d", "u4"),
	}, Deletions: []vigil.ExchangeDeletion{{UpstreamID: "u1"}, {UpstreamID: "never-seen"},
		{Signal: vigil.SignalSHA1, Value: fakeHash(vigil.SignalSHA1, "c")}}})
	if err != nil || res.Added != 1 || res.Removed != 3 {
		t.Fatalf("page 2: %v %+v", err, res)
	}
	if got := bankValues(t, db, bank.ID); len(got) != 2 || !strings.HasPrefix(got[0], "u2=") || !strings.HasPrefix(got[1], "u4=") {
		t.Errorf("bank after page 2: %v", got)
	}
	changes, err := db.BankChanges(ctx, seq0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var adds, removes int
	for _, c := range changes {
		switch c.Op {
		case vigil.ChangeAdd:
			adds++
		case vigil.ChangeRemove:
			removes++
			if c.Value == "" || c.Signal == "" {
				t.Errorf("remove without value: %+v", c)
			}
		}
	}
	if adds != 2 || removes != 3 {
		t.Errorf("change feed: %d adds, %d removes: %+v", adds, removes, changes)
	}
	// Provenance is read back with the exchange's name.
	es, err := db.BankEntries(ctx, bank.ID, 0, 10)
	if err != nil || len(es) != 2 {
		t.Fatal(err)
	}
	found, err := db.FindBankEntries(ctx, []int64{es[0].ID})
	if err != nil || len(found) != 1 {
		t.Fatal(err)
	}
	if e := found[0]; e.ExchangeID != x.ID || e.ExchangeName != "iwf" || e.UpstreamID != "u2" ||
		e.UpstreamClassification != "A1" || !slices.Equal(e.Tags, []string{"ncmec", "image"}) || e.FetchedAt.IsZero() {
		t.Errorf("provenance: %+v", e)
	}
	if err := db.FinishExchangeFetch(ctx, x.ID, "proc-a", vigil.ExchangeFetch{Skipped: 2, LagMax: 3 * time.Second}); err != nil {
		t.Fatal(err)
	}
	st, err := db.FindExchangeByID(ctx, x.ID)
	if err != nil || st.Checkpoint != "cp-2" || st.Last.Added != 5 || st.Last.Removed != 3 || st.Last.Skipped != 2 ||
		st.Last.FinishedAt.IsZero() || st.Last.LagMax != 3*time.Second || st.Entries != 2 || !st.NextFetchAt.After(db.Now().Add(50*time.Minute)) {
		t.Errorf("status: %v %+v", err, st)
	}
	// The lease was released with the finish.
	if err := db.AcquireExchangeLease(ctx, x.ID, "proc-b", time.Minute); err != nil {
		t.Errorf("after finish: %v", err)
	}
	// A failed fetch is tried again sooner than its schedule.
	if err := db.FinishExchangeFetch(ctx, x.ID, "proc-b", vigil.ExchangeFetch{Error: "upstream answered 503"}); err != nil {
		t.Fatal(err)
	}
	if st, err := db.FindExchangeByID(ctx, x.ID); err != nil || st.Last.Error == "" || st.NextFetchAt.After(db.Now().Add(16*time.Minute)) {
		t.Errorf("after a failure: %v %+v", err, st)
	}
	if err := db.AcquireExchangeLease(ctx, x.ID, "proc-b", time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := db.ReleaseExchangeLease(ctx, x.ID, "proc-b"); err != nil {
		t.Fatal(err)
	}
	// An expired lease is taken over.
	if err := db.AcquireExchangeLease(ctx, x.ID, "proc-c", -time.Second); err != nil {
		t.Fatal(err)
	}
	if err := db.AcquireExchangeLease(ctx, x.ID, "proc-d", time.Minute); err != nil {
		t.Errorf("expired lease not taken over: %v", err)
	}

	if err := db.SetExchangeEnabled(ctx, x.ID, false); err != nil {
		t.Fatal(err)
	}
	if err := db.RemoveExchange(ctx, basic.ID); err != nil {
		t.Fatal(err)
	}
	if err := db.RemoveExchange(ctx, basic.ID); !vigil.IsNotFound(err) {
		t.Errorf("removed twice: %v", err)
	}
}

// testExchangeFullList: an http-list's fetch is the whole list; entries
// absent from a new complete round are removed, entries from elsewhere
// never are, and a round killed midway repeats without losing anything.
func testExchangeFullList(t *testing.T, db *store.DB) {
	ctx := context.Background()
	bank := newBank(t, db, "partner", vigil.BankBlock)
	manual := &vigil.BankEntry{Signal: vigil.SignalMD5, Value: fakeHash(vigil.SignalMD5, "manual"), AddedFrom: "analyst:x"}
	if _, err := db.AddBankEntries(ctx, bank.ID, []*vigil.BankEntry{manual}); err != nil {
		t.Fatal(err)
	}
	x := newExchange(t, db, "partner-list", bank)
	round := func(restart, final bool, seeds ...string) vigil.ExchangePageResult {
		t.Helper()
		if err := db.AcquireExchangeLease(ctx, x.ID, "p", time.Minute); err != nil {
			t.Fatal(err)
		}
		p := &vigil.ExchangePage{Replace: true, Restart: restart, Final: final, Checkpoint: "etag"}
		for _, s := range seeds {
			p.Entries = append(p.Entries, exchangeEntry(vigil.SignalMD5, s, "id-"+s))
		}
		res, err := db.StoreExchangePage(ctx, x.ID, "p", p)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	if r := round(true, true, "a", "b", "c", "manual"); r.Added != 3 || r.Removed != 0 {
		t.Fatalf("first round: %+v", r)
	}
	// A pass killed after its first page, which delivered e: nothing
	// removed yet.
	if r := round(true, false, "a", "d", "e"); r.Added != 2 || r.Removed != 0 {
		t.Fatalf("partial round: %+v", r)
	}
	// The next pass, complete, on a list without b, c or e: they are
	// gone (e too, though the dead pass had marked it), the manual entry
	// stays.
	if r := round(true, false, "a", "d"); r.Added != 0 {
		t.Fatalf("repeated page: %+v", r)
	}
	if r := round(false, true); r.Removed != 3 {
		t.Fatalf("final page: %+v", r)
	}
	got := bankValues(t, db, bank.ID)
	want := []string{"=" + manual.Value[:8], "id-a=" + fakeHash(vigil.SignalMD5, "a")[:8], "id-d=" + fakeHash(vigil.SignalMD5, "d")[:8]}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("bank after rounds: %v, want %v", got, want)
	}
}

// testExchangeIDNotReused: a removed exchange's ID is never given to a new
// one, whose fetches would otherwise take over (and sweep) the old one's
// entries.
func testExchangeIDNotReused(t *testing.T, db *store.DB) {
	ctx := context.Background()
	bank := newBank(t, db, "reuse", vigil.BankBlock)
	old := newExchange(t, db, "old-list", bank)
	if err := db.RemoveExchange(ctx, old.ID); err != nil {
		t.Fatal(err)
	}
	fresh := newExchange(t, db, "new-list", bank)
	if fresh.ID == old.ID {
		t.Fatalf("exchange ID %d reused", old.ID)
	}
}
