package vigil_test

import (
	"testing"

	"github.com/vigil-hotline/vigil"
)

func TestMapRulesLinks(t *testing.T) {
	r := vigil.DefaultMapRules()
	r.DegreeCap = 3
	r.NoLink = []string{"domain:cdn.example", "network:AS13335", "provider:Big Host", "address:192.0.2.9"}
	if err := r.Validate(); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		node  vigil.MapNode
		cases int
		links bool
	}{
		{vigil.MapNode{Kind: vigil.NodeMedia, Key: "ab"}, 2, true},
		{vigil.MapNode{Kind: vigil.NodeMedia, Key: "ab"}, 3, true},
		{vigil.MapNode{Kind: vigil.NodeMedia, Key: "ab"}, 4, false}, // over the cap
		{vigil.MapNode{Kind: vigil.NodeDomain, Key: "site.example"}, 2, true},
		{vigil.MapNode{Kind: vigil.NodeDomain, Key: "cdn.example"}, 2, false},
		{vigil.MapNode{Kind: vigil.NodeDomain, Key: "img.cdn.example"}, 2, false}, // subdomain
		{vigil.MapNode{Kind: vigil.NodeDomain, Key: "notcdn.example"}, 2, true},
		{vigil.MapNode{Kind: vigil.NodePage, Key: "https://img.cdn.example/a"}, 2, false},
		{vigil.MapNode{Kind: vigil.NodeAddress, Key: "192.0.2.9"}, 2, false},
		{vigil.MapNode{Kind: vigil.NodeAddress, Key: "192.0.2.10"}, 2, true},
		{vigil.MapNode{Kind: vigil.NodeAddress, Key: "192.0.2.11", CDN: "Fastly"}, 2, false}, // behind a CDN
		{vigil.MapNode{Kind: vigil.NodeNetwork, Key: "AS64500"}, 2, false},                   // networks do not link by default
		{vigil.MapNode{Kind: vigil.NodeProvider, Key: "big host"}, 2, false},
	}
	for _, c := range cases {
		if got, why := r.Links(&c.node, c.cases); got != c.links {
			t.Errorf("%s %s with %d cases: links %v (%s), want %v", c.node.Kind, c.node.Key, c.cases, got, why, c.links)
		}
	}
	r.Link = append(r.Link, vigil.NodeNetwork)
	if ok, _ := r.Links(&vigil.MapNode{Kind: vigil.NodeNetwork, Key: "AS64500"}, 2); !ok {
		t.Error("a network does not link when its kind is switched on")
	}
	if ok, _ := r.Links(&vigil.MapNode{Kind: vigil.NodeNetwork, Key: "AS13335"}, 2); ok {
		t.Error("a configured network links")
	}
	r.CDNLinks = true
	if ok, _ := r.Links(&vigil.MapNode{Kind: vigil.NodeAddress, Key: "192.0.2.11", CDN: "Fastly"}, 2); !ok {
		t.Error("a CDN address does not link with cdn_links on")
	}
}

func TestMapRulesValidate(t *testing.T) {
	for _, bad := range []vigil.MapRules{
		{Link: []vigil.NodeKind{"planet"}, DegreeCap: 10},
		{Link: []vigil.NodeKind{vigil.NodeCase}, DegreeCap: 10},
		{DegreeCap: 1},
		{DegreeCap: 10, NoLink: []string{"cdn.example"}},
		{DegreeCap: 10, NoLink: []string{"town:x"}},
		{DegreeCap: 10, NearDuplicate: 65},
	} {
		if err := bad.Validate(); vigil.ErrorCode(err) != vigil.EINVALID {
			t.Errorf("%+v: %v, want invalid", bad, err)
		}
	}
	if err := vigil.DefaultMapRules().Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestMapHost(t *testing.T) {
	for in, want := range map[string]string{
		"https://Ex.Example./a":      "ex.example",
		"http://[2001:db8::1]:8080/": "2001:db8::1",
		"not a url":                  "",
	} {
		if got := vigil.MapHost(in); got != want {
			t.Errorf("MapHost(%q) = %q, want %q", in, got, want)
		}
	}
}
