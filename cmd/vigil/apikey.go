package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/auth"
)

const apikeyUsage = `Usage: vigil apikey create NAME [--scopes LIST] [--rate N] [--daily-quota N] [--partner P]   (prints the new key once)
       vigil apikey update NAME [--scopes LIST] [--rate N] [--daily-quota N] [--partner P]
       vigil apikey list
       vigil apikey usage [--since YYYY-MM-DD]
       vigil apikey revoke NAME

Scopes: report, report-status, lookup, stats, referral, exchange-publish
(default for a new key: report,stats). --rate is requests a minute (0: the
server's default), --daily-quota calls a UTC day, a lookup costing one per
hash (0: no cap). --partner binds the key to the partner hotline P (see vigil
partner): the referral API accepts a request only when it is signed by the
key's partner; --partner "" unbinds it.`

// runAPIKey manages the API keys of partners.
func runAPIKey(ctx context.Context, env *Env, args []string) error {
	var subs []subcommand
	for _, name := range []string{"create", "update", "list", "usage", "revoke"} {
		subs = append(subs, subcommand{name, func(ctx context.Context, env *Env, args []string) error {
			return runAPIKeySub(ctx, env, name, args)
		}})
	}
	return dispatch(ctx, env, "apikey", apikeyUsage, args, subs)
}

func runAPIKeySub(ctx context.Context, env *Env, sub string, args []string) error {
	fs := newFlagSet(env, "apikey "+sub, apikeyUsage)
	cfg := storeFlags(fs, env)
	scopes := fs.String("scopes", vigil.FormatAPIScopes(vigil.DefaultAPIScopes), "what the key may do, comma-separated")
	rate := fs.Int("rate", 0, "requests a minute for this key (0: the server's default)")
	quota := fs.Int64("daily-quota", 0, "calls a UTC day for this key (0: no cap)")
	partner := fs.String("partner", "", "the partner hotline the key belongs to (referral scope)")
	since := fs.String("since", vigil.APIKeyDay(time.Now()), "first day to show (usage)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	named := sub == "create" || sub == "revoke" || sub == "update"
	if named && fs.NArg() != 1 {
		return usageError("apikey %s: give exactly one NAME", sub)
	}
	if !named && sub != "list" && sub != "usage" {
		return usageError("apikey: unknown subcommand %q\n%s", sub, apikeyUsage)
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	db, err := openStore(ctx, cfg, env.Logger)
	if err != nil {
		return err
	}
	defer db.Close()
	switch sub {
	case "create", "update":
		sc, err := vigil.ParseAPIScopes(*scopes)
		if err != nil {
			return errors.New(vigil.ErrorMessage(err))
		}
		k := &vigil.APIKey{Name: fs.Arg(0), Scopes: sc, RatePerMinute: *rate, DailyQuota: *quota, Partner: *partner}
		if sub == "update" {
			if err := mergeKeyFlags(ctx, db, k, set); err != nil {
				return err
			}
			if err := db.UpdateAPIKey(ctx, k); err != nil {
				return errors.New(vigil.ErrorMessage(err))
			}
			if set["partner"] {
				if err := db.BindAPIKey(ctx, k.Name, k.Partner); err != nil {
					return errors.New(vigil.ErrorMessage(err))
				}
			}
			fmt.Fprintf(env.Stdout, "API key %q: scopes %s, rate %d/min, daily quota %d, partner %s\n",
				k.Name, vigil.FormatAPIScopes(k.Scopes), k.RatePerMinute, k.DailyQuota, orNone(k.Partner))
			return nil
		}
		key, hash := auth.NewAPIKey()
		k.Hash = hash
		if err := db.CreateAPIKey(ctx, k); err != nil {
			return errors.New(vigil.ErrorMessage(err))
		}
		fmt.Fprintln(env.Stdout, key)
		fmt.Fprintf(env.Stderr, "API key %q created (scopes %s). It is shown only now: store it safely.\n",
			k.Name, vigil.FormatAPIScopes(k.Scopes))
	case "revoke":
		if err := db.RevokeAPIKey(ctx, fs.Arg(0)); err != nil {
			return errors.New(vigil.ErrorMessage(err))
		}
		fmt.Fprintf(env.Stdout, "API key %q revoked\n", fs.Arg(0))
	case "list":
		keys, err := db.ListAPIKeys(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tSCOPES\tPARTNER\tRATE/MIN\tDAILY QUOTA\tCREATED\tLAST USED\tREVOKED")
		for _, k := range keys {
			last := "never"
			if k.LastUsedAt != nil {
				last = k.LastUsedAt.Format("2006-01-02 15:04")
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%s\t%s\t%v\n", k.Name, vigil.FormatAPIScopes(k.Scopes), orNone(k.Partner), k.RatePerMinute,
				k.DailyQuota, k.CreatedAt.Format("2006-01-02 15:04"), last, k.Revoked)
		}
		return tw.Flush()
	case "usage":
		use, err := db.APIKeyUsage(ctx, *since)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "DAY\tNAME\tCALLS\tLOOKUPS\tMATCHES")
		for _, u := range use {
			fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\n", u.Day, u.Name, u.Requests, u.Lookups, u.Matches)
		}
		return tw.Flush()
	}
	return nil
}

// mergeKeyFlags keeps the stored value of every setting not given on the
// command line.
func mergeKeyFlags(ctx context.Context, db interface {
	ListAPIKeys(context.Context) ([]*vigil.APIKey, error)
}, k *vigil.APIKey, set map[string]bool) error {
	keys, err := db.ListAPIKeys(ctx)
	if err != nil {
		return err
	}
	for _, old := range keys {
		if old.Name != k.Name {
			continue
		}
		if !set["scopes"] {
			k.Scopes = old.Scopes
		}
		if !set["rate"] {
			k.RatePerMinute = old.RatePerMinute
		}
		if !set["daily-quota"] {
			k.DailyQuota = old.DailyQuota
		}
		if !set["partner"] {
			k.Partner = old.Partner
		}
		return nil
	}
	return fmt.Errorf("no API key named %q", k.Name)
}

// orNone shows an empty name as "-".
func orNone(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
