package netmap

import (
	"encoding/csv"
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-hotline/vigil"
)

// Exports for investigators' tools: GraphML (yEd, Gephi, NetworkX), GEXF
// (Gephi) and CSV node and edge lists (i2 Analyst's Notebook, Maltego).
// They hold what the map holds: URLs, hosts, addresses, networks, media
// hashes with their verdicts. Never media, never anything of a reporter.

// nodeAttrs are the node attributes every format carries, in order.
var nodeAttrs = []string{"kind", "key", "label", "country", "verdict", "first_seen", "last_seen"}

func nodeValues(n *vigil.MapNode) []string {
	return []string{string(n.Kind), n.Key, nodeLabel(n), n.Country, n.Verdict, stamp(n.FirstSeenAt), stamp(n.LastSeenAt)}
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// nodeLabel is what a node is called on a chart.
func nodeLabel(n *vigil.MapNode) string {
	switch {
	case n.Kind == vigil.NodeMedia:
		label := "media " + short(n.Key)
		if n.Verdict != "" {
			label += " (" + n.Verdict + ")"
		}
		return label
	case n.Kind == vigil.NodeCase && n.Label != "":
		return "case " + n.Key + ": " + n.Label
	case n.Kind == vigil.NodeNetwork && n.Label != "":
		return n.Key + " " + n.Label
	case n.Label != "":
		return n.Label
	}
	return n.Key
}

// NodeLabel is what a node is called on a chart or a list.
func NodeLabel(n *vigil.MapNode) string { return nodeLabel(n) }

func short(s string) string {
	if len(s) > 12 {
		return s[:12] + "…"
	}
	return s
}

type graphML struct {
	XMLName xml.Name     `xml:"graphml"`
	XMLNS   string       `xml:"xmlns,attr"`
	Keys    []graphMLKey `xml:"key"`
	Graph   struct {
		ID          string        `xml:"id,attr"`
		EdgeDefault string        `xml:"edgedefault,attr"`
		Nodes       []graphMLNode `xml:"node"`
		Edges       []graphMLEdge `xml:"edge"`
	} `xml:"graph"`
}

type graphMLKey struct {
	ID   string `xml:"id,attr"`
	For  string `xml:"for,attr"`
	Name string `xml:"attr.name,attr"`
	Type string `xml:"attr.type,attr"`
}

type graphMLData struct {
	Key   string `xml:"key,attr"`
	Value string `xml:",chardata"`
}

type graphMLNode struct {
	ID   string        `xml:"id,attr"`
	Data []graphMLData `xml:"data"`
}

type graphMLEdge struct {
	ID     string        `xml:"id,attr"`
	Source string        `xml:"source,attr"`
	Target string        `xml:"target,attr"`
	Data   []graphMLData `xml:"data"`
}

func nodeID(id int64) string { return "n" + strconv.FormatInt(id, 10) }

// WriteGraphML writes g as GraphML.
func WriteGraphML(w io.Writer, g *Graph) error {
	var doc graphML
	doc.XMLNS = "http://graphml.graphdrawing.org/xmlns"
	for _, a := range nodeAttrs {
		doc.Keys = append(doc.Keys, graphMLKey{ID: "n_" + a, For: "node", Name: a, Type: "string"})
	}
	for _, a := range []string{"kind", "first_seen", "last_seen"} {
		doc.Keys = append(doc.Keys, graphMLKey{ID: "e_" + a, For: "edge", Name: a, Type: "string"})
	}
	doc.Graph.ID, doc.Graph.EdgeDefault = "vigil", "directed"
	for _, n := range g.Nodes {
		gn := graphMLNode{ID: nodeID(n.ID)}
		for i, v := range nodeValues(n) {
			if v != "" {
				gn.Data = append(gn.Data, graphMLData{Key: "n_" + nodeAttrs[i], Value: v})
			}
		}
		doc.Graph.Nodes = append(doc.Graph.Nodes, gn)
	}
	for i, e := range g.Edges {
		doc.Graph.Edges = append(doc.Graph.Edges, graphMLEdge{ID: "e" + strconv.Itoa(i), Source: nodeID(e.Src), Target: nodeID(e.Dst),
			Data: []graphMLData{{"e_kind", string(e.Kind)}, {"e_first_seen", stamp(e.FirstSeenAt)}, {"e_last_seen", stamp(e.LastSeenAt)}}})
	}
	return writeXML(w, doc)
}

func writeXML(w io.Writer, doc any) error {
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", " ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	if _, err := io.WriteString(w, "\n"); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	return nil
}

type gexf struct {
	XMLName xml.Name `xml:"gexf"`
	XMLNS   string   `xml:"xmlns,attr"`
	Version string   `xml:"version,attr"`
	Meta    struct {
		LastModified string `xml:"lastmodifieddate,attr"`
		Creator      string `xml:"creator"`
		Description  string `xml:"description"`
	} `xml:"meta"`
	Graph struct {
		DefaultEdgeType string          `xml:"defaultedgetype,attr"`
		Mode            string          `xml:"mode,attr"`
		Attributes      []gexfAttrClass `xml:"attributes"`
		Nodes           []gexfNode      `xml:"nodes>node"`
		Edges           []gexfEdge      `xml:"edges>edge"`
	} `xml:"graph"`
}

type gexfAttrClass struct {
	Class string     `xml:"class,attr"`
	Attrs []gexfAttr `xml:"attribute"`
}

type gexfAttr struct {
	ID    string `xml:"id,attr"`
	Title string `xml:"title,attr"`
	Type  string `xml:"type,attr"`
}

type gexfValue struct {
	For   string `xml:"for,attr"`
	Value string `xml:"value,attr"`
}

type gexfNode struct {
	ID     string      `xml:"id,attr"`
	Label  string      `xml:"label,attr"`
	Values []gexfValue `xml:"attvalues>attvalue"`
}

type gexfEdge struct {
	ID     string      `xml:"id,attr"`
	Source string      `xml:"source,attr"`
	Target string      `xml:"target,attr"`
	Label  string      `xml:"label,attr"`
	Values []gexfValue `xml:"attvalues>attvalue"`
}

// WriteGEXF writes g as GEXF 1.3 (https://gexf.net/schema.html).
func WriteGEXF(w io.Writer, g *Graph, now time.Time) error {
	var doc gexf
	doc.XMLNS, doc.Version = "http://gexf.net/1.3", "1.3"
	doc.Meta.LastModified, doc.Meta.Creator = now.UTC().Format(time.DateOnly), "Vigil"
	doc.Meta.Description = "Network map: cases linked by shared media and infrastructure (no media, no reporter data)"
	doc.Graph.DefaultEdgeType, doc.Graph.Mode = "directed", "static"
	nodeClass := gexfAttrClass{Class: "node"}
	for _, a := range nodeAttrs {
		nodeClass.Attrs = append(nodeClass.Attrs, gexfAttr{ID: a, Title: a, Type: "string"})
	}
	edgeClass := gexfAttrClass{Class: "edge", Attrs: []gexfAttr{{"kind", "kind", "string"}, {"first_seen", "first_seen", "string"}, {"last_seen", "last_seen", "string"}}}
	doc.Graph.Attributes = []gexfAttrClass{nodeClass, edgeClass}
	for _, n := range g.Nodes {
		gn := gexfNode{ID: nodeID(n.ID), Label: nodeLabel(n)}
		for i, v := range nodeValues(n) {
			if v != "" {
				gn.Values = append(gn.Values, gexfValue{For: nodeAttrs[i], Value: v})
			}
		}
		doc.Graph.Nodes = append(doc.Graph.Nodes, gn)
	}
	for i, e := range g.Edges {
		doc.Graph.Edges = append(doc.Graph.Edges, gexfEdge{ID: "e" + strconv.Itoa(i), Source: nodeID(e.Src), Target: nodeID(e.Dst),
			Label: string(e.Kind), Values: []gexfValue{{"kind", string(e.Kind)}, {"first_seen", stamp(e.FirstSeenAt)}, {"last_seen", stamp(e.LastSeenAt)}}})
	}
	return writeXML(w, doc)
}

// cell keeps a spreadsheet from reading a value as a formula (a URL or
// label from a hostile site could start with "=").
func cell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// WriteCSV writes g as a node list and an edge list.
func WriteCSV(nodes, edges io.Writer, g *Graph) error {
	nw := csv.NewWriter(nodes)
	if err := nw.Write(append([]string{"id"}, nodeAttrs...)); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	for _, n := range g.Nodes {
		row := []string{nodeID(n.ID)}
		for _, v := range nodeValues(n) {
			row = append(row, cell(v))
		}
		if err := nw.Write(row); err != nil {
			return fmt.Errorf("export: %w", err)
		}
	}
	nw.Flush()
	if err := nw.Error(); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	ew := csv.NewWriter(edges)
	if err := ew.Write([]string{"source", "target", "kind", "first_seen", "last_seen"}); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	for _, e := range g.Edges {
		if err := ew.Write([]string{nodeID(e.Src), nodeID(e.Dst), string(e.Kind), stamp(e.FirstSeenAt), stamp(e.LastSeenAt)}); err != nil {
			return fmt.Errorf("export: %w", err)
		}
	}
	ew.Flush()
	return wrapErr(ew.Error())
}

func wrapErr(err error) error {
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	return nil
}
