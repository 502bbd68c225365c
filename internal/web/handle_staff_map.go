package web

import (
	"cmp"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/netmap"
)

// mapNodeView is a node as the map page shows it: never a picture, a media
// item only by its hash and verdict.
type mapNodeView struct {
	ID      int64  `json:"id"`
	Kind    string `json:"kind"`
	Label   string `json:"label"`
	Country string `json:"country,omitempty"`
	Verdict string `json:"verdict,omitempty"`
	// CaseID is a case node's case, for the link to its case view.
	CaseID    int64  `json:"case,omitempty"`
	FirstSeen string `json:"first_seen"`
	LastSeen  string `json:"last_seen"`
	Centre    bool   `json:"centre,omitempty"`
	Cut       bool   `json:"cut,omitempty"`
	// Relations are its edges within the neighbourhood, for the list.
	Relations []mapRelation `json:"-"`
}

type mapRelation struct {
	Kind  string
	Out   bool
	Other *mapNodeView
}

type mapEdgeView struct {
	Source int64  `json:"source"`
	Target int64  `json:"target"`
	Kind   string `json:"kind"`
}

type mapGraphView struct {
	Nodes []*mapNodeView `json:"nodes"`
	Edges []mapEdgeView  `json:"edges"`
}

type mapPageData struct {
	Q         string
	Searched  bool
	Results   []*mapNodeView
	Centre    *mapNodeView
	Depth     int
	Depths    []int
	Graph     *mapGraphView
	Truncated bool
	Cut       int
}

const (
	mapMaxDepth      = 3
	mapDefaultDepth  = 2
	mapSearchResults = 50
)

var asnQuery = regexp.MustCompile(`(?i)^(?:as)?\s*([0-9]{1,10})$`)

func mapView(n *vigil.MapNode) *mapNodeView {
	v := &mapNodeView{ID: n.ID, Kind: string(n.Kind), Label: netmap.NodeLabel(n), Country: n.Country, Verdict: n.Verdict,
		FirstSeen: n.FirstSeenAt.UTC().Format("2006-01-02"), LastSeen: n.LastSeenAt.UTC().Format("2006-01-02")}
	if n.Kind == vigil.NodeCase {
		v.CaseID = n.RefID
	}
	return v
}

// handleMap searches the map (by URL, domain, hash, address or AS number)
// and shows a node's neighbourhood to a chosen depth, as a graph drawn in
// the browser and as a list that works without script. Each search and
// each view is on the audit record, as a case view is.
func (s *Server) handleMap(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	st := s.cfg.Map.Store
	q := r.URL.Query()
	d := mapPageData{Q: strings.TrimSpace(q.Get("q")), Depth: mapDefaultDepth, Depths: []int{1, 2, 3}}
	if v, err := strconv.Atoi(q.Get("depth")); err == nil {
		d.Depth = min(max(v, 1), mapMaxDepth)
	}
	if len(d.Q) > 2048 {
		s.staffRefusal(w, r, http.StatusBadRequest, "refuse_search_long")
		return
	}
	var centre int64
	if d.Q != "" {
		d.Searched = true
		var found []*vigil.MapNode
		if m := asnQuery.FindStringSubmatch(d.Q); m != nil {
			if n, err := st.FindMapNode(ctx, vigil.NodeNetwork, "AS"+m[1]); err == nil {
				found = append(found, n)
			} else if !vigil.IsNotFound(err) {
				s.mapError(w, "map search", err)
				return
			}
		}
		more, err := st.SearchMap(ctx, d.Q, mapSearchResults)
		if err != nil {
			s.mapError(w, "map search", err)
			return
		}
		for _, n := range more {
			if !slices.ContainsFunc(found, func(f *vigil.MapNode) bool { return f.ID == n.ID }) {
				found = append(found, n)
			}
		}
		for _, n := range found {
			d.Results = append(d.Results, mapView(n))
		}
		if err := s.audit(r, "map.search", "map", map[string]any{"q": d.Q, "results": len(found)}); err != nil {
			s.staffRefusal(w, r, http.StatusServiceUnavailable, "refuse_search_record")
			return
		}
		if len(found) == 1 {
			centre = found[0].ID
		}
	}
	if v := q.Get("node"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			s.staffRefusal(w, r, http.StatusBadRequest, "refuse_no_node")
			return
		}
		centre = id
	}
	if centre != 0 {
		g, err := netmap.Neighbourhood(ctx, st, []int64{centre}, d.Depth, netmap.ViewLimits)
		if err != nil {
			s.mapError(w, "map neighbourhood", err)
			return
		}
		if !slices.ContainsFunc(g.Nodes, func(n *vigil.MapNode) bool { return n.ID == centre }) {
			s.staffRefusal(w, r, http.StatusNotFound, "refuse_no_node")
			return
		}
		if err := s.audit(r, "map.view", "map-node:"+strconv.FormatInt(centre, 10),
			map[string]any{"depth": d.Depth, "nodes": len(g.Nodes)}); err != nil {
			s.staffRefusal(w, r, http.StatusServiceUnavailable, "refuse_view_record")
			return
		}
		d.Graph, d.Centre = graphView(g, centre), nil
		for _, n := range d.Graph.Nodes {
			if n.Centre {
				d.Centre = n
			}
		}
		d.Truncated, d.Cut = g.Truncated, len(g.Cut)
	}
	s.render(w, r, http.StatusOK, "staff_map", s.newStaffPage(w, r, d))
}

// graphView turns a neighbourhood into what the page draws and lists:
// the centre first, then by kind and label.
func graphView(g *netmap.Graph, centre int64) *mapGraphView {
	out := &mapGraphView{Edges: []mapEdgeView{}}
	byID := map[int64]*mapNodeView{}
	for _, n := range g.Nodes {
		v := mapView(n)
		v.Centre = n.ID == centre
		v.Cut = slices.Contains(g.Cut, n.ID)
		byID[n.ID] = v
		out.Nodes = append(out.Nodes, v)
	}
	for _, e := range g.Edges {
		src, dst := byID[e.Src], byID[e.Dst]
		if src == nil || dst == nil {
			continue
		}
		out.Edges = append(out.Edges, mapEdgeView{Source: e.Src, Target: e.Dst, Kind: string(e.Kind)})
		src.Relations = append(src.Relations, mapRelation{Kind: string(e.Kind), Out: true, Other: dst})
		dst.Relations = append(dst.Relations, mapRelation{Kind: string(e.Kind), Out: false, Other: src})
	}
	kindOrder := func(k string) int { return slices.Index(vigil.NodeKinds, vigil.NodeKind(k)) }
	slices.SortFunc(out.Nodes, func(a, b *mapNodeView) int {
		switch {
		case a.Centre && !b.Centre:
			return -1
		case b.Centre && !a.Centre:
			return 1
		}
		return cmp.Or(cmp.Compare(kindOrder(a.Kind), kindOrder(b.Kind)), cmp.Compare(a.Label, b.Label))
	})
	return out
}

func (s *Server) mapError(w http.ResponseWriter, what string, err error) {
	if httpStatus(err) >= 500 {
		s.logger.Error(what, "err", err)
	}
	http.Error(w, vigil.ErrorMessage(err), httpStatus(err))
}
