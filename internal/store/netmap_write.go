package store

import (
	"cmp"
	"context"
	"encoding/json"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/vigil-hotline/vigil"
)

// The map's writes (see netmap.go): each pipeline step that learns a fact
// adds its nodes and edges in its own transaction, as three batched
// upserts (nodes, edges, which nodes the case reached), so the map is never
// behind the results it comes from and never rebuilt.

// graphBatch collects the nodes and edges of one pipeline step.
type graphBatch struct {
	caseID int64 // the reported URL whose crawl reached the nodes; 0: none
	nodes  []graphNode
	idx    map[vigil.MapNodeKey]int
	edges  []graphEdge
}

type graphNode struct {
	key                 vigil.MapNodeKey
	label, country, cdn string
	ref                 int64
	present             bool
	id                  int64
}

type graphEdge struct {
	src, dst int // positions in nodes
	kind     vigil.EdgeKind
}

func newGraphBatch(caseID int64) *graphBatch {
	return &graphBatch{caseID: caseID, idx: map[vigil.MapNodeKey]int{}}
}

// node adds a node (once) and returns its position; later non-empty
// attributes win.
func (g *graphBatch) node(kind vigil.NodeKind, key, label string, ref int64) int {
	k := vigil.MapNodeKey{Kind: kind, Key: key}
	i, ok := g.idx[k]
	if !ok {
		i = len(g.nodes)
		g.idx[k] = i
		g.nodes = append(g.nodes, graphNode{key: k, present: g.caseID != 0})
	}
	n := &g.nodes[i]
	if label != "" {
		n.label = label
	}
	if ref != 0 {
		n.ref = ref
	}
	return i
}

func (g *graphBatch) edge(src, dst int, kind vigil.EdgeKind) {
	if src != dst {
		g.edges = append(g.edges, graphEdge{src, dst, kind})
	}
}

// page adds a page node and its domain; it returns the page's position,
// and -1 for a URL without a host.
func (g *graphBatch) page(u string) int {
	host := vigil.MapHost(u)
	if host == "" {
		return -1
	}
	p := g.node(vigil.NodePage, u, "", 0)
	g.edge(p, g.node(vigil.NodeDomain, host, "", 0), vigil.EdgeOnDomain)
	return p
}

// address adds "host resolves to the address connected to" ("ip:port").
func (g *graphBatch) address(host, connected string) {
	ap, err := netip.ParseAddrPort(connected)
	if host == "" || err != nil {
		return
	}
	g.edge(g.node(vigil.NodeDomain, host, "", 0), g.node(vigil.NodeAddress, ap.Addr().Unmap().String(), "", 0), vigil.EdgeResolvesTo)
}

// maxGraphRows bounds one statement's rows (SQLite's parameter limit).
const maxGraphRows = 200

// writeGraph upserts the batch: nodes in key order (so that concurrent
// transactions on PostgreSQL lock shared nodes in one order), then edges,
// then the case's presence.
func (db *DB) writeGraph(ctx context.Context, tx Tx, g *graphBatch) error {
	if len(g.nodes) == 0 {
		return nil
	}
	now := db.Now()
	order := make([]int, len(g.nodes))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int {
		ka, kb := g.nodes[a].key, g.nodes[b].key
		return cmp.Or(cmp.Compare(ka.Kind, kb.Kind), cmp.Compare(ka.Key, kb.Key))
	})
	for start := 0; start < len(order); start += maxGraphRows {
		chunk := order[start:min(start+maxGraphRows, len(order))]
		var q strings.Builder
		q.WriteString(`INSERT INTO graph_nodes (kind, key, label, ref_id, country, cdn, first_seen_at, last_seen_at) VALUES `)
		args := make([]any, 0, 7*len(chunk))
		for i, j := range chunk {
			n := g.nodes[j]
			if i > 0 {
				q.WriteByte(',')
			}
			b := len(args)
			q.WriteString("(" + ph(b+1) + "," + ph(b+2) + "," + ph(b+3) + "," + ph(b+4) + "," + ph(b+5) + "," + ph(b+6) + "," + ph(b+7) + "," + ph(b+7) + ")")
			args = append(args, string(n.key.Kind), n.key.Key, n.label, n.ref, n.country, n.cdn, now)
		}
		q.WriteString(` ON CONFLICT (kind, key) DO UPDATE SET last_seen_at = excluded.last_seen_at,
			label = CASE WHEN excluded.label <> '' THEN excluded.label ELSE graph_nodes.label END,
			ref_id = CASE WHEN excluded.ref_id <> 0 THEN excluded.ref_id ELSE graph_nodes.ref_id END,
			country = CASE WHEN excluded.country <> '' THEN excluded.country ELSE graph_nodes.country END,
			cdn = CASE WHEN excluded.cdn <> '' THEN excluded.cdn ELSE graph_nodes.cdn END
			RETURNING id, kind, key`)
		rows, err := tx.Query(ctx, q.String(), args...)
		if err != nil {
			return err
		}
		for rows.Next() {
			var id int64
			var kind, key string
			if err := rows.Scan(&id, &kind, &key); err != nil {
				_ = rows.Close()
				return err
			}
			if i, ok := g.idx[vigil.MapNodeKey{Kind: vigil.NodeKind(kind), Key: key}]; ok {
				g.nodes[i].id = id
			}
		}
		if err := rows.Close(); err != nil {
			return err
		}
		if err := rows.Err(); err != nil {
			return err
		}
	}
	type edgeKey struct {
		src, dst int64
		kind     vigil.EdgeKind
	}
	var edges []edgeKey
	for _, e := range g.edges {
		edges = append(edges, edgeKey{g.nodes[e.src].id, g.nodes[e.dst].id, e.kind})
	}
	slices.SortFunc(edges, func(a, b edgeKey) int {
		return cmp.Or(cmp.Compare(a.src, b.src), cmp.Compare(a.dst, b.dst), cmp.Compare(a.kind, b.kind))
	})
	edges = slices.Compact(edges)
	for start := 0; start < len(edges); start += maxGraphRows {
		chunk := edges[start:min(start+maxGraphRows, len(edges))]
		var q strings.Builder
		q.WriteString(`INSERT INTO graph_edges (src, dst, kind, first_seen_at, last_seen_at) VALUES `)
		args := make([]any, 0, 4*len(chunk))
		for i, e := range chunk {
			if i > 0 {
				q.WriteByte(',')
			}
			b := len(args)
			q.WriteString("(" + ph(b+1) + "," + ph(b+2) + "," + ph(b+3) + "," + ph(b+4) + "," + ph(b+4) + ")")
			args = append(args, e.src, e.dst, string(e.kind), now)
		}
		q.WriteString(` ON CONFLICT (src, dst, kind) DO UPDATE SET last_seen_at = excluded.last_seen_at`)
		if _, err := tx.Exec(ctx, q.String(), args...); err != nil {
			return err
		}
	}
	if g.caseID == 0 {
		return nil
	}
	var present []int64
	for _, j := range order {
		if g.nodes[j].present {
			present = append(present, g.nodes[j].id)
		}
	}
	slices.Sort(present)
	present = slices.Compact(present)
	for start := 0; start < len(present); start += maxGraphRows {
		chunk := present[start:min(start+maxGraphRows, len(present))]
		var q strings.Builder
		q.WriteString(`INSERT INTO graph_presence (node_id, case_id, first_seen_at, last_seen_at) VALUES `)
		args := make([]any, 0, 3*len(chunk))
		for i, id := range chunk {
			if i > 0 {
				q.WriteByte(',')
			}
			b := len(args)
			q.WriteString("(" + ph(b+1) + "," + ph(b+2) + "," + ph(b+3) + "," + ph(b+3) + ")")
			args = append(args, id, g.caseID, now)
		}
		q.WriteString(` ON CONFLICT (node_id, case_id) DO UPDATE SET last_seen_at = excluded.last_seen_at`)
		if _, err := tx.Exec(ctx, q.String(), args...); err != nil {
			return err
		}
	}
	return nil
}

func ph(n int) string { return "$" + strconv.Itoa(n) }

// evidenceHops is what the map reads of a fetch's evidence: the redirect
// chain (internal/crawl's Evidence; the store does not import it).
type evidenceHops struct {
	Redirects []struct {
		URL       string `json:"url"`
		Connected string `json:"connected"`
	} `json:"redirects"`
}

// graphPage adds what a page fetch shows: the case and its page (the root
// page), the page that linked to it, each URL of its redirect chain, their
// domains and the addresses connected to.
func (db *DB) graphPage(ctx context.Context, tx Tx, task *vigil.CrawlTask, f *vigil.Fetch) error {
	g := newGraphBatch(task.ReportedURLID)
	var hops evidenceHops
	_ = json.Unmarshal([]byte(f.Evidence), &hops) // evidence without a chain adds no hops
	first := f.RequestedURL
	if first == "" {
		first = task.Target
	}
	prev := -1
	add := func(u, connected string) {
		p := g.page(u)
		if p < 0 {
			return
		}
		if prev >= 0 {
			g.edge(prev, p, vigil.EdgeRedirectsTo)
		}
		g.address(vigil.MapHost(u), connected)
		prev = p
	}
	if len(hops.Redirects) == 0 {
		add(first, f.Connected)
	} else {
		for _, h := range hops.Redirects {
			add(h.URL, h.Connected)
		}
	}
	if f.FinalURL != "" && f.FinalURL != first && (len(hops.Redirects) == 0 || hops.Redirects[len(hops.Redirects)-1].URL != f.FinalURL) {
		add(f.FinalURL, f.Connected)
	}
	if root, ok := g.idx[vigil.MapNodeKey{Kind: vigil.NodePage, Key: firstURL(first, hops)}]; ok {
		if task.Depth == 0 {
			c := g.node(vigil.NodeCase, vigil.CaseNodeKey(task.ReportedURLID), task.Target, task.ReportedURLID)
			g.edge(c, root, vigil.EdgeReported)
		}
		if err := db.graphParent(ctx, tx, g, task, root, vigil.EdgeLinksTo); err != nil {
			return err
		}
	}
	return db.writeGraph(ctx, tx, g)
}

func firstURL(requested string, hops evidenceHops) string {
	if len(hops.Redirects) > 0 {
		return hops.Redirects[0].URL
	}
	return requested
}

// graphParent adds "the page that led to this task → node".
func (db *DB) graphParent(ctx context.Context, tx Tx, g *graphBatch, task *vigil.CrawlTask, node int, kind vigil.EdgeKind) error {
	if task.PageFetchID == 0 {
		return nil
	}
	var parent string
	if err := tx.QueryRow(ctx, `SELECT final_url FROM fetches WHERE id = $1`, task.PageFetchID).Scan(&parent); err != nil {
		return err
	}
	if p := g.page(parent); p >= 0 {
		g.edge(p, node, kind)
	}
	return nil
}

// graphMedia adds a media item, the page that embeds it, and the domain
// and address it was served from.
func (db *DB) graphMedia(ctx context.Context, tx Tx, task *vigil.CrawlTask, f *vigil.Fetch, m *vigil.Media) error {
	g := newGraphBatch(task.ReportedURLID)
	mn := g.node(vigil.NodeMedia, m.SHA256, m.Class, m.ID)
	served := f.FinalURL
	if served == "" {
		served = task.Target
	}
	if host := vigil.MapHost(served); host != "" {
		g.edge(mn, g.node(vigil.NodeDomain, host, "", 0), vigil.EdgeServedFrom)
		g.address(host, f.Connected)
	}
	if err := db.graphParent(ctx, tx, g, task, mn, vigil.EdgeEmbeds); err != nil {
		return err
	}
	return db.writeGraph(ctx, tx, g)
}

// graphVerdict adds "media matches bank entry" for a media item's matches.
func (db *DB) graphVerdict(ctx context.Context, tx Tx, mediaID int64, matches []vigil.Match) error {
	if len(matches) == 0 {
		return nil
	}
	var sha string
	if err := tx.QueryRow(ctx, `SELECT sha256 FROM media WHERE id = $1`, mediaID).Scan(&sha); err != nil {
		return err
	}
	g := newGraphBatch(0)
	mn := g.node(vigil.NodeMedia, sha, "", mediaID)
	for _, m := range matches {
		e := g.node(vigil.NodeBankEntry, strconv.FormatInt(m.EntryID, 10), m.BankName+" #"+strconv.FormatInt(m.EntryID, 10), m.EntryID)
		g.edge(mn, e, vigil.EdgeMatches)
	}
	return db.writeGraph(ctx, tx, g)
}

// traceFacts is what the map reads of a trace's evidence (internal/trace's
// Trace as JSON; the store does not import it).
type traceFacts struct {
	Host      string `json:"host"`
	Addresses []struct {
		IP      string `json:"ip"`
		Country string `json:"country"`
		ASN     uint32 `json:"asn"`
		ASOrg   string `json:"as_org"`
		CDN     string `json:"cdn"`
	} `json:"addresses"`
	Domain *struct {
		Name      string `json:"name"`
		Registrar *struct {
			Name string `json:"name"`
		} `json:"registrar"`
	} `json:"domain"`
}

// graphTrace adds what a case's trace found: its host's addresses, their
// networks and countries, the hosting provider and the registrar.
func (db *DB) graphTrace(ctx context.Context, tx Tx, takedownID int64, r *vigil.TraceResult) error {
	var caseID int64
	var u string
	if err := tx.QueryRow(ctx, `SELECT reported_url_id, url FROM takedowns WHERE id = $1`, takedownID).Scan(&caseID, &u); err != nil {
		return err
	}
	var t traceFacts
	_ = json.Unmarshal([]byte(r.Trace), &t) // a trace without evidence adds only its summary
	host := t.Host
	if host == "" {
		host = vigil.MapHost(u)
	}
	if host == "" {
		return nil
	}
	g := newGraphBatch(caseID)
	d := g.node(vigil.NodeDomain, strings.ToLower(host), "", 0)
	first := -1
	for _, a := range t.Addresses {
		ip, err := netip.ParseAddr(a.IP)
		if err != nil {
			continue
		}
		an := g.node(vigil.NodeAddress, ip.Unmap().String(), "", 0)
		g.nodes[an].country, g.nodes[an].cdn = a.Country, a.CDN
		g.edge(d, an, vigil.EdgeResolvesTo)
		if a.ASN != 0 {
			nn := g.node(vigil.NodeNetwork, vigil.NetworkNodeKey(a.ASN), a.ASOrg, int64(a.ASN))
			g.nodes[nn].country = a.Country
			g.edge(an, nn, vigil.EdgeInNetwork)
			if first < 0 {
				first = nn
			}
		}
	}
	if first < 0 && r.ASN != 0 {
		first = g.node(vigil.NodeNetwork, vigil.NetworkNodeKey(r.ASN), r.ASOrg, int64(r.ASN))
		g.nodes[first].country = r.Country
	}
	if r.Provider != "" {
		p := g.node(vigil.NodeProvider, r.Provider, "", 0)
		if first >= 0 {
			g.edge(first, p, vigil.EdgeHostedBy)
		} else {
			g.edge(d, p, vigil.EdgeHostedBy)
		}
	}
	if t.Domain != nil && t.Domain.Registrar != nil && t.Domain.Registrar.Name != "" {
		g.edge(d, g.node(vigil.NodeRegistrar, t.Domain.Registrar.Name, "", 0), vigil.EdgeRegisteredBy)
	}
	return db.writeGraph(ctx, tx, g)
}
