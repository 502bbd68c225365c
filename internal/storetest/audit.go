package storetest

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/store"
)

// DropAuditGuards removes the triggers that keep the audit log
// append-only, as someone with the database's keys could: tests then
// tamper with the log and check that verification notices.
func DropAuditGuards(t testing.TB, db *store.DB) {
	t.Helper()
	q := `DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete`
	if db.Driver().Dialect() == "postgres" {
		q = `DROP TRIGGER audit_log_append_only ON audit_log`
	}
	Exec(t, db, q)
}

// Exec runs SQL directly on the store's database, for tests.
func Exec(t testing.TB, db *store.DB, query string, args ...any) {
	t.Helper()
	ctx := context.Background()
	if err := db.Driver().WithTx(ctx, func(tx store.Tx) error {
		_, err := tx.Exec(ctx, query, args...)
		return err
	}); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

// AppendAuditEntries appends n entries by actor "tester" (ID 7).
func AppendAuditEntries(t testing.TB, db *store.DB, n int) {
	t.Helper()
	for i := range n {
		e := &vigil.AuditEntry{ActorID: 7, Actor: "tester", Action: "media.view", Object: fmt.Sprintf("media:%d", i+1),
			Detail: fmt.Sprintf(`{"i": %d}`, i)}
		if err := db.AppendAudit(context.Background(), e); err != nil {
			t.Fatal(err)
		}
	}
}

func verifyAudit(t *testing.T, db *store.DB) vigil.AuditVerification {
	t.Helper()
	v, err := db.VerifyAudit(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func testAudit(t *testing.T, db *store.DB) {
	ctx := context.Background()
	if v := verifyAudit(t, db); v.Entries != 0 || v.FirstBadID != 0 {
		t.Errorf("empty log: %+v", v)
	}
	at := time.Date(2025, 3, 1, 12, 0, 0, 123456789, time.FixedZone("CET", 3600))
	first := &vigil.AuditEntry{At: at, ActorID: 3, Actor: "ana", Action: "login", Object: "user:3", Detail: `{"two_factor":true}`}
	if err := db.AppendAudit(ctx, first); err != nil {
		t.Fatal(err)
	}
	if first.ID != 1 || first.PrevHash != "" || len(first.Hash) != 64 || first.Hash != store.AuditHash(first) {
		t.Errorf("first entry: %+v", first)
	}
	sys := &vigil.AuditEntry{Action: "setting.change", Object: "setting:budget"}
	if err := db.AppendAudit(ctx, sys); err != nil {
		t.Fatal(err)
	}
	if sys.ID != 2 || sys.PrevHash != first.Hash || sys.Actor != "system" || sys.Detail != "{}" || sys.At.IsZero() {
		t.Errorf("second entry: %+v", sys)
	}
	for _, bad := range []*vigil.AuditEntry{{Action: ""}, {Action: "x", Detail: "[1]"}, {Action: "x", Detail: "{"}} {
		if err := db.AppendAudit(ctx, bad); vigil.ErrorCode(err) != vigil.EINVALID {
			t.Errorf("%+v: want invalid, got %v", bad, err)
		}
	}
	AppendAuditEntries(t, db, 5)

	all, err := db.ListAudit(ctx, vigil.AuditFilter{})
	if err != nil || len(all) != 7 || all[0].ID != 7 || all[6].ID != 1 {
		t.Fatalf("ListAudit: %d entries, %v", len(all), err)
	}
	got := all[6]
	if !got.At.Equal(at.Truncate(time.Microsecond)) || got.Actor != "ana" || got.ActorID != 3 || got.Detail != first.Detail ||
		got.Hash != first.Hash {
		t.Errorf("read back: %+v", got)
	}
	for _, tc := range []struct {
		f    vigil.AuditFilter
		want []int64
	}{
		{vigil.AuditFilter{ActorID: 3}, []int64{1}},
		{vigil.AuditFilter{Action: "media.view", Limit: 2}, []int64{7, 6}},
		{vigil.AuditFilter{Action: "media.", BeforeID: 5}, []int64{4, 3}},
		{vigil.AuditFilter{Action: "media"}, nil},
		{vigil.AuditFilter{Object: "media:2"}, []int64{4}},
		{vigil.AuditFilter{ActorID: 7, Action: "login"}, nil},
	} {
		es, err := db.ListAudit(ctx, tc.f)
		if err != nil {
			t.Fatal(err)
		}
		var ids []int64
		for _, e := range es {
			ids = append(ids, e.ID)
		}
		if fmt.Sprint(ids) != fmt.Sprint(tc.want) {
			t.Errorf("%+v: %v, want %v", tc.f, ids, tc.want)
		}
	}
	if v := verifyAudit(t, db); v.Entries != 7 || v.FirstBadID != 0 {
		t.Errorf("intact log: %+v", v)
	}
	// The database itself refuses changes while its guards are in place.
	ctx2 := context.Background()
	for _, q := range []string{`UPDATE audit_log SET actor = 'x' WHERE id = 1`, `DELETE FROM audit_log WHERE id = 7`} {
		err := db.Driver().WithTx(ctx2, func(tx store.Tx) error { _, err := tx.Exec(ctx2, q); return err })
		if err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: %v", q, err)
		}
	}
}

func testAuditConcurrent(t *testing.T, db *store.DB) {
	const writers, each = 4, 10
	var wg sync.WaitGroup
	for range writers {
		wg.Go(func() { AppendAuditEntries(t, db, each) })
	}
	wg.Wait()
	if v := verifyAudit(t, db); v.Entries != writers*each || v.FirstBadID != 0 {
		t.Errorf("after concurrent appends: %+v", v)
	}
}

// testAuditTamper alters, removes and reorders rows as an intruder with the
// database's keys would, and checks that verification names the row.
func testAuditTamper(t *testing.T, open func(t *testing.T) *store.DB) {
	for _, tc := range []struct {
		name    string
		tamper  []string
		wantBad int64
	}{
		{"altered field", []string{`UPDATE audit_log SET object = 'media:99' WHERE id = 3`}, 3},
		{"altered time", []string{`UPDATE audit_log SET at = (SELECT at FROM audit_log WHERE id = 1) WHERE id = 4`}, 4},
		{"removed row", []string{`DELETE FROM audit_log WHERE id = 3`}, 4},
		{"removed first row", []string{`DELETE FROM audit_log WHERE id = 1`}, 2},
		{"removed last row", []string{`DELETE FROM audit_log WHERE id = 5`}, 5},
		{"removed last row and head moved back", []string{`DELETE FROM audit_log WHERE id = 5`,
			`UPDATE audit_head SET id = 4, hash = 'forged'`}, 4},
		{"reordered rows", []string{`UPDATE audit_log SET id = 100 WHERE id = 2`, `UPDATE audit_log SET id = 2 WHERE id = 3`,
			`UPDATE audit_log SET id = 3 WHERE id = 100`}, 2},
		{"renumbered after removal", []string{`DELETE FROM audit_log WHERE id = 2`, `UPDATE audit_log SET id = 2 WHERE id = 3`}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := open(t)
			AppendAuditEntries(t, db, 5)
			DropAuditGuards(t, db)
			for _, q := range tc.tamper {
				Exec(t, db, q)
			}
			v := verifyAudit(t, db)
			if v.FirstBadID != tc.wantBad || v.Problem == "" {
				t.Errorf("first bad %d (%s), want %d", v.FirstBadID, v.Problem, tc.wantBad)
			}
		})
	}
}
