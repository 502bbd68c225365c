package storetest

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/store"
)

// TruncateAudit removes the newest n entries and moves the head back to
// the entry before them, as an intruder with the database's keys could:
// the chain that is left is intact in itself.
func TruncateAudit(t testing.TB, db *store.DB, n int) {
	t.Helper()
	ctx := context.Background()
	h, err := db.AuditHead(ctx)
	if err != nil {
		t.Fatal(err)
	}
	DropAuditGuards(t, db)
	keep := h.ID - int64(n)
	Exec(t, db, `DELETE FROM audit_log WHERE id > $1`, keep)
	if keep == 0 {
		Exec(t, db, `UPDATE audit_head SET id = 0, hash = '', key_id = ''`)
		return
	}
	Exec(t, db, `UPDATE audit_head SET id = $1, hash = (SELECT hash FROM audit_log WHERE id = $1),
		key_id = (SELECT key_id FROM audit_log WHERE id = $1)`, keep)
}

// RewriteAudit changes entry id's detail and recomputes its hash and every
// later one, and the head, as an intruder with the database but not the
// audit key could: with plain SHA-256 (the unkeyed scheme).
func RewriteAudit(t testing.TB, db *store.DB, id int64, detail string) {
	t.Helper()
	ctx := context.Background()
	all, err := db.ListAudit(ctx, vigil.AuditFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	DropAuditGuards(t, db)
	prev := ""
	for i := len(all) - 1; i >= 0; i-- { // oldest first
		e := all[i]
		if e.ID < id {
			prev = e.Hash
			continue
		}
		if e.ID == id {
			e.Detail = detail
		}
		e.PrevHash, e.KeyID = prev, ""
		e.Hash = store.AuditHash(e)
		Exec(t, db, `UPDATE audit_log SET detail = $2, prev_hash = $3, hash = $4, key_id = '' WHERE id = $1`,
			e.ID, e.Detail, e.PrevHash, e.Hash)
		prev = e.Hash
	}
	Exec(t, db, `UPDATE audit_head SET hash = $1, key_id = ''`, prev)
}

// testAuditKeyed: a chain that was unkeyed goes on keyed, recording the
// switch; a process with another key can neither append nor verify; a
// rewrite without the key, or a cut tail, is caught by the keyed hashes
// and the checkpoints.
func testAuditKeyed(t *testing.T, open func(t *testing.T) *store.DB) {
	ctx := context.Background()
	key := bytes.Repeat([]byte{7}, 32)
	t.Run("switch", func(t *testing.T) {
		db := open(t)
		AppendAuditEntries(t, db, 3)
		if err := db.SetAuditKey(key); err != nil {
			t.Fatal(err)
		}
		AppendAuditEntries(t, db, 2)
		all, err := db.ListAudit(ctx, vigil.AuditFilter{})
		if err != nil || len(all) != 6 {
			t.Fatalf("%d entries, %v", len(all), err)
		}
		sw := all[2] // ID 4
		if sw.ID != 4 || sw.Action != "audit.keyed" || sw.KeyID != db.AuditKeyID() || !strings.Contains(sw.Detail, `"unkeyed_entries":3`) ||
			sw.Hash != store.AuditHMAC(key, sw) || all[5].KeyID != "" {
			t.Errorf("switch entry %+v; first %+v", sw, all[5])
		}
		v := verifyAudit(t, db)
		if v.FirstBadID != 0 || v.Entries != 6 || v.KeyedFrom != 4 || v.LastID != 6 {
			t.Fatalf("keyed chain: %+v", v)
		}
		// Another key: no append, and verification names the key.
		if err := db.SetAuditKey(bytes.Repeat([]byte{8}, 32)); err != nil {
			t.Fatal(err)
		}
		if err := db.AppendAudit(ctx, &vigil.AuditEntry{Action: "x"}); err == nil || !strings.Contains(err.Error(), "keyed with key") {
			t.Errorf("append with another key: %v", err)
		}
		if v := verifyAudit(t, db); v.FirstBadID != 4 || !strings.Contains(v.Problem, "not with the audit key") {
			t.Errorf("verify with another key: %+v", v)
		}
	})
	t.Run("rewrite without the key", func(t *testing.T) {
		db := open(t)
		if err := db.SetAuditKey(key); err != nil {
			t.Fatal(err)
		}
		AppendAuditEntries(t, db, 5)
		RewriteAudit(t, db, 3, `{"i": 99}`)
		if v := verifyAudit(t, db); v.FirstBadID != 3 || !strings.Contains(v.Problem, "not keyed") {
			t.Errorf("rewritten keyed chain: %+v", v)
		}
	})
	for _, keyed := range []bool{false, true} {
		name := map[bool]string{false: "unkeyed", true: "keyed"}[keyed]
		anchorAt := func(t *testing.T, db *store.DB) []vigil.AuditAnchor {
			h, err := db.AuditHead(ctx)
			if err != nil {
				t.Fatal(err)
			}
			return []vigil.AuditAnchor{{ID: h.ID, Hash: h.Hash, At: time.Now(), Source: "checkpoint file line 1"}}
		}
		setup := func(t *testing.T) *store.DB {
			db := open(t)
			if keyed {
				if err := db.SetAuditKey(key); err != nil {
					t.Fatal(err)
				}
			}
			AppendAuditEntries(t, db, 8)
			return db
		}
		t.Run(name+" truncated", func(t *testing.T) {
			db := setup(t)
			anchors := anchorAt(t, db)
			TruncateAudit(t, db, 5)
			if v := verifyAudit(t, db); v.FirstBadID != 0 {
				t.Fatalf("without checkpoints a cut tail looks intact, yet: %+v", v)
			}
			v, err := db.VerifyAuditAnchored(ctx, anchors)
			if err != nil || v.FirstBadID == 0 || !strings.Contains(v.Problem, "newest entries were removed") ||
				!strings.Contains(v.Problem, "checkpoint file line 1") {
				t.Errorf("cut tail: %+v %v", v, err)
			}
		})
		t.Run(name+" rewritten", func(t *testing.T) {
			db := setup(t)
			anchors := anchorAt(t, db)
			RewriteAudit(t, db, 2, `{"i": 42}`)
			v, err := db.VerifyAuditAnchored(ctx, anchors)
			if err != nil || v.FirstBadID == 0 || v.FirstBadID > anchors[0].ID {
				t.Errorf("rewritten chain: %+v %v", v, err)
			}
			if !keyed && !strings.Contains(v.Problem, "differs from the one checkpoint file line 1 recorded") {
				t.Errorf("rewritten unkeyed chain: %+v", v)
			}
		})
	}
}
