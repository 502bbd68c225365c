package storetest_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/vigil-hotline/vigil/internal/store"
	"github.com/vigil-hotline/vigil/internal/storetest"
)

// TestMigrationTreesAgree holds the two migration trees to one schema: the
// same tables, the same columns in each, and the same indexes (name, table,
// uniqueness, columns). Types differ by design (TEXT times on SQLite,
// timestamptz on PostgreSQL), so they are not compared. It compares
// whatever migrations exist, so a migration added to one tree only fails
// here.
func TestMigrationTreesAgree(t *testing.T) {
	lite := schemaOf(t, storetest.Open(t, "sqlite"))
	pg := schemaOf(t, storetest.Open(t, "postgres"))
	// Guard the comparison itself: an introspection query that read
	// nothing would make the two sides agree.
	isIndex := func(l string) bool { return strings.HasPrefix(l, "index ") }
	if !slices.ContainsFunc(lite, isIndex) || !slices.ContainsFunc(pg, isIndex) || len(lite) < 20 || len(pg) < 20 {
		t.Fatalf("schema not read: %d and %d lines", len(lite), len(pg))
	}
	for _, d := range diffLines(lite, pg) {
		t.Error(d)
	}
}

// schemaOf describes a store's schema as sorted lines, River's own tables
// (migrated by River for each database) and the migration ledger left out.
func schemaOf(t *testing.T, db *store.DB) []string {
	t.Helper()
	ctx := context.Background()
	q := db.Driver().Reader()
	var lines []string
	add := func(query string, args ...any) {
		rows, err := q.Query(ctx, query, args...)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var kind, table, name, detail string
			if err := rows.Scan(&kind, &table, &name, &detail); err != nil {
				t.Fatal(err)
			}
			if strings.HasPrefix(table, "river_") || table == "schema_migrations" {
				continue
			}
			lines = append(lines, fmt.Sprintf("%s %s.%s %s", kind, table, name, detail))
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
	}
	switch db.Driver().Dialect() {
	case "sqlite":
		add(`SELECT 'column', m.name, c.name, '' FROM sqlite_master m, pragma_table_info(m.name) c
			WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'`)
		// Indexes made by CREATE INDEX (sql is NULL for those a UNIQUE or
		// PRIMARY KEY constraint makes).
		add(`SELECT 'index', m.tbl_name, m.name,
				(CASE WHEN m.sql LIKE 'CREATE UNIQUE%' THEN 'unique ' ELSE '' END) ||
				(SELECT group_concat(coalesce(name, 'expr'), ',') FROM (SELECT name FROM pragma_index_info(m.name) ORDER BY seqno))
			FROM sqlite_master m WHERE m.type = 'index' AND m.sql IS NOT NULL`)
	case "postgres":
		add(`SELECT 'column', table_name, column_name, '' FROM information_schema.columns
			WHERE table_schema = current_schema()`)
		add(`SELECT 'index', t.relname, i.relname,
				(CASE WHEN ix.indisunique THEN 'unique ' ELSE '' END) ||
				(SELECT string_agg(coalesce(a.attname, 'expr'), ',' ORDER BY k.n)
				 FROM unnest(ix.indkey::int2[]) WITH ORDINALITY k(attnum, n)
				 LEFT JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum)
			FROM pg_index ix
			JOIN pg_class i ON i.oid = ix.indexrelid
			JOIN pg_class t ON t.oid = ix.indrelid
			JOIN pg_namespace n ON n.oid = t.relnamespace
			WHERE n.nspname = current_schema()
			AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = ix.indexrelid)`)
	}
	slices.Sort(lines)
	return lines
}

// diffLines says what only one side has.
func diffLines(lite, pg []string) []string {
	var out []string
	for _, l := range lite {
		if _, found := slices.BinarySearch(pg, l); !found {
			out = append(out, "only in the SQLite tree: "+l)
		}
	}
	for _, l := range pg {
		if _, found := slices.BinarySearch(lite, l); !found {
			out = append(out, "only in the PostgreSQL tree: "+l)
		}
	}
	return out
}
