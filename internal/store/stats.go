package store

import (
	"context"

	"github.com/vigil-hotline/vigil"
)

var _ vigil.StatsService = (*DB)(nil)

// Stats gathers the statistics.
func (db *DB) Stats(ctx context.Context) (*vigil.Stats, error) {
	s := &vigil.Stats{}
	rc, err := db.ReportCounts(ctx)
	if err != nil {
		return nil, err
	}
	mc, err := db.MediaCounts(ctx)
	if err != nil {
		return nil, err
	}
	td, err := db.TakedownStats(ctx)
	if err != nil {
		return nil, err
	}
	err = db.drv.Reader().QueryRow(ctx, `SELECT count(DISTINCT media_id) FROM assessments
		WHERE state = 'confirmed' AND verdict IN ($1, $2)`,
		string(vigil.VerdictBaseline), string(vigil.VerdictNational)).Scan(&s.AssessedIllegal)
	if err != nil {
		return nil, wrap(err, "stats")
	}
	s.Reports, s.ReportedURLs = rc.Reports, rc.ReportedURLs
	s.Media, s.KnownMedia, s.UnknownMedia = mc.Media, mc.Known, mc.Unknown
	s.NoticesSent, s.URLsRemoved = td.NoticesSent, td.URLsRemoved
	s.Removals(td.TimesToRemoval)
	return s, nil
}
