package vigil

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The network map is a graph derived from what the pipeline learns: cases
// (reported URLs), the pages their crawls met, the domains and addresses
// those were served from, the networks and providers behind them, the media
// found (by SHA-256) and the bank entries they matched. It is written in the
// same transactions as the results it comes from, so it is never rebuilt on
// a view. Clusters are groups of cases that share a node through which the
// link rules (MapRules) let cases link.

// NodeKind is what a map node stands for.
type NodeKind string

const (
	NodeCase      NodeKind = "case"      // a reported URL; key: its ID
	NodePage      NodeKind = "page"      // a page URL
	NodeDomain    NodeKind = "domain"    // a host name
	NodeMedia     NodeKind = "media"     // a media item; key: SHA-256
	NodeAddress   NodeKind = "address"   // an IP address
	NodeNetwork   NodeKind = "network"   // an autonomous system; key: "AS" and its number
	NodeProvider  NodeKind = "provider"  // a hosting provider (its abuse contact's name)
	NodeRegistrar NodeKind = "registrar" // a domain's registrar
	NodeBankEntry NodeKind = "bank_entry"
)

// NodeKinds lists the node kinds, in the order pages show them.
var NodeKinds = []NodeKind{NodeCase, NodePage, NodeDomain, NodeMedia, NodeAddress, NodeNetwork, NodeProvider, NodeRegistrar, NodeBankEntry}

// EdgeKind is what a map edge says.
type EdgeKind string

const (
	EdgeReported      EdgeKind = "reported"       // case → its page
	EdgeLinksTo       EdgeKind = "links_to"       // page → page
	EdgeRedirectsTo   EdgeKind = "redirects_to"   // page → page
	EdgeEmbeds        EdgeKind = "embeds"         // page → media
	EdgeOnDomain      EdgeKind = "on_domain"      // page → domain
	EdgeServedFrom    EdgeKind = "served_from"    // media → domain
	EdgeResolvesTo    EdgeKind = "resolves_to"    // domain → address
	EdgeInNetwork     EdgeKind = "in_network"     // address → network
	EdgeHostedBy      EdgeKind = "hosted_by"      // network → provider
	EdgeRegisteredBy  EdgeKind = "registered_by"  // domain → registrar
	EdgeMatches       EdgeKind = "matches"        // media → bank entry
	EdgeNearDuplicate EdgeKind = "near_duplicate" // media → media (PDQ, computed, never stored)
)

// MapNode is a node of the map.
type MapNode struct {
	ID    int64
	Kind  NodeKind
	Key   string
	Label string
	// RefID is the row it stands for where there is one: the reported
	// URL of a case, the media item of a media node, the bank entry.
	RefID   int64
	Country string
	// CDN names the CDN an address belongs to, as the trace found it.
	CDN         string
	FirstSeenAt time.Time
	LastSeenAt  time.Time
	// Verdict is a media node's status and classification (never pixels).
	Verdict string
}

// MapEdge is an edge of the map.
type MapEdge struct {
	Src, Dst    int64
	Kind        EdgeKind
	FirstSeenAt time.Time
	LastSeenAt  time.Time
}

// MapNodeKey names a node: its kind and key.
type MapNodeKey struct {
	Kind NodeKind
	Key  string
}

func (k MapNodeKey) String() string { return string(k.Kind) + ":" + k.Key }

// CaseNodeKey is the key of a reported URL's case node.
func CaseNodeKey(reportedURLID int64) string { return strconv.FormatInt(reportedURLID, 10) }

// NetworkNodeKey is the key of an autonomous system's node.
func NetworkNodeKey(asn uint32) string { return "AS" + strconv.FormatUint(uint64(asn), 10) }

// MapHost is the domain node key of a URL: its host name in lower case,
// "" when it has none.
func MapHost(raw string) string {
	return strings.ToLower(strings.TrimSuffix(URLHost(raw), "."))
}

// MapRules decide which nodes join the cases that reach them. A node links
// the cases whose crawls reached it when its kind links, it is not on the
// list of infrastructure that never links, and no more than DegreeCap cases
// reached it: a large CDN, a shared hosting provider or a popular
// registrar would otherwise join everything.
type MapRules struct {
	// Link lists the node kinds through which cases link.
	Link []NodeKind `json:"link"`
	// DegreeCap: a node reached by more cases than this links none.
	DegreeCap int `json:"degree_cap"`
	// NoLink lists infrastructure that never links, as "kind:key"
	// ("domain:cdn.example" also covers its subdomains, "network:AS13335",
	// "address:192.0.2.1", "provider:Big Host").
	NoLink []string `json:"no_link,omitempty"`
	// CDNLinks lets addresses that the trace found behind a CDN link
	// (off by default: a CDN's address serves thousands of sites).
	CDNLinks bool `json:"cdn_links,omitempty"`
	// NearDuplicate is the PDQ distance within which two media items are
	// near-duplicates and link their cases; negative turns it off.
	NearDuplicate int `json:"near_duplicate"`
}

// DefaultMapRules: cases link through shared pages, domains, addresses,
// media and bank entries; networks, providers and registrars are shown but
// join nothing (one hosting company serves thousands of unrelated sites).
func DefaultMapRules() MapRules {
	return MapRules{
		Link:          []NodeKind{NodePage, NodeDomain, NodeAddress, NodeMedia, NodeBankEntry},
		DegreeCap:     50,
		NearDuplicate: 10,
	}
}

// Validate checks the rules.
func (r MapRules) Validate() error {
	for _, k := range r.Link {
		if !slices.Contains(NodeKinds, k) || k == NodeCase {
			return Errorf(EINVALID, "map: %q is not a node kind that can link", k)
		}
	}
	if r.DegreeCap < 2 {
		return Errorf(EINVALID, "map: degree cap %d: at least 2", r.DegreeCap)
	}
	if r.NearDuplicate > 64 {
		return Errorf(EINVALID, "map: near-duplicate distance %d: at most 64", r.NearDuplicate)
	}
	for _, n := range r.NoLink {
		kind, key, ok := strings.Cut(n, ":")
		if !ok || key == "" || !slices.Contains(NodeKinds, NodeKind(kind)) {
			return Errorf(EINVALID, "map: no_link entry %q: want kind:key, such as domain:cdn.example", n)
		}
	}
	return nil
}

// KindLinks reports whether nodes of kind link cases at all.
func (r MapRules) KindLinks(kind NodeKind) bool { return slices.Contains(r.Link, kind) }

// Excluded reports whether a node is infrastructure that never links, and
// why ("" when it is not).
func (r MapRules) Excluded(n *MapNode) string {
	if n.Kind == NodeAddress && n.CDN != "" && !r.CDNLinks {
		return "behind the CDN " + n.CDN
	}
	for _, e := range r.NoLink {
		kind, key, _ := strings.Cut(e, ":")
		if NodeKind(kind) != n.Kind {
			continue
		}
		switch n.Kind {
		case NodeDomain:
			key = strings.ToLower(key)
			if n.Key == key || strings.HasSuffix(n.Key, "."+key) {
				return "configured as not linking (" + e + ")"
			}
		case NodeNetwork:
			if strings.EqualFold(n.Key, key) || "AS"+key == n.Key {
				return "configured as not linking (" + e + ")"
			}
		case NodeProvider, NodeRegistrar:
			if strings.EqualFold(n.Key, key) {
				return "configured as not linking (" + e + ")"
			}
		default:
			if n.Key == key {
				return "configured as not linking (" + e + ")"
			}
		}
	}
	// A page's domain or a media item served from a domain that never
	// links does not link either: a CDN's URLs are its own.
	if n.Kind == NodePage {
		if host := MapHost(n.Key); host != "" {
			return r.Excluded(&MapNode{Kind: NodeDomain, Key: host})
		}
	}
	return ""
}

// Links reports whether node n, reached by cases cases, joins them, and if
// not, why.
func (r MapRules) Links(n *MapNode, cases int) (bool, string) {
	if !r.KindLinks(n.Kind) {
		return false, fmt.Sprintf("%s nodes do not link", n.Kind)
	}
	if why := r.Excluded(n); why != "" {
		return false, why
	}
	if cases > r.DegreeCap {
		return false, fmt.Sprintf("reached by %d cases, over the cap of %d", cases, r.DegreeCap)
	}
	return true, ""
}

// MapCluster is a group of cases linked through shared media or
// infrastructure.
type MapCluster struct {
	// ID is the smallest reported-URL ID among its cases: stable while
	// the cluster only grows.
	ID    int64         `json:"id"`
	Cases []ClusterCase `json:"cases"`
	// Links counts the shared nodes that join its cases, by kind
	// (near_duplicate: pairs of near-duplicate media).
	Links     map[string]int `json:"links"`
	Countries []string       `json:"countries"`
	Providers []string       `json:"providers"`
	Networks  []string       `json:"networks"`
	// Growth counts its cases by the month they were first reported.
	Growth      []MonthCount `json:"growth"`
	FirstSeenAt time.Time    `json:"first_seen_at"`
	LastSeenAt  time.Time    `json:"last_seen_at"`
	// Shared lists the nodes that join its cases (at most a few hundred).
	Shared []SharedNode `json:"shared,omitempty"`
}

// ClusterCase is one case of a cluster.
type ClusterCase struct {
	ID  int64  `json:"id"`
	URL string `json:"url"`
}

// MonthCount is a count for one calendar month ("2026-11").
type MonthCount struct {
	Month string `json:"month"`
	Count int    `json:"count"`
}

// SharedNode is a node that links cases, with the cases it links.
type SharedNode struct {
	Kind  NodeKind `json:"kind"`
	Key   string   `json:"key"`
	Label string   `json:"label,omitempty"`
	Cases []int64  `json:"cases"`
}

// CaseLink says why two cases are linked: the node they share.
type CaseLink struct {
	CaseID  int64
	CaseURL string
	Kind    NodeKind
	Key     string
	Label   string
	// Links is false when the shared node does not join them (the
	// rules), with Why saying which rule.
	Links bool
	Why   string
}

// MapPresence is one node that one case's crawl reached.
type MapPresence struct {
	NodeID int64
	CaseID int64 // the reported URL
}

// MapMediaHash is a media node's PDQ hash, for near-duplicates.
type MapMediaHash struct {
	NodeID int64
	PDQ    string
}

// MapStore reads the map. Streams visit rows in node order and stop at
// the first error fn returns.
type MapStore interface {
	// EachPresence visits every (node, case) pair, ordered by node.
	EachPresence(ctx context.Context, fn func(MapPresence) error) error
	// EachEdge visits every edge of the given kinds (all when none).
	EachEdge(ctx context.Context, kinds []EdgeKind, fn func(MapEdge) error) error
	// EachMatch visits every "media matches bank entry" edge.
	EachMatch(ctx context.Context, fn func(media, entry int64) error) error
	// EachMediaHash visits every media node that has a PDQ hash.
	EachMediaHash(ctx context.Context, fn func(MapMediaHash) error) error
	// MapNodes returns the nodes with these IDs (those that exist).
	MapNodes(ctx context.Context, ids []int64) ([]*MapNode, error)
	FindMapNode(ctx context.Context, kind NodeKind, key string) (*MapNode, error)
	// SearchMap finds nodes whose key or label contains q, at most limit.
	SearchMap(ctx context.Context, q string, limit int) ([]*MapNode, error)
	// MapNeighbours returns the edges touching the given nodes, at most
	// limit per node (a hub's neighbours are cut, reported in more).
	MapNeighbours(ctx context.Context, ids []int64, limitPerNode int) (edges []MapEdge, more map[int64]bool, err error)
	// CaseLinks returns the cases that share a node with a case, each
	// node with the number of cases that reached it.
	CaseLinks(ctx context.Context, reportedURLID int64) ([]SharedNodeCount, error)
	// CaseFacts returns what clusters show of cases: URL, first report,
	// hosting country and provider (from the trace).
	CaseFacts(ctx context.Context, ids []int64) (map[int64]CaseFact, error)
}

// SharedNodeCount is a node one case reached, with another case that
// reached it and how many cases did.
type SharedNodeCount struct {
	Node      *MapNode
	OtherCase int64
	OtherURL  string
	Cases     int
}

// CaseFact is what a cluster shows of one case.
type CaseFact struct {
	URL             string
	FirstReportedAt time.Time
	Country         string
	Provider        string
}
