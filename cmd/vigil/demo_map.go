//go:build !nodemo

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/netmap"
	"github.com/vigil-hotline/vigil/internal/store"
)

// demoMapRules writes the demo's map rules into the data folder and
// returns an environment that names them (unless VIGIL_MAP_RULES is set):
// the simulated internet serves every site from one loopback address,
// which must not join them.
func demoMapRules(env *Env, dataDir string) (*Env, vigil.MapRules, error) {
	rules := vigil.DefaultMapRules()
	rules.NoLink = []string{"address:127.0.0.1"}
	if env.Getenv("VIGIL_MAP_RULES") != "" {
		r, err := mapRules(env)
		return env, r, err
	}
	b, err := json.MarshalIndent(rules, "", "  ")
	if err != nil {
		return nil, rules, err
	}
	path := filepath.Join(dataDir, "map-rules.json")
	if err := os.WriteFile(path, append(b, '\n'), 0o600); err != nil {
		return nil, rules, err
	}
	menv := *env
	menv.Getenv = func(k string) string {
		if k == "VIGIL_MAP_RULES" {
			return path
		}
		return env.Getenv(k)
	}
	return &menv, rules, nil
}

// showDemoNetwork tells how the map joins two reports filed apart: it
// reports whether they are in one cluster.
func showDemoNetwork(ctx context.Context, out io.Writer, db *store.DB, rules vigil.MapRules, sum demoSummary, urls []string, base, dataDir string) (bool, error) {
	var ids []int64
	for _, want := range urls {
		for _, u := range sum {
			if sameURL(u.url.URL, want) {
				ids = append(ids, u.url.ID)
			}
		}
	}
	if len(ids) != 2 {
		return false, fmt.Errorf("demo network: the two reports' cases are missing")
	}
	res, err := netmap.Compute(ctx, db, rules)
	if err != nil {
		return false, err
	}
	fmt.Fprintf(out, "\nTwo reports, one network:\n  %s\n  %s\n  were reported apart, on unrelated-looking sites.\n", urls[0], urls[1])
	c0, c1 := res.ClusterOf[ids[0]], res.ClusterOf[ids[1]]
	if c0 == 0 || c0 != c1 {
		fmt.Fprintln(out, "  The map does not link them.")
		return false, nil
	}
	c, err := res.Find(c0)
	if err != nil {
		return false, err
	}
	fmt.Fprintf(out, "  The map links them: cluster %d, %d cases, through", c.ID, len(c.Cases))
	for _, s := range c.Shared {
		if slices.Contains(s.Cases, ids[0]) && slices.Contains(s.Cases, ids[1]) {
			fmt.Fprintf(out, "\n    %s %s", s.Kind, short(s.Key))
		}
	}
	if n := c.Links[string(vigil.EdgeNearDuplicate)]; n > 0 {
		fmt.Fprintf(out, "\n    %d pair(s) of near-duplicate pictures (PDQ)", n)
	}
	fmt.Fprintf(out, "\n  The first is a short link that redirects to the site showing them.\n"+
		"  See it: %s/staff/map?q=%s\n  or: VIGIL_MAP_RULES=%s %s map clusters --data %s\n",
		base, url.QueryEscape(vigil.MapHost(urls[1])), filepath.Join(dataDir, "map-rules.json"), selfCommand(), dataDir)
	return true, nil
}

func short(s string) string {
	if len(s) >= 64 {
		return s[:16] + "…"
	}
	return s
}

// sameURL compares a reported URL with the URL the demo filed.
func sameURL(stored, filed string) bool {
	return strings.TrimSuffix(stored, "/") == strings.TrimSuffix(filed, "/")
}
