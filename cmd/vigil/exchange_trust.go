package main

import (
	"context"
	"net/http"
	"sync"
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
