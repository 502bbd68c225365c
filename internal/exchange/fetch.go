package exchange

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/vigil-hotline/vigil"
)

// Store is what the fetch loop needs of the store: the exchange, its
// credentials, the lease and the pages.
type Store interface {
	FindExchangeByID(ctx context.Context, id int64) (*vigil.Exchange, error)
	ExchangeCredentials(ctx context.Context, id int64) (vigil.ExchangeCredentials, error)
	AcquireExchangeLease(ctx context.Context, id int64, owner string, ttl time.Duration) error
	ReleaseExchangeLease(ctx context.Context, id int64, owner string) error
	StartExchangeFetch(ctx context.Context, id int64, owner string) error
	StoreExchangePage(ctx context.Context, id int64, owner string, p *vigil.ExchangePage) (vigil.ExchangePageResult, error)
	FinishExchangeFetch(ctx context.Context, id int64, owner string, f vigil.ExchangeFetch) error
}

// ErrBusy says another process is fetching the exchange.
var ErrBusy = errors.New("exchange: another process is fetching this exchange")

// Fetcher runs fetches: one page at a time, each stored with its
// checkpoint, under the exchange's lease.
type Fetcher struct {
	Store Store
	// Owner names this process in leases; unique per process.
	Owner  string
	Logger *slog.Logger
	// NewClient makes an exchange's client (default New).
	NewClient func(Config) (Client, error)
	// HTTP returns the HTTP client for an exchange (default HTTPClient
	// with the address guard unless the exchange allows private ones).
	HTTP func(x *vigil.Exchange) *http.Client
	// Classify maps an upstream label to the deployment's vocabulary
	// ("" when it has no mapping: the label is kept as the upstream
	// classification and shown, never guessed). Nil maps nothing.
	Classify func(x *vigil.Exchange, upstream string) string
	// LeaseTTL is how long the lease lasts without renewal (renewed on
	// every page); default 2 minutes.
	LeaseTTL time.Duration
	// MaxRetries bounds consecutive retries of one page (default 6);
	// MaxBackoff bounds one wait, Retry-After included (default 2 min).
	MaxRetries  int
	BaseBackoff time.Duration
	MaxBackoff  time.Duration
	// MaxRestarts bounds restarts after expired checkpoints (default 5).
	MaxRestarts int
	// MaxPages bounds one fetch, against a service that pages forever.
	MaxPages int
	// Sleep waits (tests make it instant); default a timer.
	Sleep func(ctx context.Context, d time.Duration) error
	// IdleTimeout and PageSize go to the clients' Config.
	IdleTimeout time.Duration
	PageSize    int
	// AfterPage, when set, is called after each stored page (tests, the
	// bench's progress).
	AfterPage func(x *vigil.Exchange, res vigil.ExchangePageResult)
}

// Result is what a fetch did.
type Result struct {
	Pages           int
	Added, Removed  int64
	Skipped         int64
	Retries         int
	Restarts        int
	LagMax, LagMean time.Duration
	Elapsed         time.Duration
}

func (f *Fetcher) defaults() {
	if f.NewClient == nil {
		f.NewClient = New
	}
	if f.HTTP == nil {
		f.HTTP = func(x *vigil.Exchange) *http.Client { return HTTPClient(x.AllowPrivate, nil) }
	}
	if f.LeaseTTL <= 0 {
		f.LeaseTTL = 2 * time.Minute
	}
	if f.MaxRetries <= 0 {
		f.MaxRetries = 6
	}
	if f.BaseBackoff <= 0 {
		f.BaseBackoff = time.Second
	}
	if f.MaxBackoff <= 0 {
		f.MaxBackoff = 2 * time.Minute
	}
	if f.MaxRestarts <= 0 {
		f.MaxRestarts = 5
	}
	if f.MaxPages <= 0 {
		f.MaxPages = 10_000_000
	}
	if f.Sleep == nil {
		f.Sleep = func(ctx context.Context, d time.Duration) error {
			t := time.NewTimer(d)
			defer t.Stop()
			select {
			case <-t.C:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
	if f.Logger == nil {
		f.Logger = slog.New(slog.DiscardHandler)
	}
}

// backoff is the wait before retry n (1-based): exponential with jitter,
// or what the service asked for, never above MaxBackoff.
func (f *Fetcher) backoff(n int, asked time.Duration) time.Duration {
	d := f.BaseBackoff << min(n-1, 16)
	d = d/2 + rand.N(d/2+1)
	if asked > d {
		d = asked
	}
	return min(d, f.MaxBackoff)
}

// Fetch fetches exchange id once: it takes the lease (ErrBusy if another
// process holds it), resumes from the stored checkpoint, and stores page
// after page until the service has nothing more. How it ended is recorded
// on the exchange.
func (f *Fetcher) Fetch(ctx context.Context, id int64) (Result, error) {
	f.defaults()
	var res Result
	if err := f.Store.AcquireExchangeLease(ctx, id, f.Owner, f.LeaseTTL); err != nil {
		if vigil.ErrorCode(err) == vigil.ECONFLICT {
			return res, fmt.Errorf("%w (exchange %d)", ErrBusy, id)
		}
		return res, err
	}
	// Read after taking the lease: the checkpoint is the one the last
	// holder left.
	x, err := f.Store.FindExchangeByID(ctx, id)
	if err == nil {
		err = f.Store.StartExchangeFetch(ctx, id, f.Owner)
	}
	if err != nil {
		_ = f.Store.ReleaseExchangeLease(context.WithoutCancel(ctx), id, f.Owner)
		return res, err
	}
	start := time.Now()
	var lagSum time.Duration
	var lagN int64
	err = f.run(ctx, x, &res, &lagSum, &lagN)
	res.Elapsed = time.Since(start)
	if lagN > 0 {
		res.LagMean = lagSum / time.Duration(lagN)
	}
	rec := vigil.ExchangeFetch{Skipped: res.Skipped, LagMax: res.LagMax, LagMean: res.LagMean}
	if err != nil {
		rec.Error = err.Error()
	}
	// Recorded even when ctx ended (a shutdown): the status says so.
	if ferr := f.Store.FinishExchangeFetch(context.WithoutCancel(ctx), id, f.Owner, rec); ferr != nil && err == nil {
		err = ferr
	}
	if err != nil {
		f.Logger.Warn("exchange fetch failed", "exchange", x.Name, "pages", res.Pages, "added", res.Added, "error", err)
	} else {
		f.Logger.Info("exchange fetched", "exchange", x.Name, "pages", res.Pages, "added", res.Added,
			"removed", res.Removed, "skipped", res.Skipped, "elapsed", res.Elapsed.Round(time.Millisecond))
	}
	return res, err
}

func (f *Fetcher) run(ctx context.Context, x *vigil.Exchange, res *Result, lagSum *time.Duration, lagN *int64) error {
	cred, err := f.Store.ExchangeCredentials(ctx, x.ID)
	if err != nil {
		return err
	}
	client, err := f.NewClient(Config{Kind: x.Kind, URL: x.URL, Token: cred.Token, User: cred.User, Password: cred.Password,
		HTTP: f.HTTP(x), IdleTimeout: f.IdleTimeout, PageSize: f.PageSize})
	if err != nil {
		return err
	}
	if c, ok := client.(io.Closer); ok {
		defer func() { _ = c.Close() }()
	}
	// The next page is asked for while this one is stored: a client is
	// still called once at a time, in the same order, but the service's
	// latency and the parsing overlap the database's commit.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type fetched struct {
		page Page
		err  error
	}
	var pending chan fetched
	prefetch := func(cp string) {
		pending = make(chan fetched, 1)
		go func(ch chan fetched) {
			p, err := client.FetchPage(ctx, cp)
			ch <- fetched{p, err}
		}(pending)
	}
	cp := x.Checkpoint
	restart, retries, restarts := true, 0, 0
	renewed := time.Now()
	for res.Pages < f.MaxPages {
		if err := ctx.Err(); err != nil {
			return err
		}
		var page Page
		var err error
		if pending != nil {
			r := <-pending
			page, err, pending = r.page, r.err, nil
		} else {
			page, err = client.FetchPage(ctx, cp)
		}
		var retry *RetryableError
		switch {
		case err == nil:
		case errors.As(err, &retry):
			retries++
			res.Retries++
			if retries > f.MaxRetries {
				return fmt.Errorf("exchange %s: gave up after %d retries: %w", x.Name, f.MaxRetries, err)
			}
			d := f.backoff(retries, retry.After)
			f.Logger.Info("exchange: retrying", "exchange", x.Name, "wait", d, "error", err)
			if err := f.Sleep(ctx, d); err != nil {
				return err
			}
			restart = true
			continue
		case errors.Is(err, ErrCheckpointExpired):
			restarts++
			res.Restarts++
			if restarts > f.MaxRestarts {
				return fmt.Errorf("exchange %s: paging links kept expiring (%d restarts): %w", x.Name, f.MaxRestarts, err)
			}
			if rw, ok := client.(Rewinder); ok {
				cp = rw.Rewind(cp)
			} else {
				stored, err := f.Store.FindExchangeByID(ctx, x.ID)
				if err != nil {
					return err
				}
				cp = stored.Checkpoint
			}
			restart = true
			continue
		default:
			return fmt.Errorf("exchange %s: %w", x.Name, err)
		}
		retries = 0
		sp := f.storePage(x, page, restart)
		res.Skipped += int64(sp.skipped)
		if !page.Done {
			prefetch(page.Checkpoint)
		}
		// Renewed when a third of it has passed: every page's store checks
		// that this process still holds it.
		if time.Since(renewed) > f.LeaseTTL/3 {
			if err := f.Store.AcquireExchangeLease(ctx, x.ID, f.Owner, f.LeaseTTL); err != nil {
				return fmt.Errorf("exchange %s: renewing the lease: %w", x.Name, err)
			}
			renewed = time.Now()
		}
		pr, err := f.Store.StoreExchangePage(ctx, x.ID, f.Owner, sp.page)
		if err != nil {
			return fmt.Errorf("exchange %s: storing a page: %w", x.Name, err)
		}
		committed := time.Now()
		for _, e := range sp.page.Entries {
			if e.ID == 0 {
				continue
			}
			if at, ok := sp.updated[e]; ok && committed.After(at) {
				lag := committed.Sub(at)
				*lagSum += lag
				*lagN++
				res.LagMax = max(res.LagMax, lag)
			}
		}
		res.Pages++
		res.Added += int64(pr.Added)
		res.Removed += int64(pr.Removed)
		if f.AfterPage != nil {
			f.AfterPage(x, pr)
		}
		restart = false
		cp = page.Checkpoint
		if page.Done {
			return nil
		}
	}
	return fmt.Errorf("exchange %s: more than %d pages in one fetch", x.Name, f.MaxPages)
}

type storablePage struct {
	page    *vigil.ExchangePage
	skipped int
	// updated is each entry's upstream time, for the lag.
	updated map[*vigil.BankEntry]time.Time
}

// storePage turns a client's page into the store's: deletions apart,
// entries the exchange does not bring or that are malformed skipped.
func (f *Fetcher) storePage(x *vigil.Exchange, p Page, restart bool) storablePage {
	sp := storablePage{skipped: p.Skipped, updated: map[*vigil.BankEntry]time.Time{},
		page: &vigil.ExchangePage{Checkpoint: p.Checkpoint, Replace: p.Replace, Restart: p.Replace && restart,
			Final: p.Replace && p.Done}}
	from := "exchange:" + x.Name
	if len(from) > vigil.MaxEntryAddedFrom {
		from = from[:vigil.MaxEntryAddedFrom]
	}
	for i := range p.Entries {
		u := &p.Entries[i]
		if u.Deleted {
			if u.UpstreamID == "" {
				v, err := vigil.NormalizeSignalValue(u.Signal, u.Value)
				if err != nil {
					sp.skipped++
					continue
				}
				u.Value = v
			}
			sp.page.Deletions = append(sp.page.Deletions, vigil.ExchangeDeletion{UpstreamID: u.UpstreamID, Signal: u.Signal, Value: u.Value})
			continue
		}
		if !x.Brings(u.Signal) {
			sp.skipped++
			continue
		}
		e := &vigil.BankEntry{Signal: u.Signal, Value: u.Value, Frames: u.Frames, UpstreamID: u.UpstreamID,
			UpstreamClassification: u.Classification, Tags: u.Tags, AddedFrom: from}
		if f.Classify != nil && u.Classification != "" {
			e.Classification = f.Classify(x, u.Classification)
		} else if f.Classify != nil {
			// Services without a classification (ThreatExchange) label
			// with tags: the first tag the mapping knows classifies.
			for _, tag := range u.Tags {
				if c := f.Classify(x, tag); c != "" {
					e.Classification = c
					break
				}
			}
		}
		if err := e.Validate(nil); err != nil {
			sp.skipped++
			continue
		}
		if !u.UpdatedAt.IsZero() {
			sp.updated[e] = u.UpdatedAt
		}
		sp.page.Entries = append(sp.page.Entries, e)
	}
	return sp
}
