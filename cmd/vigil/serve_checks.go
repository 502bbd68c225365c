package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/vigil-hotline/vigil/internal/route"
	"github.com/vigil-hotline/vigil/internal/store"
)

// loadRouting loads the routing rules once (registerTakedown uses them) and
// refuses the built-in example, or a file that still holds its example
// recipients or keys, unless the operator allowed it: a hotline must never
// run for days forwarding to addresses that reach no one.
func (tc *takedownConfig) loadRouting() error {
	if tc.rules != nil {
		return nil
	}
	if tc.RoutingConfig == "" {
		if !tc.AllowExample {
			return fmt.Errorf("no routing configured: the built-in example routing (a Belgian example whose police " +
				"and partner hotlines have .invalid addresses and example keys nobody holds) forwards to no one; " +
				"give --routing-config FILE (VIGIL_ROUTING_CONFIG; start from `vigil config example`), " +
				"or --allow-example-routing to try Vigil out, or run `vigil demo`")
		}
		tc.rules = route.Default()
		return nil
	}
	rules, err := route.Load(tc.RoutingConfig)
	if err != nil {
		return fmt.Errorf("routing config: %w", err)
	}
	if p := rules.ExampleProblems(); len(p) > 0 && !tc.AllowExample {
		return fmt.Errorf("routing config %s still holds example routing, which forwards to no one:\n  %s\n"+
			"replace these recipients, or give --allow-example-routing to try Vigil out", tc.RoutingConfig, strings.Join(p, "\n  "))
	}
	tc.rules = rules
	return nil
}

// logMissingPieces says at start-up, one line each, what a hotline still
// lacks: nothing fails for it, but nothing would say so either.
func logMissingPieces(ctx context.Context, env *Env, cfg *config, wc *workerConfig, db *store.DB) error {
	tc := wc.takedown
	if tc.SMTPAddr == "" {
		env.Logger.Warn("no SMTP server (--smtp-addr, VIGIL_SMTP_ADDR): notices and forwards are only written to " +
			filepath.Join(cfg.DataDir, "outbox") + " and reach no one")
	}
	if tc.RoutingConfig == "" {
		env.Logger.Warn("the built-in example routing is in use (--allow-example-routing): forwards go to .invalid addresses")
	} else if tc.rules != nil && len(tc.rules.ExampleProblems()) > 0 {
		env.Logger.Warn("the routing still holds example recipients (--allow-example-routing)", "file", tc.RoutingConfig)
	}
	banks, err := db.ListBanks(ctx)
	if err != nil {
		return fmt.Errorf("start-up check: %w", err)
	}
	if len(banks) == 0 {
		env.Logger.Warn("no hash bank: nothing is recognised as known material; add one with `vigil bank create` and `vigil bank import`")
	}
	users, err := db.ListUsers(ctx)
	if err != nil {
		return fmt.Errorf("start-up check: %w", err)
	}
	if len(users) == 0 {
		env.Logger.Warn("no staff account: nobody can sign in at /staff/; add the first admin with `vigil user add --role admin NAME`")
	}
	return nil
}
