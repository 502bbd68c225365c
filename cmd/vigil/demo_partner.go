//go:build !nodemo

package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"strings"
	"time"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/auth"
	"github.com/vigil-hotline/vigil/internal/federation"
	"github.com/vigil-hotline/vigil/internal/route"
	"github.com/vigil-hotline/vigil/internal/simnet"
	"github.com/vigil-hotline/vigil/internal/simworld"
	"github.com/vigil-hotline/vigil/internal/store"
	"github.com/vigil-hotline/vigil/internal/trace"
)

// The demo's partner hotline (issue 16): a second Vigil beside the first,
// in the Netherlands, with its own data folder, keys, database, workers
// and web server. A case the first finds hosted in NL is referred to it
// over the API; it crawls the URL itself, takes the first hotline's
// baseline classifications, notifies the provider, and reports back until
// the removal.

// demoPartner is the running partner hotline.
type demoPartner struct {
	db   *store.DB
	base string
	stop func() error
}

// demoPartnerRules are the partner's routing: at home (NL), the police and
// the provider; Belgium is the first hotline's.
func demoPartnerRules() (*route.Rules, error) {
	b, _ := json.Marshal(map[string]any{
		"home_country": "NL", "time_zone": "UTC", "simulation": true,
		"defaults": map[string]any{"deadline": "1 working day", "include_media": false},
		"police":   map[string]any{"name": "Politie (simulated)", "email": "police@politie-nl.invalid", "language": "nl"},
		"hotlines": []any{map[string]any{"countries": []string{"BE"}, "name": "Vigil demo hotline", "email": simworld.SenderEmail}},
		"provider": map[string]any{"options": map[string]any{"notice_language": "en", "renotice_interval": "1h"}},
		"home":     map[string]any{"provider": true},
	})
	return route.Parse(b)
}

// startDemoPartner starts the partner hotline in DATA/partner-nl and makes
// each hotline the other's partner.
func startDemoPartner(ctx context.Context, env *Env, cfg *config, wc *workerConfig, db *store.DB, world *simworld.World,
	ourBase string) (_ *demoPartner, err error) {
	pcfg := *cfg
	pcfg.DataDir, pcfg.DatabaseURL, pcfg.AuditKeyFile, pcfg.SecretsKeyFile = filepath.Join(cfg.DataDir, "partner-nl"), "", "", ""
	pcfg.Addr = "127.0.0.1:0"
	pdb, err := openStore(ctx, &pcfg, env.Logger)
	if err != nil {
		return nil, fmt.Errorf("partner hotline: %w", err)
	}
	fail := func(err error) (*demoPartner, error) { return nil, errors.Join(err, pdb.Close()) }
	rules, err := demoPartnerRules()
	if err != nil {
		return fail(err)
	}
	pwc := *wc
	ptc := *wc.takedown
	pwc.takedown, pwc.BlobDir, pwc.KeyFile, pwc.metrics, pwc.AuditCheckpointEvery = &ptc, "", "", nil, 0
	ptc.traceDeps, ptc.traceConfig, ptc.rules = trace.Deps{Resolver: world.Resolver}, &world.Trace, rules
	ptc.SMTPFrom = "Partner hotline NL (demo) <notices@hotline-nl.invalid>"
	ptc.Hotline, ptc.CaseRefPrefix = "Partner hotline NL (demo)", "NL"
	m, stopMatcher, err := newMatcher(ctx, env, pdb, "")
	if err != nil {
		return fail(err)
	}
	pwc.matcher = m
	stopWorkers, err := startWorkers(ctx, env, &pcfg, &pwc, pdb)
	if err != nil {
		return fail(errors.Join(err, stopMatcher()))
	}
	srv, err := newWebServer(env, &pcfg, &pwc, pdb, "")
	if err != nil {
		return fail(errors.Join(err, stopWorkers(), stopMatcher()))
	}
	ln, err := net.Listen("tcp", pcfg.Addr)
	if err != nil {
		return fail(errors.Join(err, stopWorkers(), stopMatcher()))
	}
	sctx, cancel := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() { served <- serveHTTP(sctx, env, ln, srv) }()
	p := &demoPartner{db: pdb, base: "http://" + ln.Addr().String()}
	p.stop = func() error {
		cancel()
		err := <-served
		srv.Close(context.Background())
		return errors.Join(err, stopWorkers(), stopMatcher(), pdb.Close())
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, p.stop())
		}
	}()
	// Each hotline adds the other: its URL, its public key, and the API
	// key of scope referral the other issued to it.
	ours, err := federationKey(cfg)
	if err != nil {
		return nil, err
	}
	theirs, err := federationKey(&pcfg)
	if err != nil {
		return nil, err
	}
	if err := demoPair(ctx, demoSide{db: db, name: "be", countries: []string{"BE"}, url: ourBase, publicKey: federation.PublicKey(ours)},
		demoSide{db: pdb, name: "nl", countries: []string{"NL"}, url: p.base, publicKey: federation.PublicKey(theirs)}); err != nil {
		return nil, err
	}
	return p, nil
}

// demoSide is one hotline of the demo's pair: its store, the name the
// other gives it, and how the other reaches it.
type demoSide struct {
	db        *store.DB
	name      string
	countries []string
	url       string
	publicKey string
}

// demoPair makes two hotlines each other's partner: each adds the other
// (its URL and public key) with the API key of scope referral the other
// issued it, a key the other binds to it.
func demoPair(ctx context.Context, a, b demoSide) error {
	type issued struct {
		by      *store.DB
		hash    []byte
		partner string
	}
	var keys []issued
	sides := []demoSide{a, b}
	for i, at := range sides {
		other := sides[1-i]
		if _, err := at.db.FindPartner(ctx, other.name); err == nil {
			continue // a demo run again on the same data folder
		}
		key, hash := auth.NewAPIKey()
		p := vigil.NewPartner(other.name)
		p.Countries, p.BaseURL, p.PublicKey, p.APIKey = other.countries, other.url, other.publicKey, key
		if err := at.db.CreatePartner(ctx, p); err != nil {
			return err
		}
		keys = append(keys, issued{by: other.db, hash: hash, partner: at.name})
	}
	// Both partners exist now: each key is bound to the partner using it.
	for _, k := range keys {
		if err := k.by.CreateAPIKey(ctx, &vigil.APIKey{Name: "demo-partner-" + k.partner + "-" + fmt.Sprint(time.Now().UnixNano()),
			Hash: k.hash, Scopes: []vigil.APIScope{vigil.ScopeReferral}, Partner: k.partner}); err != nil {
			return err
		}
	}
	return nil
}

// waitReferral tells the referral's story: sent to the partner, what the
// partner did with it, and the removal it reported back.
func waitReferral(ctx context.Context, out io.Writer, db *store.DB, p *demoPartner, sim *simnet.Net) (bool, error) {
	fmt.Fprintln(out, "\nA case hosted abroad (NL), referred to the partner hotline running Vigil:")
	deadline := time.Now().Add(time.Minute)
	page := sim.URL(simnet.Bench, "/page/0")
	for {
		td, found, err := demoTakedownFor(ctx, db, page)
		if err != nil {
			return false, err
		}
		var steps []*vigil.ReferralStatus
		if found {
			ref := td.Reference("DEMO")
			if steps, err = db.ReferralStatuses(ctx, vigil.ReferralIn, ref); err != nil {
				return false, err
			}
		}
		removed := len(steps) > 0 && steps[len(steps)-1].Status == "removed"
		if removed || time.Now().After(deadline) {
			if !found {
				fmt.Fprintln(out, "  the case was not opened in time")
				return false, nil
			}
			msgs, err := db.ListOutbound(ctx, td.ID)
			if err != nil {
				return false, err
			}
			fmt.Fprintf(out, "  %s, case %s, hosted in %s\n", td.URL, td.Reference("DEMO"), td.Country)
			for _, m := range msgs {
				fmt.Fprintf(out, "    %s to partner %s: %s %s\n", m.Kind, m.Recipient, m.State, m.Reply)
			}
			var known, queued int
			if err := p.db.Driver().Reader().QueryRow(ctx, `SELECT
				COALESCE(SUM(CASE WHEN m.status = 'known' THEN 1 ELSE 0 END), 0),
				COALESCE(SUM(CASE WHEN m.queued_at IS NOT NULL THEN 1 ELSE 0 END), 0)
				FROM media m JOIN media_sightings s ON s.media_id = m.id JOIN reported_urls u ON u.id = s.reported_url_id
				WHERE u.url = $1`, td.URL).Scan(&known, &queued); err != nil {
				return false, err
			}
			fmt.Fprintf(out, "    the partner crawled it itself: %d pictures classified by us and accepted under its settings, %d queued for its analysts\n", known, queued)
			var told []string
			for _, s := range steps {
				told = append(told, s.Status+" "+s.At.UTC().Format("15:04:05"))
			}
			fmt.Fprintf(out, "    the partner reported: %s\n", strings.Join(told, ", "))
			if removed && td.RemovedAt != nil {
				fmt.Fprintf(out, "    our case closed as removed %s after it was first seen (partner's staff pages: %s/staff/)\n",
					td.RemovedAt.Sub(td.FirstSeenAt).Round(time.Millisecond), p.base)
			}
			return removed, nil
		}
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// demoTakedownFor returns the case of a URL, found false while there is
// none yet.
func demoTakedownFor(ctx context.Context, db *store.DB, url string) (*vigil.Takedown, bool, error) {
	tds, err := db.ListTakedowns(ctx, "", 100)
	if err != nil {
		return nil, false, err
	}
	for _, td := range tds {
		if td.URL == url {
			return td, true, nil
		}
	}
	return nil, false, nil
}
