package upstream_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/exchange/threatexchange/threatexchangetest"
	"github.com/vigil-hotline/vigil/internal/exchange/upstream"
	"github.com/vigil-hotline/vigil/internal/jobargs"
	"github.com/vigil-hotline/vigil/internal/store"
	"github.com/vigil-hotline/vigil/internal/storetest"
	"github.com/vigil-hotline/vigil/internal/testrig"
)

// TestFeedbackJob: the job queued with a dispute is worked by River and
// the reaction reaches the service once, 503 on the way included.
func TestFeedbackJob(t *testing.T) {
	if testing.Short() {
		t.Skip("starts River workers")
	}
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		te := threatexchangetest.New("42", "1|tok")
		defer te.Close()
		id := te.Add(threatexchangetest.Descriptor{Type: "HASH_PDQ", Indicator: fmt.Sprintf("%064x", 11)})
		fb := &upstream.Feedback{Store: db, HTTP: func(*vigil.Exchange) *http.Client { return te.Client() }}
		workers := river.NewWorkers()
		fb.Register(workers)
		stop, err := db.Driver().StartWorkers(context.Background(), store.WorkerConfig{Workers: workers,
			Queues:       map[string]river.QueueConfig{jobargs.QueueExchange: upstream.QueueConfig()},
			PollInterval: 50 * time.Millisecond, RescueAfter: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		defer func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = stop(ctx)
		}()
		te.Fail(1, http.StatusServiceUnavailable)
		v := judged(t, db, vigil.ExchangeThreatExchange, te.GroupURL(), "1|tok", id, fmt.Sprintf("%064x", 11), vigil.VerdictDispute)
		testrig.WaitFor(t, "feedback sent", 30*time.Second, func() bool { return state(t, db, v.ID) == vigil.FeedbackSent })
		if got := te.Reactions(id); len(got) != 1 {
			t.Fatalf("reactions %v, want one", got)
		}
	})
}
