package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/browsertest"
	"github.com/vigil-hotline/vigil/internal/storetest"
	"github.com/vigil-hotline/vigil/internal/testrig"
)

// TestMapPage: an analyst searches the map by domain and by AS number,
// sees a neighbourhood as a list with links to the cases, media only by
// hash and verdict; every search and view is audited; the case view lists
// the linked cases and why.
func TestMapPage(t *testing.T) {
	db := storetest.Open(t, "sqlite")
	e := newEnv(t, db, withWorkbench(db, testrig.Vault(t)))
	ids := storetest.MapWorld(t, db)
	e.addUser("ann", vigil.RoleAnalyst, "ann-password-1")
	c := e.login("ann", "ann-password-1")

	resp, body := e.get(c, "/staff/map?q="+url.QueryEscape("go-r.example"))
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `id="map-results"`) {
		t.Fatalf("search: %d\n%s", resp.StatusCode, body)
	}
	// One domain, one page: a list of results to choose from.
	d, err := db.FindMapNode(context.Background(), vigil.NodeDomain, "go-r.example")
	if err != nil {
		t.Fatal(err)
	}
	resp, body = e.get(c, "/staff/map?node="+strconv.FormatInt(d.ID, 10)+"&depth=2")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("neighbourhood: %d", resp.StatusCode)
	}
	for _, want := range []string{`id="case-link-` + strconv.FormatInt(ids["D"], 10) + `"`, `id="case-link-` + strconv.FormatInt(ids["E"], 10) + `"`,
		"https://go-r.example/a1", `id="map-data"`, "/static/cytoscape.min.js"} {
		if !strings.Contains(body, want) {
			t.Errorf("neighbourhood lacks %s", want)
		}
	}
	// An AS number finds the network; media show as hash and verdict.
	resp, body = e.get(c, "/staff/map?q=AS64500&depth=3")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Bullet Hosting BV") || !strings.Contains(body, "verdict: known") {
		t.Errorf("AS search: %d\n%s", resp.StatusCode, body)
	}
	if strings.Contains(body, "<img") || strings.Contains(body, "/staff/media/") {
		t.Error("the map shows a picture")
	}
	if resp, _ := e.get(c, "/staff/map?node=99999999"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("missing node: %d", resp.StatusCode)
	}
	entries, err := db.ListAudit(context.Background(), vigil.AuditFilter{Object: "map-node:" + strconv.FormatInt(d.ID, 10)})
	if err != nil || len(entries) != 1 || entries[0].Action != "map.view" || entries[0].Actor != "ann" {
		t.Errorf("view audit: %v %v", entries, err)
	}
	searches, err := db.ListAudit(context.Background(), vigil.AuditFilter{Object: "map"})
	if err != nil || len(searches) != 2 {
		t.Errorf("search audit: %v %v", searches, err)
	}
	// The case view: A is linked to B by a media item; F shares only the
	// CDN with G, which does not link.
	_, body = e.get(c, "/staff/cases/"+strconv.FormatInt(ids["A"], 10))
	if !strings.Contains(body, `id="case-link-`+strconv.FormatInt(ids["B"], 10)+`"`) || !strings.Contains(body, `id="case-on-map"`) {
		t.Errorf("case A lacks its link to B:\n%s", body)
	}
	_, body = e.get(c, "/staff/cases/"+strconv.FormatInt(ids["F"], 10))
	if !strings.Contains(body, "does not link: configured as not linking (domain:cdn.example)") {
		t.Errorf("case F does not say why the CDN does not link:\n%s", body)
	}
}

// TestBrowserMap: an analyst searches the map, the graph is drawn, she
// expands a neighbourhood from the list and follows a link to a case.
func TestBrowserMap(t *testing.T) {
	ctx := browsertest.New(t)
	db := storetest.Open(t, "sqlite")
	e := newEnv(t, db, withWorkbench(db, testrig.Vault(t)))
	ids := storetest.MapWorld(t, db)
	e.addUser("ann", vigil.RoleAnalyst, "ann-password-1")
	if err := e.browserLogin(ctx, "ann", "ann-password-1"); err != nil {
		t.Fatal(err)
	}
	d, err := db.FindMapNode(context.Background(), vigil.NodeDomain, "go-r.example")
	if err != nil {
		t.Fatal(err)
	}
	caseE := strconv.FormatInt(ids["E"], 10)
	err = chromedp.Do(ctx,
		chromedp.Click("#nav-map"),
		chromedp.WaitVisible("#map-q"),
		chromedp.SendKeys("#map-q", "go-r.example"),
		chromedp.Submit("#map-q"),
		chromedp.WaitVisible("#map-results"),
		chromedp.Click("#result-"+strconv.FormatInt(d.ID, 10)),
		chromedp.WaitVisible(`#map-graph[data-ready="1"]`),
	)
	if err != nil {
		t.Fatal(err)
	}
	heading, err := chromedp.Run(ctx, chromedp.Text("#map-title"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(heading, "go-r.example") {
		t.Errorf("heading %q", heading)
	}
	browsertest.Screenshot(ctx, t, "map-neighbourhood")
	// Expand from the list: the redirector's page, then its case.
	err = chromedp.Do(ctx,
		chromedp.Click(`a.expand[id^="expand-"][href*="depth=2"]`),
		chromedp.WaitVisible(`#map-graph[data-ready="1"]`),
		chromedp.Navigate(e.srv.URL+"/staff/map?node="+strconv.FormatInt(d.ID, 10)+"&depth=2"),
		chromedp.WaitVisible("#case-link-"+caseE),
		chromedp.Click("#case-link-"+caseE),
		chromedp.WaitVisible("#linked"),
	)
	if err != nil {
		t.Fatal(err)
	}
	url, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(url, "/staff/cases/"+caseE) {
		t.Errorf("followed to %s", url)
	}
}

// TestMapClustersPage: the clusters of the simulated world and the
// hosting network as a lead, audited; computed again on demand.
func TestMapClustersPage(t *testing.T) {
	db := storetest.Open(t, "sqlite")
	e := newEnv(t, db)
	ids := storetest.MapWorld(t, db)
	e.addUser("sam", vigil.RoleSupervisor, "sam-password-1")
	c := e.login("sam", "sam-password-1")
	resp, body := e.get(c, "/staff/map/clusters")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("clusters: %d", resp.StatusCode)
	}
	for _, want := range []string{`id="cluster-` + strconv.FormatInt(ids["A"], 10) + `"`, `id="cluster-` + strconv.FormatInt(ids["D"], 10) + `"`,
		"AS64500", "near_duplicate ×1", "2 clusters"} {
		if !strings.Contains(body, want) {
			t.Errorf("clusters page lacks %q:\n%s", want, body)
		}
	}
	if strings.Contains(body, `id="cluster-`+strconv.FormatInt(ids["F"], 10)+`"`) {
		t.Error("F and G joined through the CDN")
	}
	if resp, _ := e.get(c, "/staff/map/clusters?fresh=1"); resp.StatusCode != http.StatusOK {
		t.Errorf("fresh: %d", resp.StatusCode)
	}
	entries, err := db.ListAudit(context.Background(), vigil.AuditFilter{Object: "map"})
	if err != nil || len(entries) != 2 || entries[0].Action != "map.clusters" {
		t.Errorf("audit: %v %v", entries, err)
	}
}
