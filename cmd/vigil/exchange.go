package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/exchange"
	"github.com/vigil-hotline/vigil/internal/exchange/upstream"
	"github.com/vigil-hotline/vigil/internal/store"
)

const exchangeUsage = `Usage: vigil exchange add NAME --kind ncmec|threatexchange|stopncii|http-list --bank BANK [--url URL]
                          [--token T | --token-file F | --user U --password-file F] [--schedule 24h] [--allow-private]
                          [--signals md5,pdq] [--classifications A1,B1] [--disabled]
       vigil exchange list
       vigil exchange fetch NAME
       vigil exchange status [NAME]
       vigil exchange enable|disable NAME
       vigil exchange remove NAME
       vigil exchange trust NAME [--map LABEL=CLASS]... [--quarantine-share F] [--quarantine-min N]
       vigil exchange suppressed [--release ENTRY_ID]

An exchange is a source of known hashes bound to a bank, fetched on its
schedule by "vigil serve" and "vigil work" (one fetch per exchange at a
time across every process), or now with "fetch". Credentials are sealed
in the database and never shown again. Fetches go through the crawler's
address guard unless --allow-private lets this exchange reach a private or
loopback address (an on-premises list server).`

// runExchange manages hash exchanges.
func runExchange(ctx context.Context, env *Env, args []string) error {
	subs := []subcommand{{"add", runExchangeAdd}, {"list", runExchangeList}, {"fetch", runExchangeFetch},
		{"status", runExchangeStatus}, {"remove", runExchangeRemove},
		{"trust", runExchangeTrust}, {"suppressed", runExchangeSuppressed}}
	for _, name := range []string{"enable", "disable"} {
		subs = append(subs, subcommand{name, func(ctx context.Context, env *Env, args []string) error {
			return runExchangeEnable(ctx, env, name, args)
		}})
	}
	return dispatch(ctx, env, "exchange", exchangeUsage, args, subs)
}

// readSecretFile reads a one-line secret (a password file), bounded.
func readSecretFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, 4097))
	if err != nil {
		return "", err
	}
	if len(b) > 4096 {
		return "", fmt.Errorf("%s: longer than 4096 bytes", path)
	}
	return strings.TrimRight(string(b), "\r\n"), nil
}

func splitList(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

func runExchangeAdd(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "exchange add", exchangeUsage)
	cfg := storeFlags(fs, env)
	kind := fs.String("kind", "", "ncmec, threatexchange, stopncii or http-list")
	bank := fs.String("bank", "", "the bank its entries go to")
	url := fs.String("url", "", "the service's or the list's URL")
	token := fs.String("token", "", "API token or subscription key (prefer --token-file: a command line is visible to other users)")
	tokenFile := fs.String("token-file", "", "file holding the token")
	user := fs.String("user", "", "user for basic authentication")
	passwordFile := fs.String("password-file", "", "file holding the password for basic authentication")
	schedule := fs.Duration("schedule", 24*time.Hour, "time between fetches; 0 fetches only on demand")
	allowPrivate := fs.Bool("allow-private", false, "let this exchange reach private and loopback addresses")
	signals := fs.String("signals", "", "signal types it brings (comma-separated; default: all it sends)")
	classes := fs.String("classifications", "", "upstream classifications it brings (comma-separated, for the record)")
	disabled := fs.Bool("disabled", false, "add it disabled")
	pos, err := interleave(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError("exchange add: give exactly one NAME")
	}
	cred := vigil.ExchangeCredentials{Token: *token, User: *user}
	if *tokenFile != "" {
		if cred.Token != "" {
			return usageError("exchange add: --token or --token-file, not both")
		}
		if cred.Token, err = readSecretFile(*tokenFile); err != nil {
			return fmt.Errorf("exchange add: %w", err)
		}
	}
	if *passwordFile != "" {
		if cred.Password, err = readSecretFile(*passwordFile); err != nil {
			return fmt.Errorf("exchange add: %w", err)
		}
	}
	x := &vigil.Exchange{Name: pos[0], Kind: *kind, URL: *url, Schedule: *schedule, AllowPrivate: *allowPrivate,
		Enabled: !*disabled, Classifications: splitList(*classes)}
	for _, s := range splitList(*signals) {
		t, err := vigil.ParseSignalType(s)
		if err != nil {
			return usageError("exchange add: %s", vigil.ErrorMessage(err))
		}
		x.SignalTypes = append(x.SignalTypes, t)
	}
	if *bank == "" {
		return usageError("exchange add: --bank is required")
	}
	if err := x.Validate(cred); err != nil {
		return usageError("exchange add: %s", vigil.ErrorMessage(err))
	}
	db, b, err := openBank(ctx, env, cfg, *bank)
	if err != nil {
		return err
	}
	defer db.Close()
	x.BankID = b.ID
	if err := db.CreateExchange(ctx, x, cred); err != nil {
		return domainError(err)
	}
	sched := "on demand"
	if x.Schedule > 0 {
		sched = "every " + x.Schedule.String()
	}
	fmt.Fprintf(env.Stdout, "exchange %s added (%s into bank %s, %s, credentials: %s)\n", x.Name, x.Kind, b.Name, sched, x.Auth)
	return nil
}

// openExchange parses the flags of an exchange subcommand that takes exactly
// one NAME, then opens the store and finds that exchange. The caller closes db.
func openExchange(ctx context.Context, env *Env, fs *flag.FlagSet, cfg *config, args []string, what string) (*store.DB, *vigil.Exchange, error) {
	if err := parseFlags(fs, args); err != nil {
		return nil, nil, err
	}
	if len(fs.Args()) != 1 {
		return nil, nil, usageError("exchange %s: give exactly one NAME", what)
	}
	db, err := openStore(ctx, cfg, env.Logger)
	if err != nil {
		return nil, nil, err
	}
	x, err := db.FindExchangeByName(ctx, fs.Args()[0])
	if err != nil {
		db.Close()
		return nil, nil, domainError(err)
	}
	return db, x, nil
}

func runExchangeList(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "exchange list", "Usage: vigil exchange list")
	cfg := storeFlags(fs, env)
	db, err := parseAndOpen(ctx, env, fs, cfg, args)
	if err != nil {
		return err
	}
	defer db.Close()
	xs, err := db.ListExchanges(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tKIND\tBANK\tENABLED\tSCHEDULE\tAUTH\tLAST FETCH\tRESULT")
	for _, x := range xs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%v\t%s\t%s\t%s\t%s\n", x.Name, x.Kind, x.BankName, x.Enabled, scheduleText(x),
			x.Auth, when(x.Last.StartedAt), fetchResult(x.Last))
	}
	return tw.Flush()
}

func scheduleText(x *vigil.Exchange) string {
	if x.Schedule == 0 {
		return "on demand"
	}
	return x.Schedule.String()
}

func when(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.UTC().Format("2006-01-02 15:04:05Z")
}

// fetchResult sums a fetch up in a few words.
func fetchResult(f vigil.ExchangeFetch) string {
	switch {
	case f.StartedAt.IsZero():
		return "-"
	case f.FinishedAt.IsZero():
		return fmt.Sprintf("running or interrupted (+%d -%d so far)", f.Added, f.Removed)
	case f.Error != "":
		return "failed: " + f.Error
	}
	return fmt.Sprintf("ok (+%d -%d)", f.Added, f.Removed)
}

func runExchangeStatus(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "exchange status", "Usage: vigil exchange status [NAME]")
	cfg := storeFlags(fs, env)
	db, err := parseAndOpen(ctx, env, fs, cfg, args)
	if err != nil {
		return err
	}
	defer db.Close()
	var xs []*vigil.Exchange
	switch len(fs.Args()) {
	case 0:
		all, err := db.ListExchanges(ctx)
		if err != nil {
			return err
		}
		for _, x := range all {
			full, err := db.FindExchangeByID(ctx, x.ID) // with its entry count
			if err != nil {
				return err
			}
			xs = append(xs, full)
		}
		if len(xs) == 0 {
			fmt.Fprintln(env.Stdout, "no exchanges (add one with vigil exchange add)")
		}
	case 1:
		x, err := db.FindExchangeByName(ctx, fs.Args()[0])
		if err != nil {
			return domainError(err)
		}
		xs = append(xs, x)
	default:
		return usageError("exchange status: at most one NAME")
	}
	suppressed, err := db.ListSuppressedEntries(ctx, 100000)
	if err != nil {
		return err
	}
	for i, x := range xs {
		if i > 0 {
			fmt.Fprintln(env.Stdout)
		}
		printExchangeStatus(env.Stdout, x)
		printSuppressedCounts(env.Stdout, x, suppressed)
	}
	return nil
}

func printExchangeStatus(w io.Writer, x *vigil.Exchange) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	row := func(k, v string) { fmt.Fprintf(tw, "%s\t%s\n", k, v) }
	row("exchange:", fmt.Sprintf("%s (%s)", x.Name, x.Kind))
	row("bank:", x.BankName)
	row("url:", x.URL)
	row("enabled:", fmt.Sprint(x.Enabled))
	row("schedule:", scheduleText(x))
	if x.Enabled && x.Schedule > 0 {
		row("next fetch:", when(x.NextFetchAt))
	}
	row("credentials:", x.Auth+" (sealed, never shown)")
	if x.AllowPrivate {
		row("addresses:", "private and loopback allowed")
	}
	if len(x.SignalTypes) > 0 {
		var s []string
		for _, t := range x.SignalTypes {
			s = append(s, string(t))
		}
		row("signals:", strings.Join(s, ", "))
	}
	if len(x.Classifications) > 0 {
		row("classifications:", strings.Join(x.Classifications, ", "))
	}
	row("entries:", fmt.Sprint(x.Entries))
	row("last fetch:", when(x.Last.StartedAt))
	if !x.Last.FinishedAt.IsZero() {
		row("finished:", fmt.Sprintf("%s (%s)", when(x.Last.FinishedAt), x.Last.FinishedAt.Sub(x.Last.StartedAt).Round(time.Millisecond)))
	}
	row("result:", fetchResult(x.Last))
	row("added:", fmt.Sprint(x.Last.Added))
	row("removed:", fmt.Sprint(x.Last.Removed))
	row("skipped:", fmt.Sprint(x.Last.Skipped))
	if x.Last.LagMax > 0 {
		row("upstream to match:", fmt.Sprintf("mean %s, max %s (from the service's addition to the entry's commit here)",
			x.Last.LagMean.Round(time.Millisecond), x.Last.LagMax.Round(time.Millisecond)))
	}
	cp := x.Checkpoint
	if len(cp) > 120 {
		cp = cp[:120] + "…"
	}
	if cp == "" {
		cp = "(none: the next fetch starts from the beginning)"
	}
	row("checkpoint:", cp)
	if x.Last.Error != "" {
		row("error:", x.Last.Error)
	}
	_ = tw.Flush()
}

func runExchangeFetch(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "exchange fetch", "Usage: vigil exchange fetch NAME")
	cfg := storeFlags(fs, env)
	db, x, err := openExchange(ctx, env, fs, cfg, args, "fetch")
	if err != nil {
		return err
	}
	defer db.Close()
	f := newExchangeFetcher(env, db)
	if v := env.Getenv("VIGIL_EXCHANGE_PAGE_SIZE"); v != "" { // tests: smaller pages
		if _, err := fmt.Sscan(v, &f.PageSize); err != nil {
			return usageError("VIGIL_EXCHANGE_PAGE_SIZE: %v", err)
		}
	}
	res, err := f.Fetch(ctx, x.ID)
	if errors.Is(err, exchange.ErrBusy) {
		return fmt.Errorf("exchange %s is being fetched by another process; see vigil exchange status %s", x.Name, x.Name)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "exchange %s fetched: %d pages, %d added, %d removed, %d skipped, %d retries in %s\n",
		x.Name, res.Pages, res.Added, res.Removed, res.Skipped, res.Retries, res.Elapsed.Round(time.Millisecond))
	return nil
}

func runExchangeEnable(ctx context.Context, env *Env, verb string, args []string) error {
	fs := newFlagSet(env, "exchange "+verb, "Usage: vigil exchange "+verb+" NAME")
	cfg := storeFlags(fs, env)
	db, x, err := openExchange(ctx, env, fs, cfg, args, verb)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.SetExchangeEnabled(ctx, x.ID, verb == "enable"); err != nil {
		return domainError(err)
	}
	fmt.Fprintf(env.Stdout, "exchange %s %sd\n", x.Name, verb)
	return nil
}

func runExchangeRemove(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "exchange remove", "Usage: vigil exchange remove NAME")
	cfg := storeFlags(fs, env)
	db, x, err := openExchange(ctx, env, fs, cfg, args, "remove")
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.RemoveExchange(ctx, x.ID); err != nil {
		return domainError(err)
	}
	fmt.Fprintf(env.Stdout, "exchange %s removed; its %d entries stay in bank %s with their upstream ids\n", x.Name, x.Entries, x.BankName)
	return nil
}

// processOwner names this process in exchange leases.
func processOwner() string {
	host, _ := os.Hostname()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%s:%d:%s", host, os.Getpid(), hex.EncodeToString(b))
}

// newExchangeFetcher is the fetch loop on the store, as every command
// runs it.
func newExchangeFetcher(env *Env, db *store.DB) *exchange.Fetcher {
	f := &exchange.Fetcher{Store: db, Owner: processOwner(), Logger: env.Logger,
		NewClient: upstream.NewClient, Classify: exchangeClassifier(env, db)}
	// How long a killed process's lease keeps others off (default 2 min;
	// tests shorten it).
	if d, err := time.ParseDuration(env.Getenv("VIGIL_EXCHANGE_LEASE")); err == nil && d > 0 {
		f.LeaseTTL = d
	}
	return f
}

// exchangeSchedulerEvery is how often the scheduler looks for due fetches.
const exchangeSchedulerEvery = 30 * time.Second

// startExchangeScheduler fetches due exchanges in the background, one at a
// time in this process; the lease in the database keeps two processes off
// the same exchange.
func startExchangeScheduler(ctx context.Context, env *Env, db *store.DB) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	f := newExchangeFetcher(env, db)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(exchangeSchedulerEvery)
		defer t.Stop()
		for {
			due, err := db.DueExchanges(ctx, db.Now())
			if err != nil && ctx.Err() == nil {
				env.Logger.Warn("exchange scheduler", "error", err)
			}
			for _, x := range due {
				if ctx.Err() != nil {
					return
				}
				if _, err := f.Fetch(ctx, x.ID); err != nil && !errors.Is(err, exchange.ErrBusy) {
					env.Logger.Warn("scheduled exchange fetch failed", "exchange", x.Name, "error", err)
				}
			}
			quarantineFloods(ctx, env, db)
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return func() { cancel(); wg.Wait() }
}
