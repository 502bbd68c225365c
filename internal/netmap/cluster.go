// Package netmap computes what the network map shows from the graph the
// pipeline keeps (vigil.MapStore): clusters of linked cases with the
// reason for each link, neighbourhoods of a node, proactive leads, and
// exports for investigators' tools.
package netmap

import (
	"cmp"
	"context"
	"fmt"
	"runtime"
	"slices"
	"sync"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/index"
	"github.com/vigil-hotline/vigil/internal/pdq"
)

// maxShared bounds the shared nodes listed per cluster.
const maxShared = 200

// Result is the clusters of the whole map.
type Result struct {
	// Clusters: those of two cases or more, largest first.
	Clusters []*vigil.MapCluster
	// ClusterOf maps every case in Clusters to its cluster's ID.
	ClusterOf map[int64]int64
	// Leads are the domains, addresses and networks that recur across
	// unrelated cases, best first.
	Leads []Lead
	// NearDuplicates are the pairs of media nodes found within the
	// near-duplicate distance.
	NearDuplicates [][2]int64
}

// Lead is a node that recurs across cases that nothing else links.
type Lead struct {
	Node *vigil.MapNode `json:"-"`
	Kind vigil.NodeKind `json:"kind"`
	Key  string         `json:"key"`
	// Label is the node's label (a network's organisation).
	Label string `json:"label,omitempty"`
	// Cases is how many cases reached it, Clusters in how many unrelated
	// groups (clusters, or cases alone) they fall.
	Cases    int `json:"cases"`
	Clusters int `json:"clusters"`
	// Links says whether the node links cases itself, and Why not.
	Links bool   `json:"links"`
	Why   string `json:"why,omitempty"`
}

// leadKinds are the kinds worth searching for proactively.
var leadKinds = []vigil.NodeKind{vigil.NodeDomain, vigil.NodeAddress, vigil.NodeNetwork, vigil.NodeProvider, vigil.NodeRegistrar}

// unionFind over cases, by dense index.
type unionFind struct {
	idx    map[int64]int32
	ids    []int64
	parent []int32
}

func (u *unionFind) add(caseID int64) int32 {
	if i, ok := u.idx[caseID]; ok {
		return i
	}
	i := int32(len(u.ids))
	u.idx[caseID] = i
	u.ids = append(u.ids, caseID)
	u.parent = append(u.parent, i)
	return i
}

func (u *unionFind) find(i int32) int32 {
	for u.parent[i] != i {
		u.parent[i] = u.parent[u.parent[i]]
		i = u.parent[i]
	}
	return i
}

func (u *unionFind) union(a, b int32) {
	ra, rb := u.find(a), u.find(b)
	if ra != rb {
		// The smaller case ID roots, so a root names the cluster's
		// smallest case.
		if u.ids[ra] < u.ids[rb] {
			u.parent[rb] = ra
		} else {
			u.parent[ra] = rb
		}
	}
}

func (u *unionFind) unionAll(cases []int64) {
	if len(cases) == 0 {
		return
	}
	first := u.add(cases[0])
	for _, c := range cases[1:] {
		u.union(first, u.add(c))
	}
}

// root returns the cluster ID of a case.
func (u *unionFind) root(caseID int64) int64 {
	i, ok := u.idx[caseID]
	if !ok {
		return caseID
	}
	return u.ids[u.find(i)]
}

// shared is a node reached by two cases or more.
type shared struct {
	node  int64
	cases []int64
}

// Compute finds the clusters: cases are joined by each node that two of
// them reached and that the rules let link, by pairs of near-duplicate
// media, and by bank entries that their media matched.
func Compute(ctx context.Context, st vigil.MapStore, rules vigil.MapRules) (*Result, error) {
	res := &Result{ClusterOf: map[int64]int64{}}
	// Near-duplicates (CPU: the match index) run beside the reading of
	// the store (I/O).
	var nearErr error
	nearDone := make(chan struct{})
	go func() {
		defer close(nearDone)
		if rules.KindLinks(vigil.NodeMedia) && rules.NearDuplicate >= 0 {
			res.NearDuplicates, nearErr = NearDuplicates(ctx, st, rules.NearDuplicate)
		}
	}()
	matches := map[int64][]int64{} // bank entry → media nodes
	if rules.KindLinks(vigil.NodeBankEntry) {
		err := st.EachMatch(ctx, func(media, entry int64) error {
			matches[entry] = append(matches[entry], media)
			return nil
		})
		if err != nil {
			<-nearDone
			return nil, fmt.Errorf("clusters: %w", err)
		}
	}
	// Which cases reached which nodes, in node order, kept whole: two
	// flat arrays cost less than a map of the nodes.
	var pNode, pCase []int64
	err := st.EachPresence(ctx, func(p vigil.MapPresence) error {
		pNode, pCase = append(pNode, p.NodeID), append(pCase, p.CaseID)
		return nil
	})
	<-nearDone
	if err != nil {
		return nil, fmt.Errorf("clusters: %w", err)
	}
	if nearErr != nil {
		return nil, nearErr
	}
	casesOf := func(node int64) []int64 {
		lo, _ := slices.BinarySearch(pNode, node)
		hi := lo
		for hi < len(pNode) && pNode[hi] == node {
			hi++
		}
		return pCase[lo:hi]
	}
	interest := map[int64][]int64{}
	for _, p := range res.NearDuplicates {
		interest[p[0]], interest[p[1]] = casesOf(p[0]), casesOf(p[1])
	}
	for _, media := range matches {
		for _, m := range media {
			interest[m] = casesOf(m)
		}
	}
	var cands []shared
	for lo := 0; lo < len(pNode); {
		hi := lo + 1
		for hi < len(pNode) && pNode[hi] == pNode[lo] {
			hi++
		}
		if hi-lo >= 2 {
			cands = append(cands, shared{pNode[lo], pCase[lo:hi]})
		}
		lo = hi
	}

	// What the rules need to know of the nodes concerned.
	need := make([]int64, 0, len(cands)+len(interest)+len(matches))
	for _, c := range cands {
		need = append(need, c.node)
	}
	for id := range interest {
		need = append(need, id)
	}
	for id := range matches {
		need = append(need, id)
	}
	slices.Sort(need)
	need = slices.Compact(need)
	nodeList, err := st.MapNodes(ctx, need)
	if err != nil {
		return nil, fmt.Errorf("clusters: %w", err)
	}
	nodes := make(map[int64]*vigil.MapNode, len(nodeList))
	for _, n := range nodeList {
		nodes[n.ID] = n
	}

	uf := &unionFind{idx: map[int64]int32{}}
	var linking []shared
	for _, c := range cands {
		n := nodes[c.node]
		if n == nil {
			continue
		}
		if ok, _ := rules.Links(n, len(c.cases)); ok {
			uf.unionAll(c.cases)
			linking = append(linking, c)
		}
	}
	linksAlone := func(id int64) bool {
		n := nodes[id]
		if n == nil {
			return false
		}
		ok, _ := rules.Links(n, len(interest[id]))
		return ok
	}
	var nearPairs [][2]int64
	for _, p := range res.NearDuplicates {
		if !linksAlone(p[0]) || !linksAlone(p[1]) {
			continue
		}
		cases := append(slices.Clone(interest[p[0]]), interest[p[1]]...)
		uf.unionAll(cases)
		nearPairs = append(nearPairs, p)
	}
	for entry, media := range matches {
		n := nodes[entry]
		if n == nil {
			continue
		}
		var cases []int64
		for _, m := range media {
			cases = append(cases, interest[m]...)
		}
		slices.Sort(cases)
		cases = slices.Compact(cases)
		if len(cases) < 2 {
			continue
		}
		if ok, _ := rules.Links(n, len(cases)); ok {
			uf.unionAll(cases)
			linking = append(linking, shared{entry, cases})
		}
	}

	// Clusters of two cases or more.
	byID := map[int64]*vigil.MapCluster{}
	for _, id := range uf.ids {
		r := uf.root(id)
		c := byID[r]
		if c == nil {
			c = &vigil.MapCluster{ID: r, Links: map[string]int{}}
			byID[r] = c
		}
		c.Cases = append(c.Cases, vigil.ClusterCase{ID: id})
		res.ClusterOf[id] = r
	}
	slices.SortFunc(linking, func(a, b shared) int { return cmp.Compare(a.node, b.node) })
	for _, s := range linking {
		c := byID[uf.root(s.cases[0])]
		n := nodes[s.node]
		c.Links[string(n.Kind)]++
		if len(c.Shared) < maxShared {
			c.Shared = append(c.Shared, vigil.SharedNode{Kind: n.Kind, Key: n.Key, Label: n.Label, Cases: s.cases})
		}
	}
	for _, p := range nearPairs {
		if cs := interest[p[0]]; len(cs) > 0 {
			byID[uf.root(cs[0])].Links[string(vigil.EdgeNearDuplicate)]++
		}
	}
	var all []int64
	for _, c := range byID {
		if len(c.Cases) < 2 {
			delete(res.ClusterOf, c.Cases[0].ID)
			continue
		}
		slices.SortFunc(c.Cases, func(a, b vigil.ClusterCase) int { return cmp.Compare(a.ID, b.ID) })
		for _, cc := range c.Cases {
			all = append(all, cc.ID)
		}
		res.Clusters = append(res.Clusters, c)
	}
	if err := addFacts(ctx, st, res.Clusters, all); err != nil {
		return nil, err
	}
	slices.SortFunc(res.Clusters, func(a, b *vigil.MapCluster) int {
		return cmp.Or(cmp.Compare(len(b.Cases), len(a.Cases)), cmp.Compare(a.ID, b.ID))
	})
	res.Leads = leads(cands, nodes, uf, rules)
	return res, nil
}

// addFacts fills in the cases' URLs, countries, providers and growth.
func addFacts(ctx context.Context, st vigil.MapStore, clusters []*vigil.MapCluster, all []int64) error {
	slices.Sort(all)
	facts, err := st.CaseFacts(ctx, all)
	if err != nil {
		return fmt.Errorf("clusters: %w", err)
	}
	for _, c := range clusters {
		months := map[string]int{}
		for i := range c.Cases {
			f := facts[c.Cases[i].ID]
			c.Cases[i].URL = f.URL
			if f.Country != "" && !slices.Contains(c.Countries, f.Country) {
				c.Countries = append(c.Countries, f.Country)
			}
			if f.Provider != "" && !slices.Contains(c.Providers, f.Provider) {
				c.Providers = append(c.Providers, f.Provider)
			}
			if f.FirstReportedAt.IsZero() {
				continue
			}
			months[f.FirstReportedAt.UTC().Format("2006-01")]++
			if c.FirstSeenAt.IsZero() || f.FirstReportedAt.Before(c.FirstSeenAt) {
				c.FirstSeenAt = f.FirstReportedAt
			}
			if f.FirstReportedAt.After(c.LastSeenAt) {
				c.LastSeenAt = f.FirstReportedAt
			}
		}
		for m, n := range months {
			c.Growth = append(c.Growth, vigil.MonthCount{Month: m, Count: n})
		}
		slices.SortFunc(c.Growth, func(a, b vigil.MonthCount) int { return cmp.Compare(a.Month, b.Month) })
		slices.Sort(c.Countries)
		slices.Sort(c.Providers)
		for _, s := range c.Shared {
			if s.Kind == vigil.NodeNetwork && !slices.Contains(c.Networks, s.Key) {
				c.Networks = append(c.Networks, s.Key)
			}
		}
		if c.Countries == nil {
			c.Countries = []string{}
		}
		if c.Providers == nil {
			c.Providers = []string{}
		}
		if c.Networks == nil {
			c.Networks = []string{}
		}
	}
	return nil
}

// leads ranks the infrastructure that recurs across unrelated groups of
// cases: the more groups, the better the lead.
func leads(cands []shared, nodes map[int64]*vigil.MapNode, uf *unionFind, rules vigil.MapRules) []Lead {
	var out []Lead
	for _, c := range cands {
		n := nodes[c.node]
		if n == nil || !slices.Contains(leadKinds, n.Kind) {
			continue
		}
		groups := map[int64]bool{}
		for _, id := range c.cases {
			groups[uf.root(id)] = true
		}
		if len(groups) < 2 {
			continue
		}
		ok, why := rules.Links(n, len(c.cases))
		out = append(out, Lead{Node: n, Kind: n.Kind, Key: n.Key, Label: n.Label, Cases: len(c.cases), Clusters: len(groups), Links: ok, Why: why})
	}
	slices.SortFunc(out, func(a, b Lead) int {
		return cmp.Or(cmp.Compare(b.Clusters, a.Clusters), cmp.Compare(b.Cases, a.Cases), cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Key, b.Key))
	})
	return out
}

// NearDuplicates returns the pairs of media nodes whose PDQ hashes are
// within maxDist bits, each pair once (smaller node first). It indexes
// every hash with the match index and asks it for each, in parallel.
func NearDuplicates(ctx context.Context, st vigil.MapStore, maxDist int) ([][2]int64, error) {
	var ids []int64
	var hashes []pdq.Hash
	err := st.EachMediaHash(ctx, func(h vigil.MapMediaHash) error {
		x, err := pdq.ParseHex(h.PDQ)
		if err != nil || x.IsZero() {
			return nil //nolint:nilerr // an unreadable hash has no near-duplicates
		}
		ids = append(ids, h.NodeID)
		hashes = append(hashes, x)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("near-duplicates: %w", err)
	}
	if len(ids) < 2 {
		return nil, nil
	}
	b := index.NewBuilder(len(ids), index.Options{})
	for i := range ids {
		b.Add(ids[i], hashes[i])
	}
	x, err := b.Build()
	if err != nil {
		return nil, fmt.Errorf("near-duplicates: %w", err)
	}
	workers := runtime.GOMAXPROCS(0)
	parts := make([][][2]int64, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(ids); i += workers {
				if i%4096 == 0 && ctx.Err() != nil {
					return
				}
				for _, m := range x.Search(hashes[i], maxDist) {
					if m.ID > ids[i] {
						parts[w] = append(parts[w], [2]int64{ids[i], m.ID})
					}
				}
			}
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("near-duplicates: %w", err)
	}
	var out [][2]int64
	for _, p := range parts {
		out = append(out, p...)
	}
	slices.SortFunc(out, func(a, b [2]int64) int { return cmp.Or(cmp.Compare(a[0], b[0]), cmp.Compare(a[1], b[1])) })
	return out, nil
}

// Find returns the cluster with this ID.
func (r *Result) Find(id int64) (*vigil.MapCluster, error) {
	for _, c := range r.Clusters {
		if c.ID == id {
			return c, nil
		}
	}
	return nil, vigil.Errorf(vigil.ENOTFOUND, "no cluster %d", id)
}
