package netmap

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/vigil-hotline/vigil"
)

// Graph is a part of the map: nodes and the edges between them.
type Graph struct {
	Nodes []*vigil.MapNode
	Edges []vigil.MapEdge
	// Cut lists the nodes whose neighbours were not all followed (a hub
	// such as a hosting network), Truncated that the node limit was hit.
	Cut       []int64
	Truncated bool
}

// Limits bound a neighbourhood.
type Limits struct {
	// PerNode is how many edges each way are followed from one node.
	PerNode int
	// MaxNodes bounds the nodes of the answer.
	MaxNodes int
}

// ViewLimits suit a page; ExportLimits an investigator's file.
var (
	ViewLimits   = Limits{PerNode: 50, MaxNodes: 400}
	ExportLimits = Limits{PerNode: 2000, MaxNodes: 200000}
)

// Neighbourhood returns the nodes within depth edges of the start nodes
// (either direction), and the edges among them.
func Neighbourhood(ctx context.Context, st vigil.MapStore, start []int64, depth int, lim Limits) (*Graph, error) {
	g := &Graph{}
	seen := map[int64]bool{}
	for _, id := range start {
		seen[id] = true
	}
	frontier := slices.Clone(start)
	type ek struct {
		src, dst int64
		kind     vigil.EdgeKind
	}
	edges := map[ek]vigil.MapEdge{}
	for d := 0; d < depth && len(frontier) > 0; d++ {
		es, more, err := st.MapNeighbours(ctx, frontier, lim.PerNode)
		if err != nil {
			return nil, fmt.Errorf("neighbourhood: %w", err)
		}
		for id := range more {
			g.Cut = append(g.Cut, id)
		}
		var next []int64
		for _, e := range es {
			for _, id := range []int64{e.Src, e.Dst} {
				if !seen[id] {
					if len(seen) >= lim.MaxNodes {
						g.Truncated = true
						continue
					}
					seen[id] = true
					next = append(next, id)
				}
			}
			if seen[e.Src] && seen[e.Dst] {
				edges[ek{e.Src, e.Dst, e.Kind}] = e
			}
		}
		frontier = next
	}
	// Edges among the last ring's nodes and back to the others.
	if len(frontier) > 0 {
		es, _, err := st.MapNeighbours(ctx, frontier, lim.PerNode)
		if err != nil {
			return nil, fmt.Errorf("neighbourhood: %w", err)
		}
		for _, e := range es {
			if seen[e.Src] && seen[e.Dst] {
				edges[ek{e.Src, e.Dst, e.Kind}] = e
			}
		}
	}
	ids := make([]int64, 0, len(seen))
	for id := range seen {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	nodes, err := st.MapNodes(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("neighbourhood: %w", err)
	}
	g.Nodes = nodes
	for _, e := range edges {
		g.Edges = append(g.Edges, e)
	}
	slices.SortFunc(g.Edges, func(a, b vigil.MapEdge) int {
		return cmp.Or(cmp.Compare(a.Src, b.Src), cmp.Compare(a.Dst, b.Dst), cmp.Compare(a.Kind, b.Kind))
	})
	slices.Sort(g.Cut)
	return g, nil
}

// exportDepth reaches from a case to its pages, their media and domains,
// the addresses and bank entries behind those, and the networks.
const exportDepth = 4

// CaseGraph is the neighbourhood of a case, for export.
func CaseGraph(ctx context.Context, st vigil.MapStore, caseID int64, lim Limits) (*Graph, error) {
	n, err := st.FindMapNode(ctx, vigil.NodeCase, vigil.CaseNodeKey(caseID))
	if err != nil {
		return nil, err
	}
	return Neighbourhood(ctx, st, []int64{n.ID}, exportDepth, lim)
}

// ClustersGraph is the neighbourhood of the cases of the given clusters.
func ClustersGraph(ctx context.Context, st vigil.MapStore, clusters []*vigil.MapCluster, lim Limits) (*Graph, error) {
	var start []int64
	for _, c := range clusters {
		for _, cc := range c.Cases {
			n, err := st.FindMapNode(ctx, vigil.NodeCase, vigil.CaseNodeKey(cc.ID))
			if vigil.IsNotFound(err) {
				continue
			}
			if err != nil {
				return nil, err
			}
			start = append(start, n.ID)
		}
	}
	return Neighbourhood(ctx, st, start, exportDepth, lim)
}

// ParseCaseRef reads a case's number from its reference (BE-2026-000123),
// "case:123" or the bare number.
func ParseCaseRef(ref string) (int64, error) {
	s := strings.TrimPrefix(strings.TrimSpace(ref), "case:")
	if parts := strings.Split(s, "-"); len(parts) > 1 {
		// PREFIX-YEAR-NUMBER; the prefix may hold dashes itself.
		year := parts[len(parts)-2]
		if len(parts) < 3 || parts[0] == "" || len(year) != 4 || strings.Trim(year, "0123456789") != "" {
			return 0, vigil.Errorf(vigil.EINVALID, "case %q: want its reference (PREFIX-YEAR-NUMBER) or number", ref)
		}
		s = parts[len(parts)-1]
	}
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, vigil.Errorf(vigil.EINVALID, "case %q: want its reference (PREFIX-YEAR-NUMBER) or number", ref)
	}
	return id, nil
}

// Why is one reason two cases are linked.
type Why struct {
	CaseID  int64
	CaseURL string
	// Reasons: the shared nodes, with whether each links under the rules.
	Reasons []vigil.CaseLink
}

// CaseWhy says which cases share something with a case and why, those
// whose shared nodes link first. Near-duplicate links are not listed here
// (they need the whole map): the case's cluster shows them.
func CaseWhy(ctx context.Context, st vigil.MapStore, caseID int64, rules vigil.MapRules) ([]Why, error) {
	links, err := st.CaseLinks(ctx, caseID)
	if err != nil {
		return nil, err
	}
	byCase := map[int64]*Why{}
	var order []int64
	for _, l := range links {
		w := byCase[l.OtherCase]
		if w == nil {
			w = &Why{CaseID: l.OtherCase, CaseURL: l.OtherURL}
			byCase[l.OtherCase] = w
			order = append(order, l.OtherCase)
		}
		ok, why := rules.Links(l.Node, l.Cases)
		w.Reasons = append(w.Reasons, vigil.CaseLink{CaseID: l.OtherCase, CaseURL: l.OtherURL, Kind: l.Node.Kind,
			Key: l.Node.Key, Label: l.Node.Label, Links: ok, Why: why})
	}
	out := make([]Why, 0, len(order))
	for _, id := range order {
		out = append(out, *byCase[id])
	}
	linked := func(w Why) bool {
		return slices.ContainsFunc(w.Reasons, func(l vigil.CaseLink) bool { return l.Links })
	}
	slices.SortStableFunc(out, func(a, b Why) int {
		la, lb := linked(a), linked(b)
		switch {
		case la && !lb:
			return -1
		case lb && !la:
			return 1
		}
		return cmp.Compare(a.CaseID, b.CaseID)
	})
	return out, nil
}
