package main

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"runtime/pprof"
	"slices"
	"strconv"
	"time"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/netmap"
	"github.com/vigil-hotline/vigil/internal/statsgen"
	"github.com/vigil-hotline/vigil/internal/store"
)

type mapBenchResult struct {
	Store          string  `json:"store"`
	Cases          int     `json:"cases"`
	Media          int     `json:"media"`
	Hosts          int     `json:"hosts"`
	Nodes          int     `json:"nodes"`
	Edges          int     `json:"edges"`
	Presence       int     `json:"presence"`
	LoadSeconds    float64 `json:"load_seconds"`
	Clusters       int     `json:"clusters"`
	LargestCluster int     `json:"largest_cluster"`
	NearDuplicates int     `json:"near_duplicates"`
	ClusterSeconds float64 `json:"cluster_seconds"`
	// ClusterCPU is the CPU time the clusters took (all threads): on a
	// shared machine, what they cost apart from waiting for a core.
	ClusterCPU      float64 `json:"cluster_cpu_seconds"`
	NeighbourhoodMS float64 `json:"neighbourhood_ms"` // median of depth-2 queries from cases
	NeighbourhoodP9 float64 `json:"neighbourhood_p90_ms"`
	NeighbourNodes  int     `json:"neighbourhood_nodes"` // median nodes answered
}

const benchMapUsage = "Usage: vigil bench map [--cases N] [--media N] [--hosts N] [--queries N] [--json] [--database-url URL]"

// runBenchMap generates a map straight into an empty store (cases with two
// pages each on shared hosts, addresses and networks, media embedded by
// them, some shared and some near-duplicates) and times the clusters of
// the whole map and depth-2 neighbourhoods of cases.
func runBenchMap(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "bench map", benchMapUsage)
	cfg := storeFlags(fs, env)
	cases := fs.Int("cases", 100_000, "cases (reported URLs)")
	media := fs.Int("media", 1_000_000, "distinct media items")
	hosts := fs.Int("hosts", 50_000, "hosts (domains)")
	queries := fs.Int("queries", 50, "neighbourhood queries")
	asJSON := fs.Bool("json", false, "end with one JSON line")
	profile := fs.String("cpuprofile", "", "write a CPU profile of the cluster computation to this file")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *cases < 1 || *media < *cases || *hosts < 1 {
		return usageError("%s: need cases ≥ 1, media ≥ cases, hosts ≥ 1", benchMapUsage)
	}
	if cfg.DatabaseURL == "" {
		dir, err := os.MkdirTemp("", "vigil-bench-map-")
		if err != nil {
			return err
		}
		defer func() { _ = os.RemoveAll(dir) }()
		cfg.DataDir = dir
	}
	cfg.create = true
	db, err := openStore(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	defer db.Close()
	res := mapBenchResult{Store: db.Driver().Dialect(), Cases: *cases, Media: *media, Hosts: *hosts}
	fmt.Fprintf(env.Stderr, "generating %d cases, %d media, %d hosts…\n", *cases, *media, *hosts)
	start := time.Now()
	w, err := generateMap(ctx, db, *cases, *media, *hosts)
	if err != nil {
		return err
	}
	res.LoadSeconds = time.Since(start).Seconds()
	res.Nodes, res.Edges, res.Presence = w.nodes, w.edges, w.presence

	if *profile != "" {
		f, err := os.Create(*profile)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return closeAll(err, f)
		}
		defer func() { pprof.StopCPUProfile(); _ = f.Close() }()
	}
	start, cpu0 := time.Now(), cpuTime()
	cl, err := netmap.Compute(ctx, db, vigil.DefaultMapRules())
	if err != nil {
		return err
	}
	res.ClusterCPU = (cpuTime() - cpu0).Seconds()
	if *profile != "" {
		pprof.StopCPUProfile()
	}
	res.ClusterSeconds = time.Since(start).Seconds()
	res.Clusters, res.NearDuplicates = len(cl.Clusters), len(cl.NearDuplicates)
	if len(cl.Clusters) > 0 {
		res.LargestCluster = len(cl.Clusters[0].Cases)
	}

	rng := rand.New(rand.NewPCG(2, 2))
	var times []float64
	var sizes []int
	for range *queries {
		node := w.caseNode(1 + rng.IntN(*cases))
		start := time.Now()
		g, err := netmap.Neighbourhood(ctx, db, []int64{node}, 2, netmap.ViewLimits)
		if err != nil {
			return err
		}
		times = append(times, float64(time.Since(start).Microseconds())/1000)
		sizes = append(sizes, len(g.Nodes))
	}
	if len(times) > 0 {
		slices.Sort(times)
		slices.Sort(sizes)
		res.NeighbourhoodMS, res.NeighbourhoodP9, res.NeighbourNodes = times[len(times)/2], times[len(times)*9/10], sizes[len(sizes)/2]
	}
	fmt.Fprintf(env.Stdout, "%s: %d nodes, %d edges, %d presence rows (load %.1f s)\n", res.Store, res.Nodes, res.Edges, res.Presence, res.LoadSeconds)
	fmt.Fprintf(env.Stdout, "clusters: %d (largest %d cases, %d near-duplicate pairs) in %.2f s (%.2f s of CPU)\n",
		res.Clusters, res.LargestCluster, res.NearDuplicates, res.ClusterSeconds, res.ClusterCPU)
	fmt.Fprintf(env.Stdout, "depth-2 neighbourhood of a case: median %.1f ms, p90 %.1f ms (%d nodes)\n", res.NeighbourhoodMS, res.NeighbourhoodP9, res.NeighbourNodes)
	if *asJSON {
		return json.NewEncoder(env.Stdout).Encode(res)
	}
	return nil
}

// benchMapWorld is where the generated nodes lie: IDs are given in blocks,
// in insertion order, into an empty table.
type benchMapWorld struct {
	cases, hosts, addrs, nets, media int
	nodes, edges, presence           int
}

func (w *benchMapWorld) caseNode(i int) int64 { return int64(i) }
func (w *benchMapWorld) pageNode(i int) int64 { return int64(w.cases + i) } // 1..2×cases
func (w *benchMapWorld) hostNode(i int) int64 { return int64(3*w.cases + i) }
func (w *benchMapWorld) addrNode(i int) int64 { return int64(3*w.cases + w.hosts + i) }
func (w *benchMapWorld) netNode(i int) int64  { return int64(3*w.cases + w.hosts + w.addrs + i) }
func (w *benchMapWorld) mediaNode(i int) int64 {
	return int64(3*w.cases + w.hosts + w.addrs + w.nets + i)
}

// generateMap writes the generated map: every case has a root page and a
// second page it links to, on one of the hosts; a host resolves to one
// address (a fifth of addresses are shared), in one of a few hundred
// networks; media are spread over the cases, ten or so each, and a case
// shows one of a pool of popular items now and then; one item in a
// hundred is a near-duplicate of another.
func generateMap(ctx context.Context, db *store.DB, cases, media, hosts int) (*benchMapWorld, error) {
	var n int64
	if err := db.Driver().Reader().QueryRow(ctx, `SELECT (SELECT count(*) FROM graph_nodes) + (SELECT count(*) FROM reported_urls)
		+ (SELECT count(*) FROM media)`).Scan(&n); err != nil {
		return nil, err
	}
	if n > 0 {
		return nil, fmt.Errorf("bench map: the store is not empty; generated rows go into an empty store only")
	}
	w := &benchMapWorld{cases: cases, hosts: hosts, addrs: max(1, hosts*4/5), nets: max(1, hosts/100), media: media}
	rng := rand.New(rand.NewPCG(1, 1))
	now := time.Now().UTC()
	host := func(i int) string { return fmt.Sprintf("h%d.example", i) }
	caseHost := make([]int, cases+1)
	for i := 1; i <= cases; i++ {
		caseHost[i] = 1 + rng.IntN(hosts)
	}
	hostAddr := make([]int, hosts+1)
	for i := 1; i <= hosts; i++ {
		hostAddr[i] = 1 + rng.IntN(w.addrs)
	}
	caseURL := func(i int) string { return fmt.Sprintf("https://%s/c%d", host(caseHost[i]), i) }
	reported := func(i int) time.Time { return now.Add(-time.Duration(cases-i) * 5 * time.Minute) }
	if err := statsgen.BulkInsert(ctx, db, "reported_urls", "url, host, first_reported_at, last_reported_at, report_count, status, updated_at", cases, func(i int) []any {
		i++
		return []any{caseURL(i), host(caseHost[i]), reported(i), reported(i), 1, "done", reported(i)}
	}); err != nil {
		return nil, err
	}
	pdqs := make([][32]byte, media+1)
	for i := 1; i <= media; i++ {
		for j := range 4 {
			v := rng.Uint64()
			for k := range 8 {
				pdqs[i][j*8+k] = byte(v >> (8 * k))
			}
		}
		if i > 1 && i%100 == 0 { // a near-duplicate of the item before: 4 bits off
			pdqs[i] = pdqs[i-1]
			pdqs[i][0] ^= 0x0f
		}
	}
	if err := statsgen.BulkInsert(ctx, db, "media", "sha256, md5, sha1, size, class, mime, blob_key, pdq, status, first_seen_at", media, func(i int) []any {
		i++
		sha := fmt.Sprintf("%064x", i)
		return []any{sha, sha[:32], sha[:40], 1000, "image", "image/jpeg", "", hex.EncodeToString(pdqs[i][:]), "unknown", now}
	}); err != nil {
		return nil, err
	}
	// Nodes, in the blocks benchMapWorld names.
	type node struct {
		kind, key, label string
		ref              int64
	}
	total := 3*cases + hosts + w.addrs + w.nets + media
	nodeAt := func(i int) node { // i from 1
		switch {
		case i <= cases:
			return node{"case", strconv.Itoa(i), caseURL(i), int64(i)}
		case i <= 2*cases:
			return node{"page", caseURL(i - cases), "", 0}
		case i <= 3*cases:
			return node{"page", caseURL(i-2*cases) + "/more", "", 0}
		case i <= 3*cases+hosts:
			return node{"domain", host(i - 3*cases), "", 0}
		case i <= 3*cases+hosts+w.addrs:
			a := i - 3*cases - hosts
			return node{"address", fmt.Sprintf("10.%d.%d.%d", a>>16&255, a>>8&255, a&255), "", 0}
		case i <= 3*cases+hosts+w.addrs+w.nets:
			a := i - 3*cases - hosts - w.addrs
			return node{"network", vigil.NetworkNodeKey(uint32(64000 + a)), fmt.Sprintf("Hosting %d", a), int64(64000 + a)}
		}
		m := i - 3*cases - hosts - w.addrs - w.nets
		return node{"media", fmt.Sprintf("%064x", m), "image", int64(m)}
	}
	if err := statsgen.BulkInsert(ctx, db, "graph_nodes", "kind, key, label, ref_id, first_seen_at, last_seen_at", total, func(i int) []any {
		nd := nodeAt(i + 1)
		return []any{nd.kind, nd.key, nd.label, nd.ref, now, now}
	}); err != nil {
		return nil, err
	}
	var maxID int64
	if err := db.Driver().Reader().QueryRow(ctx, `SELECT max(id) FROM graph_nodes`).Scan(&maxID); err != nil || maxID != int64(total) {
		return nil, fmt.Errorf("bench map: node IDs not in insertion order (max %d of %d): %v", maxID, total, err)
	}
	w.nodes = total

	// Edges and presence, case by case.
	type edge struct {
		src, dst int64
		kind     string
	}
	var edges []edge
	var presence [][2]int64
	seen := map[edge]bool{}
	addEdge := func(e edge) {
		if !seen[e] {
			seen[e] = true
			edges = append(edges, e)
		}
	}
	popular := max(1, media/50)
	next := popular + 1 // media beyond the popular pool are shown once
	perCase := max(1, (media-popular)/cases)
	hostNet := func(a int) int { return 1 + a%w.nets }
	for i := 1; i <= cases; i++ {
		c, p1, p2 := w.caseNode(i), w.pageNode(i), w.pageNode(cases+i)
		h := caseHost[i]
		d, a := w.hostNode(h), w.addrNode(hostAddr[h])
		nt := w.netNode(hostNet(hostAddr[h]))
		addEdge(edge{c, p1, "reported"})
		addEdge(edge{p1, p2, "links_to"})
		addEdge(edge{p1, d, "on_domain"})
		addEdge(edge{p2, d, "on_domain"})
		addEdge(edge{d, a, "resolves_to"})
		addEdge(edge{a, nt, "in_network"})
		ids := []int64{c, p1, p2, d, a, nt}
		for k := 0; k < perCase && next <= media; k++ {
			m := w.mediaNode(next)
			next++
			addEdge(edge{p1 + int64(k%2)*int64(cases), m, "embeds"})
			ids = append(ids, m)
		}
		if rng.IntN(10) < 3 {
			m := w.mediaNode(1 + rng.IntN(popular))
			addEdge(edge{p1, m, "embeds"})
			ids = append(ids, m)
		}
		slices.Sort(ids)
		for _, id := range slices.Compact(ids) {
			presence = append(presence, [2]int64{id, int64(i)})
		}
	}
	if err := statsgen.BulkInsert(ctx, db, "graph_edges", "src, dst, kind, first_seen_at, last_seen_at", len(edges), func(i int) []any {
		return []any{edges[i].src, edges[i].dst, edges[i].kind, now, now}
	}); err != nil {
		return nil, err
	}
	if err := statsgen.BulkInsert(ctx, db, "graph_presence", "node_id, case_id, first_seen_at, last_seen_at", len(presence), func(i int) []any {
		return []any{presence[i][0], presence[i][1], now, now}
	}); err != nil {
		return nil, err
	}
	w.edges, w.presence = len(edges), len(presence)
	return w, nil
}
