package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/netmap"
	"github.com/vigil-hotline/vigil/internal/store"
)

const mapUsage = `Usage:
  vigil map clusters [--json] [--all-shared]     groups of cases linked by shared media or infrastructure
  vigil map leads [--json] [--limit N]           domains, addresses and networks recurring across unrelated cases
  vigil map export --format graphml|gexf|csv [--case REF | --cluster ID] --out PATH
                                                 the map for investigators' tools (all clusters when neither
                                                 --case nor --cluster is given; csv: PATH is a folder that
                                                 receives nodes.csv and edges.csv); no media, no reporter data
Link rules: VIGIL_MAP_RULES (a JSON file; see README).`

func runMap(ctx context.Context, env *Env, args []string) error {
	return dispatch(ctx, env, "map", mapUsage, args, []subcommand{
		{"clusters", runMapClusters},
		{"leads", runMapLeads},
		{"export", runMapExport},
	})
}

// mapRules reads the map's link rules: the built-in defaults, with what
// the VIGIL_MAP_RULES file sets over them.
func mapRules(env *Env) (vigil.MapRules, error) {
	r := vigil.DefaultMapRules()
	if path := env.Getenv("VIGIL_MAP_RULES"); path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return r, fmt.Errorf("map rules: %w", err)
		}
		dec := json.NewDecoder(strings.NewReader(string(b)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&r); err != nil {
			return r, fmt.Errorf("map rules %s: %w", path, err)
		}
	}
	if err := r.Validate(); err != nil {
		return r, fmt.Errorf("map rules: %s", vigil.ErrorMessage(err))
	}
	return r, nil
}

// openMap opens the store and reads the rules for a map command.
func openMap(ctx context.Context, env *Env, cfg *config) (*store.DB, vigil.MapRules, error) {
	rules, err := mapRules(env)
	if err != nil {
		return nil, rules, err
	}
	db, err := openStore(ctx, cfg, env.Logger)
	return db, rules, err
}

// computeMap parses the flags of a map command that takes no positional
// argument, then computes the map over the whole store.
func computeMap(ctx context.Context, env *Env, fs *flag.FlagSet, cfg *config, args []string) (*netmap.Result, error) {
	if err := parseFlags(fs, args); err != nil {
		return nil, err
	}
	if fs.NArg() != 0 {
		return nil, usageError("%s", mapUsage)
	}
	db, rules, err := openMap(ctx, env, cfg)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	return netmap.Compute(ctx, db, rules)
}

// clusterLine is one line of `vigil map clusters --json`.
type clusterLine struct {
	ID        int64              `json:"id"`
	Size      int                `json:"size"`
	Cases     []string           `json:"cases"`
	CaseIDs   []int64            `json:"case_ids"`
	Links     map[string]int     `json:"links"`
	Countries []string           `json:"countries"`
	Providers []string           `json:"providers"`
	Growth    []vigil.MonthCount `json:"growth"`
	FirstSeen string             `json:"first_seen,omitempty"`
	LastSeen  string             `json:"last_seen,omitempty"`
	Shared    []vigil.SharedNode `json:"shared,omitempty"`
}

func toClusterLine(c *vigil.MapCluster, shared bool) clusterLine {
	l := clusterLine{ID: c.ID, Size: len(c.Cases), Links: c.Links, Countries: c.Countries, Providers: c.Providers, Growth: c.Growth}
	for _, cc := range c.Cases {
		l.Cases = append(l.Cases, cc.URL)
		l.CaseIDs = append(l.CaseIDs, cc.ID)
	}
	if !c.FirstSeenAt.IsZero() {
		l.FirstSeen, l.LastSeen = c.FirstSeenAt.UTC().Format("2006-01-02"), c.LastSeenAt.UTC().Format("2006-01-02")
	}
	if shared {
		l.Shared = c.Shared
	}
	return l
}

func runMapClusters(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "map clusters", mapUsage)
	cfg := storeFlags(fs, env)
	asJSON := fs.Bool("json", false, "one JSON line per cluster")
	shared := fs.Bool("all-shared", false, "list the shared nodes that join each cluster")
	res, err := computeMap(ctx, env, fs, cfg, args)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(env.Stdout)
		for _, c := range res.Clusters {
			if err := enc.Encode(toClusterLine(c, *shared)); err != nil {
				return err
			}
		}
		return nil
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CLUSTER\tCASES\tLINKS\tCOUNTRIES\tFIRST CASE")
	for _, c := range res.Clusters {
		fmt.Fprintf(tw, "%d\t%d\t%s\t%s\t%s\n", c.ID, len(c.Cases), linkSummary(c.Links), strings.Join(c.Countries, ","), c.Cases[0].URL)
		if *shared {
			for _, s := range c.Shared {
				fmt.Fprintf(tw, "\t\t%s %s\t\tcases %v\n", s.Kind, s.Key, s.Cases)
			}
		}
	}
	if len(res.Clusters) == 0 {
		fmt.Fprintln(tw, "(no two cases are linked)")
	}
	return tw.Flush()
}

func linkSummary(links map[string]int) string {
	var parts []string
	for _, k := range append(vigil.NodeKinds, vigil.NodeKind(vigil.EdgeNearDuplicate)) {
		if n := links[string(k)]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s×%d", k, n))
		}
	}
	return strings.Join(parts, " ")
}

func runMapLeads(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "map leads", mapUsage)
	cfg := storeFlags(fs, env)
	asJSON := fs.Bool("json", false, "one JSON line per lead")
	limit := fs.Int("limit", 50, "how many leads")
	res, err := computeMap(ctx, env, fs, cfg, args)
	if err != nil {
		return err
	}
	leads := res.Leads[:min(*limit, len(res.Leads))]
	if *asJSON {
		enc := json.NewEncoder(env.Stdout)
		for _, l := range leads {
			if err := enc.Encode(l); err != nil {
				return err
			}
		}
		return nil
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KIND\tNODE\tUNRELATED GROUPS\tCASES\tLINKS")
	for _, l := range leads {
		links := "yes"
		if !l.Links {
			links = "no: " + l.Why
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\n", l.Kind, netmap.NodeLabel(l.Node), l.Clusters, l.Cases, links)
	}
	return tw.Flush()
}

func runMapExport(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "map export", mapUsage)
	cfg := storeFlags(fs, env)
	format := fs.String("format", "graphml", "graphml, gexf or csv")
	caseRef := fs.String("case", "", "the neighbourhood of this case (its reference or number)")
	clusterID := fs.Int64("cluster", 0, "this cluster (its ID, from vigil map clusters)")
	out := fs.String("out", "", "the file to write (csv: a folder)")
	by := fs.String("by", "", "who exports, for the record (default: the system user)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 || *out == "" || (*caseRef != "" && *clusterID != 0) {
		return usageError("%s", mapUsage)
	}
	switch *format {
	case "graphml", "gexf", "csv":
	default:
		return usageError("--format %q: graphml, gexf or csv", *format)
	}
	db, rules, err := openMap(ctx, env, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	var g *netmap.Graph
	object := "map:all"
	switch {
	case *caseRef != "":
		id, err := netmap.ParseCaseRef(*caseRef)
		if err != nil {
			return usageError("%s", vigil.ErrorMessage(err))
		}
		object = "case:" + strconv.FormatInt(id, 10)
		if g, err = netmap.CaseGraph(ctx, db, id, netmap.ExportLimits); err != nil {
			return err
		}
	default:
		res, err := netmap.Compute(ctx, db, rules)
		if err != nil {
			return err
		}
		clusters := res.Clusters
		if *clusterID != 0 {
			c, err := res.Find(*clusterID)
			if err != nil {
				return fmt.Errorf("%s", vigil.ErrorMessage(err))
			}
			clusters, object = []*vigil.MapCluster{c}, "cluster:"+strconv.FormatInt(*clusterID, 10)
		}
		if g, err = netmap.ClustersGraph(ctx, db, clusters, netmap.ExportLimits); err != nil {
			return err
		}
	}
	actor := "system"
	if *by != "" {
		actor = *by
	}
	detail, _ := json.Marshal(map[string]any{"format": *format, "nodes": len(g.Nodes), "edges": len(g.Edges), "via": "vigil map export"})
	if err := db.AppendAudit(ctx, &vigil.AuditEntry{Actor: actor, Action: "map.export", Object: object, Detail: string(detail)}); err != nil {
		return fmt.Errorf("the export could not be put on the record, so nothing was written: %w", err)
	}
	if err := writeExport(*format, *out, g, db); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "%s: %d nodes, %d edges (%s)\n", *out, len(g.Nodes), len(g.Edges), *format)
	if g.Truncated || len(g.Cut) > 0 {
		fmt.Fprintf(env.Stdout, "note: %d hub nodes had more neighbours than exported\n", len(g.Cut))
	}
	return nil
}

func writeExport(format, out string, g *netmap.Graph, db *store.DB) error {
	if format == "csv" {
		if err := os.MkdirAll(out, 0o700); err != nil {
			return err
		}
		nodes, err := os.Create(filepath.Join(out, "nodes.csv"))
		if err != nil {
			return err
		}
		edges, err := os.Create(filepath.Join(out, "edges.csv"))
		if err != nil {
			_ = nodes.Close()
			return err
		}
		err = netmap.WriteCSV(nodes, edges, g)
		return closeAll(err, nodes, edges)
	}
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	if format == "gexf" {
		err = netmap.WriteGEXF(f, g, db.Now())
	} else {
		err = netmap.WriteGraphML(f, g)
	}
	return closeAll(err, f)
}

func closeAll(err error, cs ...io.Closer) error {
	for _, c := range cs {
		if cerr := c.Close(); err == nil {
			err = cerr
		}
	}
	return err
}
