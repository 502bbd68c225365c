package main

import (
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/storetest"
)

// TestMapCommands: vigil map clusters --json prints one line per cluster
// with its cases' URLs and links; export writes GraphML, GEXF and CSV that
// parse, and is on the record; leads lists the shared hosting network.
func TestMapCommands(t *testing.T) {
	for _, kind := range storetest.Kinds {
		t.Run(kind, func(t *testing.T) {
			vigilRun, open, _ := auditCLI(t, kind)
			if _, err := vigilRun("", "migrate"); err != nil {
				t.Fatal(err)
			}
			db := open()
			ids := storetest.MapWorld(t, db)
			out, err := vigilRun("", "map", "clusters", "--json")
			if err != nil {
				t.Fatal(err)
			}
			var lines []clusterLine
			for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
				var c clusterLine
				if err := json.Unmarshal([]byte(l), &c); err != nil {
					t.Fatalf("%q: %v", l, err)
				}
				lines = append(lines, c)
			}
			// The default rules: no configured CDN, so F and G join
			// through it; the popular image's 4 cases are under the cap.
			if len(lines) != 4 || lines[0].Size != 4 || lines[1].Size != 3 || !slices.Contains(lines[1].Cases, "https://forum-b.example/t/1") ||
				lines[1].Links["media"] != 1 || lines[1].ID != ids["A"] {
				t.Fatalf("clusters:\n%s", out)
			}
			if out, err := vigilRun("", "map", "leads", "--json"); err != nil || strings.Contains(out, "AS64500") {
				// H to K are one cluster under the default rules: the
				// network joins nothing unrelated.
				t.Errorf("leads: %s %v", out, err)
			}
			dir := t.TempDir()
			for _, format := range []string{"graphml", "gexf"} {
				path := filepath.Join(dir, "map."+format)
				if out, err := vigilRun("", "map", "export", "--format", format, "--cluster", strconv.FormatInt(ids["D"], 10), "--out", path); err != nil {
					t.Fatalf("export %s: %s %v", format, out, err)
				}
				b, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				var doc struct {
					Nodes []struct {
						ID string `xml:"id,attr"`
					} `xml:"graph>node"`
					Edges []struct {
						Source string `xml:"source,attr"`
					} `xml:"graph>edge"`
					GEXFNodes []struct {
						ID    string `xml:"id,attr"`
						Label string `xml:"label,attr"`
					} `xml:"graph>nodes>node"`
					GEXFEdges []struct {
						Source string `xml:"source,attr"`
					} `xml:"graph>edges>edge"`
				}
				if err := xml.Unmarshal(b, &doc); err != nil {
					t.Fatalf("%s: %v", format, err)
				}
				nodes, edges := len(doc.Nodes)+len(doc.GEXFNodes), len(doc.Edges)+len(doc.GEXFEdges)
				// D and E: 2 cases, 3 pages, 2 domains, 1 address.
				if nodes != 8 || edges < 8 || !strings.Contains(string(b), "land-d.example") {
					t.Errorf("%s: %d nodes, %d edges:\n%s", format, nodes, edges, b)
				}
			}
			csvDir := filepath.Join(dir, "csv")
			if out, err := vigilRun("", "map", "export", "--format", "csv", "--case", "BE-2026-"+strconv.FormatInt(ids["A"], 10), "--out", csvDir); err != nil {
				t.Fatalf("export csv: %s %v", out, err)
			}
			nodes, err := os.ReadFile(filepath.Join(csvDir, "nodes.csv"))
			if err != nil || !strings.Contains(string(nodes), "gallery-a.example") || strings.Contains(string(nodes), "gezien") {
				t.Errorf("nodes.csv: %s %v", nodes, err)
			}
			entries, err := db.ListAudit(t.Context(), vigil.AuditFilter{Object: "case:" + strconv.FormatInt(ids["A"], 10)})
			if err != nil || len(entries) != 1 || entries[0].Action != "map.export" {
				t.Errorf("audit: %v %v", entries, err)
			}
			if _, err := vigilRun("", "map", "export", "--format", "pdf", "--out", filepath.Join(dir, "x")); err == nil {
				t.Error("an unknown format was accepted")
			}
		})
	}
}
