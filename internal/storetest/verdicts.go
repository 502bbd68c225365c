package storetest

import (
	"context"
	"testing"

	"github.com/vigil-hotline/vigil/internal/store"
)

// MediaVerdict is what a test checks of one decided media item.
type MediaVerdict struct {
	Status, Class string
	Queued        bool
}

// ReportMediaVerdicts lists the decided (not pending) media seen through a
// report's URLs, in SHA-256 order: what end-to-end tests poll until the
// pipeline has judged every picture.
func ReportMediaVerdicts(t testing.TB, db *store.DB, reportID int64) []MediaVerdict {
	t.Helper()
	ctx := context.Background()
	rows, err := db.Driver().Reader().Query(ctx, `SELECT m.status, m.classification, m.queued_at IS NOT NULL
		FROM media m JOIN media_sightings s ON s.media_id = m.id JOIN report_urls ru ON ru.url_id = s.reported_url_id
		WHERE ru.report_id = $1 AND m.status <> 'pending' ORDER BY m.sha256`, reportID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []MediaVerdict
	for rows.Next() {
		var v MediaVerdict
		if err := rows.Scan(&v.Status, &v.Class, &v.Queued); err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
