package web

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/netmap"
)

// mapClustersMaxAge is how long computed clusters are shown before they
// are computed again: all of them take seconds on a large map.
const mapClustersMaxAge = 5 * time.Minute

const (
	mapClustersShown = 100
	mapLeadsShown    = 50
)

// mapClusterCache holds the last computation of the clusters and leads.
type mapClusterCache struct {
	mu  sync.Mutex
	res *netmap.Result
	at  time.Time
}

func (c *mapClusterCache) get(ctx context.Context, st vigil.MapStore, rules vigil.MapRules, now time.Time, fresh bool) (*netmap.Result, time.Time, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.res != nil && !fresh && now.Sub(c.at) < mapClustersMaxAge {
		return c.res, c.at, nil
	}
	res, err := netmap.Compute(ctx, st, rules)
	if err != nil {
		return nil, time.Time{}, err
	}
	c.res, c.at = res, now
	return res, now, nil
}

type mapClustersData struct {
	Clusters []*vigil.MapCluster
	Total    int
	Leads    []netmap.Lead
	At       time.Time
}

// handleMapClusters lists the clusters of linked cases, largest first,
// with why they are linked, where they are hosted and how they grew; and
// the leads: infrastructure that recurs across unrelated cases, for
// proactive searching. Audited as a view of the map.
func (s *Server) handleMapClusters(w http.ResponseWriter, r *http.Request) {
	res, at, err := s.mapClusters.get(r.Context(), s.cfg.Map.Store, s.cfg.Map.Rules, s.cfg.Now(), r.URL.Query().Get("fresh") == "1")
	if err != nil {
		s.mapError(w, "map clusters", err)
		return
	}
	if err := s.audit(r, "map.clusters", "map", map[string]any{"clusters": len(res.Clusters), "leads": len(res.Leads)}); err != nil {
		s.staffRefusal(w, r, http.StatusServiceUnavailable, "refuse_view_record")
		return
	}
	d := mapClustersData{Clusters: res.Clusters, Total: len(res.Clusters), Leads: res.Leads, At: at}
	if len(d.Clusters) > mapClustersShown {
		d.Clusters = d.Clusters[:mapClustersShown]
	}
	if len(d.Leads) > mapLeadsShown {
		d.Leads = d.Leads[:mapLeadsShown]
	}
	s.render(w, r, http.StatusOK, "staff_map_clusters", s.newStaffPage(w, r, d))
}
