package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/riverqueue/river"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/exchange"
	"github.com/vigil-hotline/vigil/internal/exchange/upstream"
	"github.com/vigil-hotline/vigil/internal/jobargs"
	"github.com/vigil-hotline/vigil/internal/store"
)

// exchangeClassifier maps an upstream label through the exchange's
// classification mapping (vigil exchange trust --map) into the
// vocabulary; "" when nothing maps: the label stays as the upstream
// classification, shown, never guessed. Settings are read at most once a
// minute per exchange.
func exchangeClassifier(env *Env, db *store.DB) func(x *vigil.Exchange, label string) string {
	vocab, err := vigil.ParseVocabulary(env.Getenv("VIGIL_CLASSIFICATIONS"))
	if err != nil {
		env.Logger.Warn("VIGIL_CLASSIFICATIONS: using the default vocabulary", "error", vigil.ErrorMessage(err))
		vocab = vigil.DefaultVocabulary
	}
	type cached struct {
		t  vigil.ExchangeTrust
		at time.Time
	}
	var mu sync.Mutex
	cache := map[int64]cached{}
	return func(x *vigil.Exchange, label string) string {
		mu.Lock()
		c, ok := cache[x.ID]
		mu.Unlock()
		if !ok || time.Since(c.at) > time.Minute {
			t, err := db.FindExchangeTrust(context.Background(), x.ID)
			if err != nil {
				env.Logger.Warn("exchange trust settings", "exchange", x.Name, "error", err)
				t = vigil.ExchangeTrust{ExchangeID: x.ID, ClassMap: vigil.DefaultClassificationMap()}
			}
			c = cached{t: t, at: time.Now()}
			mu.Lock()
			cache[x.ID] = c
			mu.Unlock()
		}
		class, _ := c.t.Classify(label, nil, vocab)
		return class
	}
}

// quarantineFloods quarantines the upstream entries that matched too much
// of the day's media, and says so in the log (admins see them on the
// exchanges page and in vigil exchange quarantined).
func quarantineFloods(ctx context.Context, env *Env, db *store.DB) {
	qs, err := db.QuarantineFloods(ctx, db.Now())
	if err != nil {
		if ctx.Err() == nil {
			env.Logger.Warn("exchange quarantine", "error", err)
		}
		return
	}
	for _, q := range qs {
		env.Logger.Warn("upstream entry quarantined: it matched too much of today's media",
			"entry", q.Entry.ID, "exchange", q.Entry.ExchangeName, "upstream_id", q.Entry.UpstreamID,
			"hits", q.Hits, "media", q.Total)
	}
}

// registerExchangeFeedback adds the worker that sends analysts' verdicts
// upstream and its queue.
func registerExchangeFeedback(env *Env, db *store.DB, workers *river.Workers, queues map[string]river.QueueConfig) {
	fb := &upstream.Feedback{Store: db, Logger: env.Logger,
		HTTP: func(x *vigil.Exchange) *http.Client { return exchange.HTTPClient(x.AllowPrivate, nil) }}
	fb.Register(workers)
	queues[jobargs.QueueExchange] = upstream.QueueConfig()
}

const exchangeTrustUsage = `Usage: vigil exchange trust NAME [--map LABEL=CLASS]... [--quarantine-share 0.05] [--quarantine-min 20]

Shows or sets an exchange's trust settings: how its labels map to the
deployment's classifications (unknown labels stay as they are, shown as
the upstream label, never guessed), and the quarantine that takes an
upstream entry out of matching when it matches more than the share of a
day's media (at least quarantine-min of them). A share of 1 never
quarantines.`

// runExchangeTrust shows or sets an exchange's trust settings.
func runExchangeTrust(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "exchange trust", exchangeTrustUsage)
	cfg := storeFlags(fs, env)
	var maps multiFlag
	fs.Var(&maps, "map", "LABEL=CLASSIFICATION (repeatable; replaces the exchange's own mapping, over the default one)")
	share := fs.Float64("quarantine-share", -1, "share of a day's media an entry may match before quarantine (0 < share ≤ 1)")
	minHits := fs.Int("quarantine-min", -1, "matches an entry needs in a day before the share applies")
	db, x, err := openExchange(ctx, env, fs, cfg, args, "trust")
	if err != nil {
		return err
	}
	defer db.Close()
	t, err := db.FindExchangeTrust(ctx, x.ID)
	if err != nil {
		return err
	}
	changed := false
	if len(maps) > 0 {
		vocab, err := vigil.ParseVocabulary(env.Getenv("VIGIL_CLASSIFICATIONS"))
		if err != nil {
			return usageError("VIGIL_CLASSIFICATIONS: %s", vigil.ErrorMessage(err))
		}
		if t.ClassMap, err = vigil.ParseClassificationMap(strings.Join(maps, ","), vocab); err != nil {
			return usageError("exchange trust --map: %s", vigil.ErrorMessage(err))
		}
		changed = true
	}
	if *share >= 0 {
		t.QuarantineShare, changed = *share, true
	}
	if *minHits >= 0 {
		t.QuarantineMinHits, changed = *minHits, true
	}
	if changed {
		if err := db.SetExchangeTrust(ctx, t); err != nil {
			return err
		}
	}
	fmt.Fprintf(env.Stdout, "exchange %s: quarantine above %.3g of a day's media (at least %d matches)\nmapping: %s\n",
		x.Name, t.Share(), t.MinHits(), t.ClassMap)
	return nil
}

const exchangeSuppressedUsage = `Usage: vigil exchange suppressed [--release ENTRY_ID]

Lists the upstream entries out of matching: quarantined (they matched too
much of a day's media) or disputed by analysts; --release puts one back.`

// runExchangeSuppressed lists suppressed entries or releases one.
func runExchangeSuppressed(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "exchange suppressed", exchangeSuppressedUsage)
	cfg := storeFlags(fs, env)
	release := fs.Int64("release", 0, "the entry to put back into matching")
	db, err := parseAndOpen(ctx, env, fs, cfg, args)
	if err != nil {
		return err
	}
	defer db.Close()
	if *release > 0 {
		if err := db.ReleaseEntry(ctx, *release); err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "entry %d released: it matches again\n", *release)
		return nil
	}
	list, err := db.ListSuppressedEntries(ctx, 1000)
	if err != nil {
		return err
	}
	if len(list) == 0 {
		fmt.Fprintln(env.Stdout, "no entry is suppressed")
		return nil
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ENTRY\tEXCHANGE\tUPSTREAM ID\tLABEL\tSIGNAL\tWHY\tSINCE")
	for _, s := range list {
		why := "disputed"
		if s.Reason == vigil.SuppressQuarantine {
			why = fmt.Sprintf("quarantined: %d of %d media", s.Hits, s.Total)
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", s.Entry.ID, s.Entry.ExchangeName, s.Entry.UpstreamID,
			s.Entry.UpstreamClassification, s.Entry.Signal, why, s.At.UTC().Format(time.RFC3339))
	}
	return tw.Flush()
}

// printSuppressedCounts adds to an exchange's status how many of its
// entries are out of matching, and why.
func printSuppressedCounts(w io.Writer, x *vigil.Exchange, list []*vigil.SuppressedEntry) {
	var quarantined, disputed int
	for _, s := range list {
		if s.Entry.ExchangeID != x.ID {
			continue
		}
		if s.Reason == vigil.SuppressQuarantine {
			quarantined++
		} else {
			disputed++
		}
	}
	fmt.Fprintf(w, "suppressed:   %d quarantined, %d disputed (vigil exchange suppressed)\n", quarantined, disputed)
}
