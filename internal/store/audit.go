package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
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

// AuditHash is an entry's hash: hex SHA-256 over a canonical encoding of
// its ID, time (UTC, microseconds), actor ID, actor, action, object,
// detail and the previous entry's hash. Each field is written as its
// length, a colon and its bytes, so that no two different entries encode
// alike whatever their fields contain.
func AuditHash(e *vigil.AuditEntry) string {
	h := sha256.New()
	field := func(s string) { fmt.Fprintf(h, "%d:%s\n", len(s), s) }
	field("vigil-audit-v1")
	field(strconv.FormatInt(e.ID, 10))
	field(e.At.UTC().Format("2006-01-02T15:04:05.000000Z"))
	field(strconv.FormatInt(e.ActorID, 10))
	field(e.Actor)
	field(e.Action)
	field(e.Object)
	field(e.Detail)
	field(e.PrevHash)
	return hex.EncodeToString(h.Sum(nil))
}

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
		var lastID int64
		if err := tx.QueryRow(ctx, `SELECT id, hash FROM audit_head WHERE one = 1`).Scan(&lastID, &e.PrevHash); err != nil {
			return fmt.Errorf("read audit head: %w", err)
		}
		e.ID = lastID + 1
		e.Hash = AuditHash(e)
		if _, err := tx.Exec(ctx, `INSERT INTO audit_log (id, at, actor_id, actor, action, object, detail, prev_hash, hash)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
			e.ID, e.At, e.ActorID, e.Actor, e.Action, e.Object, e.Detail, e.PrevHash, e.Hash); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `UPDATE audit_head SET id = $1, hash = $2 WHERE one = 1`, e.ID, e.Hash)
		return err
	})
	return wrap(err, "append audit entry")
}

const auditColumns = `id, at, actor_id, actor, action, object, detail, prev_hash, hash`

func scanAudit(row Row) (*vigil.AuditEntry, error) {
	e := &vigil.AuditEntry{}
	err := row.Scan(&e.ID, &e.At, &e.ActorID, &e.Actor, &e.Action, &e.Object, &e.Detail, &e.PrevHash, &e.Hash)
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
	var v vigil.AuditVerification
	// The head is read before and after the walk: entries appended
	// meanwhile are no tampering, but the chain must reach the first head
	// and go no further than the second.
	head1, err := db.auditHead(ctx)
	if err != nil {
		return v, err
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
		switch {
		case e.ID != prevID+1:
			bad(e.ID, "entries %d to %d are missing", prevID+1, e.ID-1)
		case e.PrevHash != prevHash:
			bad(e.ID, "its previous hash is not the hash of entry %d (entries removed or reordered)", prevID)
		case AuditHash(e) != e.Hash:
			bad(e.ID, "its hash does not match its contents (the entry was altered)")
		}
		if v.FirstBadID != 0 {
			return v, nil
		}
		prevID, prevHash = e.ID, e.Hash
	}
	if err := rows.Err(); err != nil {
		return v, fmt.Errorf("verify audit: %w", err)
	}
	rows.Close()
	head2, err := db.auditHead(ctx)
	if err != nil {
		return v, err
	}
	switch {
	case prevID < head1.id:
		bad(prevID+1, "the log ends at entry %d but its head names entry %d (the newest entries were removed)", prevID, head1.id)
	case prevID > head2.id:
		bad(head2.id+1, "entries after the log's head (entry %d) were added outside Vigil", head2.id)
	case prevID == head1.id && prevHash != head1.hash, prevID == head2.id && prevHash != head2.hash:
		bad(prevID, "its hash is not the one the log's head recorded (the entry was altered)")
	}
	return v, nil
}

type auditHeadRow struct {
	id   int64
	hash string
}

func (db *DB) auditHead(ctx context.Context) (auditHeadRow, error) {
	var h auditHeadRow
	err := db.drv.Reader().QueryRow(ctx, `SELECT id, hash FROM audit_head WHERE one = 1`).Scan(&h.id, &h.hash)
	if err != nil {
		return h, fmt.Errorf("verify audit: read head: %w", err)
	}
	return h, nil
}
