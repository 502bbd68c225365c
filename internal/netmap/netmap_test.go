package netmap_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/xml"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/netmap"
)

// memMap is a map held in memory, for the rules alone.
type memMap struct {
	nodes    map[int64]*vigil.MapNode
	presence []vigil.MapPresence
	edges    []vigil.MapEdge
	pdq      map[int64]string
}

func newMem() *memMap { return &memMap{nodes: map[int64]*vigil.MapNode{}, pdq: map[int64]string{}} }

func (m *memMap) node(id int64, kind vigil.NodeKind, key string, cases ...int64) {
	m.nodes[id] = &vigil.MapNode{ID: id, Kind: kind, Key: key}
	for _, c := range cases {
		m.presence = append(m.presence, vigil.MapPresence{NodeID: id, CaseID: c})
	}
}

func (m *memMap) EachPresence(ctx context.Context, fn func(vigil.MapPresence) error) error {
	ps := slices.Clone(m.presence)
	slices.SortFunc(ps, func(a, b vigil.MapPresence) int {
		if a.NodeID != b.NodeID {
			return int(a.NodeID - b.NodeID)
		}
		return int(a.CaseID - b.CaseID)
	})
	for _, p := range ps {
		if err := fn(p); err != nil {
			return err
		}
	}
	return nil
}

func (m *memMap) EachEdge(ctx context.Context, kinds []vigil.EdgeKind, fn func(vigil.MapEdge) error) error {
	for _, e := range m.edges {
		if len(kinds) == 0 || slices.Contains(kinds, e.Kind) {
			if err := fn(e); err != nil {
				return err
			}
		}
	}
	return nil
}

func (m *memMap) EachMatch(ctx context.Context, fn func(media, entry int64) error) error {
	return m.EachEdge(ctx, []vigil.EdgeKind{vigil.EdgeMatches}, func(e vigil.MapEdge) error { return fn(e.Src, e.Dst) })
}

func (m *memMap) EachMediaHash(ctx context.Context, fn func(vigil.MapMediaHash) error) error {
	ids := make([]int64, 0, len(m.pdq))
	for id := range m.pdq {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		if err := fn(vigil.MapMediaHash{NodeID: id, PDQ: m.pdq[id]}); err != nil {
			return err
		}
	}
	return nil
}

func (m *memMap) MapNodes(ctx context.Context, ids []int64) ([]*vigil.MapNode, error) {
	var out []*vigil.MapNode
	for _, id := range ids {
		if n := m.nodes[id]; n != nil {
			out = append(out, n)
		}
	}
	return out, nil
}

func (m *memMap) FindMapNode(ctx context.Context, kind vigil.NodeKind, key string) (*vigil.MapNode, error) {
	for _, n := range m.nodes {
		if n.Kind == kind && n.Key == key {
			return n, nil
		}
	}
	return nil, vigil.Errorf(vigil.ENOTFOUND, "no node")
}

func (m *memMap) SearchMap(ctx context.Context, q string, limit int) ([]*vigil.MapNode, error) {
	return nil, nil
}

func (m *memMap) MapNeighbours(ctx context.Context, ids []int64, limit int) ([]vigil.MapEdge, map[int64]bool, error) {
	var out []vigil.MapEdge
	for _, e := range m.edges {
		if slices.Contains(ids, e.Src) || slices.Contains(ids, e.Dst) {
			out = append(out, e)
		}
	}
	return out, nil, nil
}

func (m *memMap) CaseLinks(ctx context.Context, id int64) ([]vigil.SharedNodeCount, error) {
	return nil, nil
}

func (m *memMap) CaseFacts(ctx context.Context, ids []int64) (map[int64]vigil.CaseFact, error) {
	out := map[int64]vigil.CaseFact{}
	for _, id := range ids {
		out[id] = vigil.CaseFact{URL: "https://case.example/" + vigil.CaseNodeKey(id), FirstReportedAt: time.Date(2026, 11, int(id), 0, 0, 0, 0, time.UTC)}
	}
	return out, nil
}

func clusterIDs(res *netmap.Result) [][]int64 {
	var out [][]int64
	for _, c := range res.Clusters {
		var ids []int64
		for _, cc := range c.Cases {
			ids = append(ids, cc.ID)
		}
		out = append(out, ids)
	}
	return out
}

// TestComputeRules: shared nodes join cases unless their kind does not
// link, they are over the degree cap or configured away; bank entries join
// the cases of the media that matched them; chains join transitively.
func TestComputeRules(t *testing.T) {
	m := newMem()
	m.node(10, vigil.NodeDomain, "shared.example", 1, 2)
	m.node(11, vigil.NodeMedia, "aa", 2, 3) // 1-2-3 by a chain
	m.node(12, vigil.NodeNetwork, "AS1", 4, 5)
	m.node(13, vigil.NodeDomain, "cdn.example", 4, 6)
	m.node(14, vigil.NodeAddress, "192.0.2.1", 7, 8, 9) // over a cap of 2
	m.node(15, vigil.NodeMedia, "bb", 10)
	m.node(16, vigil.NodeMedia, "cc", 11)
	m.node(17, vigil.NodeBankEntry, "7")
	m.edges = []vigil.MapEdge{{Src: 15, Dst: 17, Kind: vigil.EdgeMatches}, {Src: 16, Dst: 17, Kind: vigil.EdgeMatches}}
	rules := vigil.DefaultMapRules()
	rules.DegreeCap, rules.NoLink, rules.NearDuplicate = 2, []string{"domain:cdn.example"}, -1
	res, err := netmap.Compute(context.Background(), m, rules)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := clusterIDs(res), [][]int64{{1, 2, 3}, {10, 11}}; !slices.EqualFunc(got, want, slices.Equal) {
		t.Fatalf("clusters %v, want %v", got, want)
	}
	c := res.Clusters[0]
	if c.Links["domain"] != 1 || c.Links["media"] != 1 || len(c.Growth) != 1 || c.Growth[0].Count != 3 {
		t.Errorf("cluster %+v", c)
	}
	if res.ClusterOf[3] != 1 || res.ClusterOf[11] != 10 {
		t.Errorf("cluster of: %v", res.ClusterOf)
	}
	// The address is over the cap: a lead across three unrelated cases;
	// the network and the CDN across two.
	if len(res.Leads) != 3 || res.Leads[0].Key != "192.0.2.1" || res.Leads[0].Clusters != 3 || res.Leads[0].Links {
		t.Errorf("leads %+v", res.Leads)
	}
}

// TestComputeNearDuplicates: media whose PDQ hashes are within the
// distance join their cases; farther ones do not.
func TestComputeNearDuplicates(t *testing.T) {
	base := strings.Repeat("f0", 32)
	near := "0f" + base[2:]                     // 8 bits off
	far := strings.Repeat("0f", 16) + base[32:] // 128 bits off
	m := newMem()
	m.node(1, vigil.NodeMedia, "a", 100)
	m.node(2, vigil.NodeMedia, "b", 200)
	m.node(3, vigil.NodeMedia, "c", 300)
	m.pdq = map[int64]string{1: base, 2: near, 3: far}
	rules := vigil.DefaultMapRules()
	rules.NearDuplicate = 8
	res, err := netmap.Compute(context.Background(), m, rules)
	if err != nil {
		t.Fatal(err)
	}
	if got := clusterIDs(res); len(got) != 1 || !slices.Equal(got[0], []int64{100, 200}) {
		t.Fatalf("clusters %v", got)
	}
	if res.Clusters[0].Links[string(vigil.EdgeNearDuplicate)] != 1 {
		t.Errorf("links %v", res.Clusters[0].Links)
	}
	rules.NearDuplicate = 7
	if res, err = netmap.Compute(context.Background(), m, rules); err != nil || len(res.Clusters) != 0 {
		t.Errorf("at distance 7: %v %v", clusterIDs(res), err)
	}
}

// TestExports: GraphML and GEXF parse as XML with every node and edge;
// CSV keeps a hostile label from being read as a formula.
func TestExports(t *testing.T) {
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	g := &netmap.Graph{
		Nodes: []*vigil.MapNode{
			{ID: 1, Kind: vigil.NodeCase, Key: "1", Label: "https://a.example/<x>&", FirstSeenAt: now, LastSeenAt: now},
			{ID: 2, Kind: vigil.NodeMedia, Key: strings.Repeat("ab", 32), Verdict: "known: A1", FirstSeenAt: now, LastSeenAt: now},
			{ID: 3, Kind: vigil.NodeDomain, Key: "=cmd|' /C calc'!A0", FirstSeenAt: now, LastSeenAt: now},
		},
		Edges: []vigil.MapEdge{{Src: 1, Dst: 2, Kind: vigil.EdgeEmbeds, FirstSeenAt: now, LastSeenAt: now},
			{Src: 2, Dst: 3, Kind: vigil.EdgeServedFrom, FirstSeenAt: now, LastSeenAt: now}},
	}
	var gm, gx bytes.Buffer
	if err := netmap.WriteGraphML(&gm, g); err != nil {
		t.Fatal(err)
	}
	if err := netmap.WriteGEXF(&gx, g, now); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Nodes []struct {
			ID string `xml:"id,attr"`
		} `xml:"graph>node"`
		Edges []struct {
			ID string `xml:"id,attr"`
		} `xml:"graph>edge"`
	}
	if err := xml.Unmarshal(gm.Bytes(), &doc); err != nil || len(doc.Nodes) != 3 || len(doc.Edges) != 2 {
		t.Errorf("GraphML: %v, %+v", err, doc)
	}
	var gexf struct {
		Nodes []struct {
			ID    string `xml:"id,attr"`
			Label string `xml:"label,attr"`
		} `xml:"graph>nodes>node"`
		Edges []struct {
			Source string `xml:"source,attr"`
		} `xml:"graph>edges>edge"`
	}
	if err := xml.Unmarshal(gx.Bytes(), &gexf); err != nil || len(gexf.Nodes) != 3 || len(gexf.Edges) != 2 ||
		!strings.Contains(gexf.Nodes[1].Label, "known: A1") {
		t.Errorf("GEXF: %v, %+v", err, gexf)
	}
	var nodes, edges bytes.Buffer
	if err := netmap.WriteCSV(&nodes, &edges, g); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&nodes).ReadAll()
	if err != nil || len(rows) != 4 || rows[3][2] != "'=cmd|' /C calc'!A0" {
		t.Errorf("nodes.csv: %v %q", err, rows)
	}
	if erows, err := csv.NewReader(&edges).ReadAll(); err != nil || len(erows) != 3 || erows[1][2] != "embeds" {
		t.Errorf("edges.csv: %v %q", err, erows)
	}
}

func TestParseCaseRef(t *testing.T) {
	for in, want := range map[string]int64{"BE-2026-000123": 123, "case:7": 7, "42": 42, " DEMO-2026-000009 ": 9} {
		if got, err := netmap.ParseCaseRef(in); err != nil || got != want {
			t.Errorf("%q: %d %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "x", "BE-2026-", "-5", "0"} {
		if _, err := netmap.ParseCaseRef(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
