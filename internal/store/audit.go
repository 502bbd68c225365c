package store

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-hotline/vigil"
)

var _ vigil.AuditService = (*DB)(nil)

// auditLock is the advisory lock key that serialises audit appends on
// PostgreSQL ("viga"): each entry needs the hash of the one before, so two
// appends must not read the same head.
const auditLock = 0x76696761

// AuditHash is an unkeyed entry's hash: hex SHA-256 over a canonical
// encoding of its ID, time (UTC, microseconds), actor ID, actor, action,
// object, detail and the previous entry's hash. Each field is written as
// its length, a colon and its bytes, so that no two different entries
// encode alike whatever their fields contain. Entries written before the
// chain was keyed keep this hash; anyone with the database can recompute
// it, which is why new entries are keyed (AuditHMAC).
func AuditHash(e *vigil.AuditEntry) string {
	h := sha256.New()
	writeAuditFields(h, "vigil-audit-v1", e)
	return hex.EncodeToString(h.Sum(nil))
}

// AuditHMAC is a keyed entry's hash: HMAC-SHA-256 under the audit key
// over the same encoding as AuditHash, plus the key's ID. Without the key,
// which is kept apart from the database, nobody can recompute it, so a
// rewritten entry cannot be given a hash that holds.
func AuditHMAC(key []byte, e *vigil.AuditEntry) string {
	h := hmac.New(sha256.New, key)
	writeAuditFields(h, "vigil-audit-v2", e)
	fmt.Fprintf(h, "%d:%s\n", len(e.KeyID), e.KeyID)
	return hex.EncodeToString(h.Sum(nil))
}

func writeAuditFields(h io.Writer, label string, e *vigil.AuditEntry) {
	field := func(s string) { fmt.Fprintf(h, "%d:%s\n", len(s), s) }
	field(label)
	field(strconv.FormatInt(e.ID, 10))
	field(e.At.UTC().Format("2006-01-02T15:04:05.000000Z"))
	field(strconv.FormatInt(e.ActorID, 10))
	field(e.Actor)
	field(e.Action)
	field(e.Object)
	field(e.Detail)
	field(e.PrevHash)
}

// AuditKeyID names a key without revealing it: the first 16 hex digits of
// its HMAC over a fixed label. Entries record it, so that verification
// with the wrong key says so instead of calling every entry altered.
func AuditKeyID(key []byte) string {
	h := hmac.New(sha256.New, key)
	h.Write([]byte("vigil-audit-key-id"))
	return hex.EncodeToString(h.Sum(nil))[:16]
}

type auditKeying struct {
	key []byte
	id  string
}

// SetAuditKey keys the audit chain: entries appended from now on carry an
// HMAC under key instead of a plain hash. The first keyed entry
// ("audit.keyed") records the switch; earlier entries keep verifying as
// they were. Once the chain is keyed, a process without the key, or with
// another one, cannot append.
func (db *DB) SetAuditKey(key []byte) error {
	if len(key) < 32 {
		return fmt.Errorf("the audit key must be at least 32 bytes")
	}
	db.audit = auditKeying{key: append([]byte(nil), key...), id: AuditKeyID(key)}
	return nil
}

// AuditKeyID returns the ID of the key the chain is keyed with by this
// process; empty when none is set.
func (db *DB) AuditKeyID() string { return db.audit.id }

// AppendAudit adds an entry at the end of the chain.
func (db *DB) AppendAudit(ctx context.Context, e *vigil.AuditEntry) error {
	if e.Action == "" {
		return vigil.Errorf(vigil.EINVALID, "an audit entry needs an action")
	}
	if e.Actor == "" {
		e.Actor = "system"
	}
	if e.Detail == "" {
		e.Detail = "{}"
	}
	if !json.Valid([]byte(e.Detail)) || !strings.HasPrefix(strings.TrimSpace(e.Detail), "{") {
		return vigil.Errorf(vigil.EINVALID, "audit detail must be a JSON object")
	}
	if e.At.IsZero() {
		e.At = db.Now()
	}
	// Both databases keep microseconds; the hash must cover what is kept.
	e.At = e.At.UTC().Truncate(time.Microsecond)
	err := db.drv.WithTx(ctx, func(tx Tx) error {
		if err := db.drv.LockKey(ctx, tx, auditLock); err != nil {
			return err
		}
		var head vigil.AuditHeadState
		if err := tx.QueryRow(ctx, `SELECT id, hash, key_id FROM audit_head WHERE one = 1`).Scan(&head.ID, &head.Hash, &head.KeyID); err != nil {
			return fmt.Errorf("read audit head: %w", err)
		}
		switch {
		case head.KeyID != "" && db.audit.id == "":
			return fmt.Errorf("the audit log is keyed (key %s) but this process has no audit key", head.KeyID)
		case head.KeyID != "" && head.KeyID != db.audit.id:
			return fmt.Errorf("the audit log is keyed with key %s, not with this process's key %s", head.KeyID, db.audit.id)
		case head.KeyID == "" && db.audit.id != "":
			// The switch is itself on the record, keyed, naming the last
			// unkeyed entry: from here on every entry must be keyed.
			sw := &vigil.AuditEntry{At: e.At, Actor: "system", Action: "audit.keyed", Object: "audit",
				Detail: fmt.Sprintf(`{"key_id":%q,"unkeyed_entries":%d}`, db.audit.id, head.ID)}
			if err := db.insertAudit(ctx, tx, &head, sw); err != nil {
				return err
			}
		}
		if err := db.insertAudit(ctx, tx, &head, e); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `UPDATE audit_head SET id = $1, hash = $2, key_id = $3 WHERE one = 1`, head.ID, head.Hash, head.KeyID)
		return err
	})
	return wrap(err, "append audit entry")
}

// insertAudit writes e after head and moves head to it.
func (db *DB) insertAudit(ctx context.Context, tx Tx, head *vigil.AuditHeadState, e *vigil.AuditEntry) error {
	e.ID, e.PrevHash, e.KeyID = head.ID+1, head.Hash, db.audit.id
	if db.audit.id != "" {
		e.Hash = AuditHMAC(db.audit.key, e)
	} else {
		e.Hash = AuditHash(e)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO audit_log (id, at, actor_id, actor, action, object, detail, prev_hash, hash, key_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		e.ID, e.At, e.ActorID, e.Actor, e.Action, e.Object, e.Detail, e.PrevHash, e.Hash, e.KeyID); err != nil {
		return err
	}
	*head = vigil.AuditHeadState{ID: e.ID, Hash: e.Hash, KeyID: e.KeyID}
	return nil
}

const auditColumns = `id, at, actor_id, actor, action, object, detail, prev_hash, hash, key_id`

func scanAudit(row Row) (*vigil.AuditEntry, error) {
	e := &vigil.AuditEntry{}
	err := row.Scan(&e.ID, &e.At, &e.ActorID, &e.Actor, &e.Action, &e.Object, &e.Detail, &e.PrevHash, &e.Hash, &e.KeyID)
	return e, err
}

// ListAudit returns entries newest first. Action matches exactly or, when
// it ends in ".", as a prefix ("media." for every media action).
func (db *DB) ListAudit(ctx context.Context, f vigil.AuditFilter) ([]*vigil.AuditEntry, error) {
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 100
	}
	var where []string
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	if f.ActorID != 0 {
		add("actor_id = $%d", f.ActorID)
	}
	if strings.HasSuffix(f.Action, ".") {
		// A range instead of LIKE, so that '_' and '%' in the filter mean
		// themselves and the index serves it.
		add("action >= $%d", f.Action)
		add("action < $%d", f.Action[:len(f.Action)-1]+"/")
	} else if f.Action != "" {
		add("action = $%d", f.Action)
	}
	if f.Object != "" {
		add("object = $%d", f.Object)
	}
	if f.BeforeID > 0 {
		add("id < $%d", f.BeforeID)
	}
	q := `SELECT ` + auditColumns + ` FROM audit_log`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	args = append(args, f.Limit)
	q += fmt.Sprintf(` ORDER BY id DESC LIMIT $%d`, len(args))
	rows, err := db.drv.Reader().Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list audit: %w", err)
	}
	defer rows.Close()
	var out []*vigil.AuditEntry
	for rows.Next() {
		e, err := scanAudit(rows)
		if err != nil {
			return nil, fmt.Errorf("list audit: %w", err)
		}
		out = append(out, e)
	}
	return out, wrap(rows.Err(), "list audit")
}

// VerifyAudit walks the whole chain in ID order and stops at the first
// entry that does not hold: a gap in the IDs (entries removed), a previous
// hash that is not the hash of the entry before (removed or reordered), a
// hash that does not match the entry's fields (altered), or a chain that
// ends before the head (the newest entries removed).
func (db *DB) VerifyAudit(ctx context.Context) (vigil.AuditVerification, error) {
	return db.VerifyAuditAnchored(ctx, nil)
}

// VerifyAuditAnchored is VerifyAudit that also checks the chain against
// checkpoints kept outside the database. The head row alone cannot reveal
// a cut tail or a consistent rewrite, since whoever changes the log can
// change the head too; a checkpoint they cannot reach or sign can.
func (db *DB) VerifyAuditAnchored(ctx context.Context, anchors []vigil.AuditAnchor) (vigil.AuditVerification, error) {
	var v vigil.AuditVerification
	byID := map[int64][]vigil.AuditAnchor{}
	var newest vigil.AuditAnchor
	for _, a := range anchors {
		if a.ID <= 0 {
			continue
		}
		byID[a.ID] = append(byID[a.ID], a)
		if a.ID > newest.ID {
			newest = a
		}
		v.Anchors++
	}
	// The head is read before and after the walk: entries appended
	// meanwhile are no tampering, but the chain must reach the first head
	// and go no further than the second.
	head1, err := db.AuditHead(ctx)
	if err != nil {
		return v, fmt.Errorf("verify audit: %w", err)
	}
	rows, err := db.drv.Reader().Query(ctx, `SELECT `+auditColumns+` FROM audit_log ORDER BY id`)
	if err != nil {
		return v, fmt.Errorf("verify audit: %w", err)
	}
	defer rows.Close()
	var prevID int64
	var prevHash string
	bad := func(id int64, format string, args ...any) {
		v.FirstBadID, v.Problem = id, fmt.Sprintf(format, args...)
	}
	for rows.Next() {
		e, err := scanAudit(rows)
		if err != nil {
			return v, fmt.Errorf("verify audit: %w", err)
		}
		v.Entries++
		if e.KeyID != "" && v.KeyedFrom == 0 {
			v.KeyedFrom = e.ID
		}
		switch {
		case e.ID != prevID+1:
			bad(e.ID, "entries %d to %d are missing", prevID+1, e.ID-1)
		case e.PrevHash != prevHash:
			bad(e.ID, "its previous hash is not the hash of entry %d (entries removed or reordered)", prevID)
		case e.KeyID == "" && v.KeyedFrom != 0:
			bad(e.ID, "it is not keyed although the chain is keyed from entry %d (the entry was rewritten without the key)", v.KeyedFrom)
		case e.KeyID == "" && AuditHash(e) != e.Hash:
			bad(e.ID, "its hash does not match its contents (the entry was altered)")
		case e.KeyID != "" && db.audit.id == "":
			return v, fmt.Errorf("verify audit: the log is keyed (key %s) from entry %d; verifying it needs the audit key", e.KeyID, e.ID)
		case e.KeyID != "" && e.KeyID != db.audit.id:
			bad(e.ID, "it is keyed with key %s, not with the audit key %s (wrong key, or the entry was rewritten)", e.KeyID, db.audit.id)
		case e.KeyID != "" && !hmac.Equal([]byte(AuditHMAC(db.audit.key, e)), []byte(e.Hash)):
			bad(e.ID, "its keyed hash does not match its contents (the entry was altered)")
		}
		for _, a := range byID[e.ID] {
			if v.FirstBadID == 0 && a.Hash != e.Hash {
				bad(e.ID, "its hash differs from the one %s recorded at %s (the log was rewritten up to here)",
					a.Source, a.At.UTC().Format(time.RFC3339))
			}
		}
		if v.FirstBadID != 0 {
			return v, nil
		}
		prevID, prevHash = e.ID, e.Hash
		v.LastID, v.LastHash = e.ID, e.Hash
	}
	if err := rows.Err(); err != nil {
		return v, fmt.Errorf("verify audit: %w", err)
	}
	rows.Close()
	head2, err := db.AuditHead(ctx)
	if err != nil {
		return v, fmt.Errorf("verify audit: %w", err)
	}
	switch {
	case newest.ID > prevID:
		bad(prevID+1, "the log ends at entry %d but %s, taken at %s, names entry %d (the newest entries were removed)",
			prevID, newest.Source, newest.At.UTC().Format(time.RFC3339), newest.ID)
	case prevID < head1.ID:
		bad(prevID+1, "the log ends at entry %d but its head names entry %d (the newest entries were removed)", prevID, head1.ID)
	case prevID > head2.ID:
		bad(head2.ID+1, "entries after the log's head (entry %d) were added outside Vigil", head2.ID)
	case prevID == head1.ID && prevHash != head1.Hash, prevID == head2.ID && prevHash != head2.Hash:
		bad(prevID, "its hash is not the one the log's head recorded (the entry was altered)")
	}
	return v, nil
}

// AuditHead returns what the log's head names: its newest entry and the
// key the chain is keyed with.
func (db *DB) AuditHead(ctx context.Context) (vigil.AuditHeadState, error) {
	var h vigil.AuditHeadState
	err := db.drv.Reader().QueryRow(ctx, `SELECT id, hash, key_id FROM audit_head WHERE one = 1`).Scan(&h.ID, &h.Hash, &h.KeyID)
	if err != nil {
		return h, fmt.Errorf("read audit head: %w", err)
	}
	return h, nil
}
