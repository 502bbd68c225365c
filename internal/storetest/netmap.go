package storetest

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/netmap"
	"github.com/vigil-hotline/vigil/internal/store"
)

// mapImage is an image a simulated page embeds.
type mapImage struct {
	url       string
	sha       string // SHA-256 (hex)
	pdq       string // PDQ (hex); "" for none
	connected string // the address it came from ("ip:port")
	class     string // a bank match's classification, "" for none
}

// mapSite is a reported URL and what its crawl meets.
type mapSite struct {
	url       string
	final     string   // where it redirects to ("" for nowhere)
	hops      []string // the redirect chain's URLs, requested first
	connected string
	images    []mapImage
}

func hexOf(seed byte, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = seed*31 + byte(i)*7 + 1
	}
	return fmt.Sprintf("%x", b)
}

// mapCrawl reports s.url and runs its crawl through the store as the
// workers would: the page, then each image hashed and matched.
func mapCrawl(t *testing.T, db *store.DB, s mapSite) int64 {
	t.Helper()
	ctx := context.Background()
	r := newReport(t, s.url)
	if err := db.CreateReport(ctx, r); err != nil {
		t.Fatal(err)
	}
	urlID := r.URLs[0].ID
	if err := db.StartCrawl(ctx, urlID); err != nil {
		t.Fatal(err)
	}
	page := findTask(t, db, urlID, vigil.TaskPage, s.url)
	final := s.final
	if final == "" {
		final = s.url
	}
	ev := "{}"
	if len(s.hops) > 0 {
		var hops []map[string]string
		for _, h := range s.hops {
			hops = append(hops, map[string]string{"url": h, "connected": s.connected})
		}
		b, _ := json.Marshal(map[string]any{"redirects": hops})
		ev = string(b)
	}
	var children []vigil.CrawlChild
	for _, im := range s.images {
		children = append(children, vigil.CrawlChild{Kind: vigil.TaskMedia, Target: im.url})
	}
	if err := db.FinishPage(ctx, page, &vigil.Fetch{RequestedURL: s.url, FinalURL: final, Status: 200, StartedAt: time.Now().UTC(),
		Class: "html", Connected: s.connected, Evidence: ev}, children, vigil.DefaultCrawlBudget); err != nil {
		t.Fatal(err)
	}
	for _, im := range s.images {
		task := findTask(t, db, urlID, vigil.TaskMedia, im.url)
		m := &vigil.Media{SHA256: im.sha, MD5: im.sha[:32], SHA1: im.sha[:40], Size: 100, Class: "image", MIME: "image/jpeg", BlobKey: "blob-" + im.sha}
		var h *vigil.MediaHashes
		if hashed, err := db.MediaHashed(ctx, im.sha); err != nil {
			t.Fatal(err)
		} else if !hashed {
			h = &vigil.MediaHashes{PDQ: im.pdq, Quality: 90, Width: 64, Height: 64, Format: "jpeg"}
		}
		var matches []vigil.Match
		if im.class != "" {
			matches = []vigil.Match{{BankID: 1, BankName: "test bank", EntryID: 7, Signal: vigil.SignalSHA256, Classification: im.class, Variant: "orig"}}
		}
		if err := db.FinishImage(ctx, task, &vigil.Fetch{RequestedURL: im.url, FinalURL: im.url, Status: 200, StartedAt: time.Now().UTC(),
			Class: "image", BodySHA256: im.sha, Connected: im.connected, Evidence: "{}"}, m, h, matches); err != nil {
			t.Fatal(err)
		}
	}
	return urlID
}

// MapWorld crawls a small simulated internet: galleries sharing an image,
// a near-duplicate of another, two reports behind one redirector, two
// unrelated sites using one CDN, and four sites of one hosting network
// that all show one popular image. It returns the case IDs by name.
func MapWorld(t *testing.T, db *store.DB) map[string]int64 {
	t.Helper()
	shared, other := hexOf(1, 32), hexOf(2, 32)
	pdqA, pdqB := hexOf(10, 32), hexOf(11, 32)
	ids := map[string]int64{}
	ids["A"] = mapCrawl(t, db, mapSite{url: "https://gallery-a.example/", connected: "198.51.100.1:443", images: []mapImage{
		{url: "https://gallery-a.example/1.jpg", sha: shared, pdq: pdqA, connected: "198.51.100.1:443"},
		{url: "https://gallery-a.example/2.jpg", sha: other, pdq: pdqB, connected: "198.51.100.1:443"},
	}})
	ids["B"] = mapCrawl(t, db, mapSite{url: "https://forum-b.example/t/1", connected: "198.51.100.2:443", images: []mapImage{
		{url: "https://forum-b.example/x.jpg", sha: shared, pdq: pdqA, connected: "198.51.100.2:443"},
	}})
	// C shows a re-encoded copy of A's second image: another file, a PDQ
	// hash 6 bits away.
	ids["C"] = mapCrawl(t, db, mapSite{url: "https://board-c.example/", connected: "198.51.100.3:443", images: []mapImage{
		{url: "https://board-c.example/y.jpg", sha: hexOf(3, 32), pdq: flipBits(pdqB, 0, 6), connected: "198.51.100.3:443"},
	}})
	// D and E: two links on a redirector that land on one page.
	ids["D"] = mapCrawl(t, db, mapSite{url: "https://go-r.example/a1", final: "https://land-d.example/in",
		hops: []string{"https://go-r.example/a1"}, connected: "198.51.100.4:443"})
	ids["E"] = mapCrawl(t, db, mapSite{url: "https://go-r.example/b2", final: "https://land-d.example/in",
		hops: []string{"https://go-r.example/b2"}, connected: "198.51.100.4:443"})
	// F and G: unrelated sites whose images come from one CDN.
	ids["F"] = mapCrawl(t, db, mapSite{url: "https://shop-f.example/", connected: "198.51.100.6:443", images: []mapImage{
		{url: "https://img.cdn.example/f.jpg", sha: hexOf(6, 32), pdq: hexOf(60, 32), connected: "203.0.113.50:443"},
	}})
	ids["G"] = mapCrawl(t, db, mapSite{url: "https://blog-g.example/", connected: "198.51.100.7:443", images: []mapImage{
		{url: "https://img.cdn.example/g.jpg", sha: hexOf(7, 32), pdq: hexOf(70, 32), connected: "203.0.113.50:443"},
	}})
	// H to K: four sites of one hosting network showing one popular known
	// image, each traced.
	popular := hexOf(9, 32)
	for i, name := range []string{"H", "I", "J", "K"} {
		host := fmt.Sprintf("site-%s.example", strings.ToLower(name))
		addr := fmt.Sprintf("192.0.2.%d", 10+i)
		ids[name] = mapCrawl(t, db, mapSite{url: "https://" + host + "/", connected: addr + ":443", images: []mapImage{
			{url: "https://" + host + "/p.jpg", sha: popular, pdq: hexOf(90, 32), connected: addr + ":443", class: "A1"},
		}})
		td, err := db.FindTakedownByURL(context.Background(), ids[name])
		if err != nil {
			t.Fatalf("%s: takedown: %v", name, err)
		}
		trace, _ := json.Marshal(map[string]any{"host": host, "addresses": []map[string]any{
			{"ip": addr, "country": "NL", "asn": 64500, "as_org": "Bullet Hosting BV"}},
			"domain": map[string]any{"name": host, "registrar": map[string]string{"name": "Cheap Names Ltd"}}})
		if err := db.RecordTrace(context.Background(), td.ID, &vigil.TraceResult{Trace: string(trace), Country: "NL", ASN: 64500,
			ASOrg: "Bullet Hosting BV", Provider: "Bullet Hosting BV", State: vigil.TakedownNotified, FirstRecheck: time.Now().Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	return ids
}

// MapRules are the rules MapWorld is tested with: a cap of 3 and the CDN
// configured as not linking.
func MapRules() vigil.MapRules {
	r := vigil.DefaultMapRules()
	r.DegreeCap = 3
	r.NoLink = []string{"domain:cdn.example", "address:203.0.113.50"}
	return r
}

// clusterSets returns the clusters as sorted lists of case names.
func clusterSets(res *netmap.Result, ids map[string]int64) []string {
	names := map[int64]string{}
	for n, id := range ids {
		names[id] = n
	}
	var out []string
	for _, c := range res.Clusters {
		var s []string
		for _, cc := range c.Cases {
			s = append(s, names[cc.ID])
		}
		slices.Sort(s)
		out = append(out, strings.Join(s, ""))
	}
	slices.Sort(out)
	return out
}

// testMapClusters: the clusters of the simulated world are exactly the
// expected ones; a CDN does not join, a near-duplicate does, the degree
// cap holds, and the graph is kept by the pipeline (nothing rebuilt).
func testMapClusters(t *testing.T, db *store.DB) {
	ctx := context.Background()
	ids := MapWorld(t, db)
	res, err := netmap.Compute(ctx, db, MapRules())
	if err != nil {
		t.Fatal(err)
	}
	if got, want := clusterSets(res, ids), []string{"ABC", "DE"}; !slices.Equal(got, want) {
		t.Fatalf("clusters %v, want %v", got, want)
	}
	abc, err := res.Find(ids["A"])
	if err != nil {
		t.Fatal(err)
	}
	if abc.Links["media"] != 1 || abc.Links[string(vigil.EdgeNearDuplicate)] != 1 {
		t.Errorf("A-B-C links %v: want one shared media item and one near-duplicate pair", abc.Links)
	}
	if len(abc.Growth) != 1 || abc.Growth[0].Count != 3 || abc.Cases[0].URL != "https://gallery-a.example/" {
		t.Errorf("A-B-C cluster: %+v", abc)
	}
	de, _ := res.Find(ids["D"])
	if de == nil || de.Links["page"] == 0 || de.Links["domain"] == 0 {
		t.Errorf("D-E links: %+v", de)
	}
	// The network H to K share is a lead: it recurs across four groups
	// that nothing else joins.
	var lead *netmap.Lead
	for i := range res.Leads {
		if res.Leads[i].Key == "AS64500" {
			lead = &res.Leads[i]
		}
	}
	if lead == nil || lead.Clusters != 4 || lead.Links {
		t.Errorf("leads %+v: want AS64500 across 4 groups", res.Leads)
	}

	// With a cap of 4, the popular image (and its bank entry) join H to K.
	r := MapRules()
	r.DegreeCap = 4
	res4, err := netmap.Compute(ctx, db, r)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := clusterSets(res4, ids), []string{"ABC", "DE", "HIJK"}; !slices.Equal(got, want) {
		t.Fatalf("clusters with a cap of 4: %v, want %v", got, want)
	}
	// Without the configured CDN, F and G join through it.
	r = MapRules()
	r.NoLink = nil
	resCDN, err := netmap.Compute(ctx, db, r)
	if err != nil {
		t.Fatal(err)
	}
	if got := clusterSets(resCDN, ids); !slices.Contains(got, "FG") {
		t.Fatalf("clusters without the CDN rule: %v, want F and G joined", got)
	}
	// Near-duplicates off: C stands alone.
	r = MapRules()
	r.NearDuplicate = -1
	resND, err := netmap.Compute(ctx, db, r)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := clusterSets(resND, ids), []string{"AB", "DE"}; !slices.Equal(got, want) {
		t.Fatalf("clusters without near-duplicates: %v, want %v", got, want)
	}

	// The case view's reasons: A shares a media item with B.
	why, err := netmap.CaseWhy(ctx, db, ids["A"], MapRules())
	if err != nil {
		t.Fatal(err)
	}
	if len(why) == 0 || why[0].CaseID != ids["B"] || !slices.ContainsFunc(why[0].Reasons, func(l vigil.CaseLink) bool {
		return l.Kind == vigil.NodeMedia && l.Links
	}) {
		t.Errorf("why A: %+v", why)
	}
	whyF, err := netmap.CaseWhy(ctx, db, ids["F"], MapRules())
	if err != nil {
		t.Fatal(err)
	}
	if len(whyF) != 1 || whyF[0].CaseID != ids["G"] || slices.ContainsFunc(whyF[0].Reasons, func(l vigil.CaseLink) bool { return l.Links }) {
		t.Errorf("why F: %+v: want G, through the CDN only, not linking", whyF)
	}

	// Search and neighbourhood.
	found, err := db.SearchMap(ctx, "LAND-D.example", 10)
	if err != nil || len(found) == 0 || found[0].Kind != vigil.NodeDomain {
		t.Fatalf("search: %v, %v", found, err)
	}
	caseD, err := db.FindMapNode(ctx, vigil.NodeCase, vigil.CaseNodeKey(ids["D"]))
	if err != nil {
		t.Fatal(err)
	}
	g, err := netmap.Neighbourhood(ctx, db, []int64{caseD.ID}, 3, netmap.ViewLimits)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, n := range g.Nodes {
		keys = append(keys, n.Key)
	}
	for _, want := range []string{"https://go-r.example/a1", "https://land-d.example/in", "go-r.example", "land-d.example", "198.51.100.4"} {
		if !slices.Contains(keys, want) {
			t.Errorf("neighbourhood of D lacks %s: %v", want, keys)
		}
	}
	// Media nodes carry their verdict.
	media, err := db.FindMapNode(ctx, vigil.NodeMedia, hexOf(9, 32))
	if err != nil || !strings.HasPrefix(media.Verdict, "known") {
		t.Errorf("popular media node: %+v, %v", media, err)
	}
	network, err := db.FindMapNode(ctx, vigil.NodeNetwork, "AS64500")
	if err != nil || network.Label != "Bullet Hosting BV" || network.Country != "NL" {
		t.Errorf("network node: %+v, %v", network, err)
	}

	// Export of a cluster opens in an XML parser with its nodes and edges.
	cg, err := netmap.ClustersGraph(ctx, db, []*vigil.MapCluster{de}, netmap.ExportLimits)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := netmap.WriteGraphML(&buf, cg); err != nil {
		t.Fatal(err)
	}
	var gm struct {
		Graph struct {
			Nodes []struct {
				ID   string `xml:"id,attr"`
				Data []struct {
					Key   string `xml:"key,attr"`
					Value string `xml:",chardata"`
				} `xml:"data"`
			} `xml:"node"`
			Edges []struct {
				Source string `xml:"source,attr"`
				Target string `xml:"target,attr"`
			} `xml:"edge"`
		} `xml:"graph"`
	}
	if err := xml.Unmarshal(buf.Bytes(), &gm); err != nil {
		t.Fatal(err)
	}
	if len(gm.Graph.Nodes) != len(cg.Nodes) || len(gm.Graph.Edges) != len(cg.Edges) || len(cg.Edges) < 6 {
		t.Errorf("GraphML: %d nodes, %d edges; graph %d, %d", len(gm.Graph.Nodes), len(gm.Graph.Edges), len(cg.Nodes), len(cg.Edges))
	}
	if !strings.Contains(buf.String(), "https://land-d.example/in") || strings.Contains(buf.String(), "gezien op een forum") {
		t.Errorf("GraphML lacks the landing page or holds the reporter's words:\n%s", buf.String())
	}
}
