package main

import (
	"context"
	"errors"
	"fmt"
	"text/tabwriter"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/auth"
)

const apikeyUsage = `Usage: vigil apikey create NAME   (prints the new key once)
       vigil apikey list
       vigil apikey revoke NAME`

// runAPIKey manages the API keys of partners.
func runAPIKey(ctx context.Context, env *Env, args []string) error {
	if len(args) == 0 {
		return usageError("%s", apikeyUsage)
	}
	sub := args[0]
	fs := newFlagSet(env, "apikey "+sub, apikeyUsage)
	cfg := storeFlags(fs, env)
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if (sub == "create" || sub == "revoke") && fs.NArg() != 1 {
		return usageError("apikey %s: give exactly one NAME", sub)
	}
	if sub != "create" && sub != "revoke" && sub != "list" {
		return usageError("apikey: unknown subcommand %q\n%s", sub, apikeyUsage)
	}
	db, err := openStore(ctx, cfg, env.Logger)
	if err != nil {
		return err
	}
	defer db.Close()
	switch sub {
	case "create":
		key, hash := auth.NewAPIKey()
		k := &vigil.APIKey{Name: fs.Arg(0), Hash: hash}
		if err := db.CreateAPIKey(ctx, k); err != nil {
			return errors.New(vigil.ErrorMessage(err))
		}
		fmt.Fprintln(env.Stdout, key)
		fmt.Fprintf(env.Stderr, "API key %q created. It is shown only now: store it safely.\n", k.Name)
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
		fmt.Fprintln(tw, "NAME\tCREATED\tREVOKED")
		for _, k := range keys {
			fmt.Fprintf(tw, "%s\t%s\t%v\n", k.Name, k.CreatedAt.Format("2006-01-02 15:04"), k.Revoked)
		}
		return tw.Flush()
	}
	return nil
}
