package store

import (
	"context"
	"fmt"
	"strings"

	"github.com/vigil-hotline/vigil"
)

var _ vigil.MapStore = (*DB)(nil)

// mapNodeColumns: a media node's verdict comes from its media row (status
// and classification), never anything that shows the picture.
const mapNodeColumns = `n.id, n.kind, n.key, n.label, n.ref_id, n.country, n.cdn, n.first_seen_at, n.last_seen_at,
	COALESCE(m.status, ''), COALESCE(m.classification, '')`

const mapNodeFrom = ` FROM graph_nodes n LEFT JOIN media m ON n.kind = 'media' AND m.id = n.ref_id`

func scanMapNode(row Row) (*vigil.MapNode, error) {
	n := &vigil.MapNode{}
	var kind, status, class string
	if err := row.Scan(&n.ID, &kind, &n.Key, &n.Label, &n.RefID, &n.Country, &n.CDN, &n.FirstSeenAt, &n.LastSeenAt,
		&status, &class); err != nil {
		return nil, err
	}
	n.Kind = vigil.NodeKind(kind)
	if status != "" {
		n.Verdict = status
		if class != "" {
			n.Verdict += ": " + class
		}
	}
	return n, nil
}

func (db *DB) queryMapNodes(ctx context.Context, what, q string, args ...any) ([]*vigil.MapNode, error) {
	rows, err := db.drv.Reader().Query(ctx, `SELECT `+mapNodeColumns+mapNodeFrom+q, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	var out []*vigil.MapNode
	for rows.Next() {
		n, err := scanMapNode(rows)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		out = append(out, n)
	}
	return out, wrap(rows.Err(), what)
}

// EachPresence visits every (node, case) pair in node order.
func (db *DB) EachPresence(ctx context.Context, fn func(vigil.MapPresence) error) error {
	rows, err := db.drv.Reader().Query(ctx, `SELECT node_id, case_id FROM graph_presence ORDER BY node_id, case_id`)
	if err != nil {
		return fmt.Errorf("map presence: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var p vigil.MapPresence
		if err := rows.Scan(&p.NodeID, &p.CaseID); err != nil {
			return fmt.Errorf("map presence: %w", err)
		}
		if err := fn(p); err != nil {
			return err
		}
	}
	return wrap(rows.Err(), "map presence")
}

// EachEdge visits every edge of the given kinds (all when none).
func (db *DB) EachEdge(ctx context.Context, kinds []vigil.EdgeKind, fn func(vigil.MapEdge) error) error {
	q := `SELECT src, dst, kind, first_seen_at, last_seen_at FROM graph_edges`
	var args []any
	if len(kinds) > 0 {
		ps := make([]string, len(kinds))
		for i, k := range kinds {
			ps[i] = ph(i + 1)
			args = append(args, string(k))
		}
		q += ` WHERE kind IN (` + strings.Join(ps, ",") + `)`
	}
	rows, err := db.drv.Reader().Query(ctx, q+` ORDER BY src, dst, kind`, args...)
	if err != nil {
		return fmt.Errorf("map edges: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var e vigil.MapEdge
		var kind string
		if err := rows.Scan(&e.Src, &e.Dst, &kind, &e.FirstSeenAt, &e.LastSeenAt); err != nil {
			return fmt.Errorf("map edges: %w", err)
		}
		e.Kind = vigil.EdgeKind(kind)
		if err := fn(e); err != nil {
			return err
		}
	}
	return wrap(rows.Err(), "map edges")
}

// EachMatch visits every "media matches bank entry" edge, from the bank
// entry nodes (few) rather than a scan of every edge.
func (db *DB) EachMatch(ctx context.Context, fn func(media, entry int64) error) error {
	rows, err := db.drv.Reader().Query(ctx, `SELECT e.src, e.dst FROM graph_nodes n JOIN graph_edges e ON e.dst = n.id
		WHERE n.kind = 'bank_entry' AND e.kind = 'matches' ORDER BY e.dst, e.src`)
	if err != nil {
		return fmt.Errorf("map matches: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var media, entry int64
		if err := rows.Scan(&media, &entry); err != nil {
			return fmt.Errorf("map matches: %w", err)
		}
		if err := fn(media, entry); err != nil {
			return err
		}
	}
	return wrap(rows.Err(), "map matches")
}

// EachMediaHash visits every media node whose item has a PDQ hash.
func (db *DB) EachMediaHash(ctx context.Context, fn func(vigil.MapMediaHash) error) error {
	// In media order: the (kind, ref_id) index gives the nodes so, and the
	// media rows are then read in their own order.
	rows, err := db.drv.Reader().Query(ctx, `SELECT n.id, m.pdq FROM graph_nodes n JOIN media m ON m.id = n.ref_id
		WHERE n.kind = 'media' AND m.pdq <> '' ORDER BY n.ref_id`)
	if err != nil {
		return fmt.Errorf("map media hashes: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var h vigil.MapMediaHash
		if err := rows.Scan(&h.NodeID, &h.PDQ); err != nil {
			return fmt.Errorf("map media hashes: %w", err)
		}
		if err := fn(h); err != nil {
			return err
		}
	}
	return wrap(rows.Err(), "map media hashes")
}

// MapNodes returns the nodes with these IDs that exist, in ID order.
func (db *DB) MapNodes(ctx context.Context, ids []int64) ([]*vigil.MapNode, error) {
	var out []*vigil.MapNode
	for start := 0; start < len(ids); start += 500 {
		list, args := inList(ids[start:min(start+500, len(ids))])
		ns, err := db.queryMapNodes(ctx, "map nodes", ` WHERE n.id IN (`+list+`) ORDER BY n.id`, args...)
		if err != nil {
			return nil, err
		}
		out = append(out, ns...)
	}
	return out, nil
}

// FindMapNode returns a node by kind and key.
func (db *DB) FindMapNode(ctx context.Context, kind vigil.NodeKind, key string) (*vigil.MapNode, error) {
	n, err := scanMapNode(db.drv.Reader().QueryRow(ctx, `SELECT `+mapNodeColumns+mapNodeFrom+` WHERE n.kind = $1 AND n.key = $2`,
		string(kind), key))
	if err != nil {
		return nil, wrap(notFound(err, "no %s %q on the map", kind, key), "find map node")
	}
	return n, nil
}

// SearchMap finds nodes by key or label: exact matches first, then those
// that contain q (case-insensitive), at most limit.
func (db *DB) SearchMap(ctx context.Context, q string, limit int) ([]*vigil.MapNode, error) {
	q = strings.TrimSpace(q)
	if q == "" {
		return nil, nil
	}
	exact, err := db.queryMapNodes(ctx, "search map", ` WHERE n.key = $1 OR n.key = $2 OR n.label = $1 ORDER BY n.id LIMIT $3`,
		q, strings.ToLower(q), limit)
	if err != nil || len(exact) >= limit {
		return exact, err
	}
	like := "%" + strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(strings.ToLower(q)) + "%"
	more, err := db.queryMapNodes(ctx, "search map", ` WHERE lower(n.key) LIKE $1 ESCAPE '\' OR lower(n.label) LIKE $1 ESCAPE '\'
		ORDER BY n.id LIMIT $2`, like, limit)
	if err != nil {
		return nil, err
	}
	seen := map[int64]bool{}
	for _, n := range exact {
		seen[n.ID] = true
	}
	for _, n := range more {
		if !seen[n.ID] && len(exact) < limit {
			exact = append(exact, n)
		}
	}
	return exact, nil
}

// MapNeighbours returns the edges touching the given nodes, at most
// limitPerNode each way per node; more says which nodes had more.
func (db *DB) MapNeighbours(ctx context.Context, ids []int64, limitPerNode int) ([]vigil.MapEdge, map[int64]bool, error) {
	var out []vigil.MapEdge
	more := map[int64]bool{}
	for _, id := range ids {
		for _, col := range []string{"src", "dst"} {
			rows, err := db.drv.Reader().Query(ctx, `SELECT src, dst, kind, first_seen_at, last_seen_at FROM graph_edges
				WHERE `+col+` = $1 LIMIT $2`, id, limitPerNode+1)
			if err != nil {
				return nil, nil, fmt.Errorf("map neighbours: %w", err)
			}
			n := 0
			for rows.Next() {
				var e vigil.MapEdge
				var kind string
				if err := rows.Scan(&e.Src, &e.Dst, &kind, &e.FirstSeenAt, &e.LastSeenAt); err != nil {
					_ = rows.Close()
					return nil, nil, fmt.Errorf("map neighbours: %w", err)
				}
				if n++; n > limitPerNode {
					more[id] = true
					continue
				}
				e.Kind = vigil.EdgeKind(kind)
				out = append(out, e)
			}
			err = rows.Err()
			if cerr := rows.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return nil, nil, fmt.Errorf("map neighbours: %w", err)
			}
		}
	}
	return out, more, nil
}

// maxCaseLinks bounds what a case view reads of its links.
const maxCaseLinks = 2000

// CaseLinks returns the nodes a case reached that other cases reached
// too, with the other case and how many cases reached the node.
func (db *DB) CaseLinks(ctx context.Context, reportedURLID int64) ([]vigil.SharedNodeCount, error) {
	rows, err := db.drv.Reader().Query(ctx, `SELECT `+mapNodeColumns+`, p2.case_id, r.url,
		(SELECT count(*) FROM graph_presence p3 WHERE p3.node_id = n.id)
		FROM graph_presence p1 JOIN graph_presence p2 ON p2.node_id = p1.node_id AND p2.case_id <> p1.case_id
		JOIN graph_nodes n ON n.id = p1.node_id LEFT JOIN media m ON n.kind = 'media' AND m.id = n.ref_id
		JOIN reported_urls r ON r.id = p2.case_id
		WHERE p1.case_id = $1 ORDER BY p2.case_id, n.kind, n.id LIMIT $2`, reportedURLID, maxCaseLinks)
	if err != nil {
		return nil, fmt.Errorf("case links: %w", err)
	}
	defer rows.Close()
	var out []vigil.SharedNodeCount
	for rows.Next() {
		n := &vigil.MapNode{}
		var kind, status, class string
		var s vigil.SharedNodeCount
		if err := rows.Scan(&n.ID, &kind, &n.Key, &n.Label, &n.RefID, &n.Country, &n.CDN, &n.FirstSeenAt, &n.LastSeenAt,
			&status, &class, &s.OtherCase, &s.OtherURL, &s.Cases); err != nil {
			return nil, fmt.Errorf("case links: %w", err)
		}
		n.Kind, n.Verdict = vigil.NodeKind(kind), strings.TrimSuffix(status+": "+class, ": ")
		s.Node = n
		out = append(out, s)
	}
	return out, wrap(rows.Err(), "case links")
}

// CaseFacts returns what clusters show of cases.
func (db *DB) CaseFacts(ctx context.Context, ids []int64) (map[int64]vigil.CaseFact, error) {
	out := make(map[int64]vigil.CaseFact, len(ids))
	for start := 0; start < len(ids); start += 500 {
		list, args := inList(ids[start:min(start+500, len(ids))])
		rows, err := db.drv.Reader().Query(ctx, `SELECT r.id, r.url, r.first_reported_at, COALESCE(t.country, ''),
			COALESCE(t.provider, '') FROM reported_urls r LEFT JOIN takedowns t ON t.reported_url_id = r.id
			WHERE r.id IN (`+list+`)`, args...)
		if err != nil {
			return nil, fmt.Errorf("case facts: %w", err)
		}
		for rows.Next() {
			var id int64
			var f vigil.CaseFact
			if err := rows.Scan(&id, &f.URL, &f.FirstReportedAt, &f.Country, &f.Provider); err != nil {
				_ = rows.Close()
				return nil, fmt.Errorf("case facts: %w", err)
			}
			out[id] = f
		}
		err = rows.Err()
		if cerr := rows.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return nil, fmt.Errorf("case facts: %w", err)
		}
	}
	return out, nil
}
