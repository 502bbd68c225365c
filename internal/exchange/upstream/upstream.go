// Package upstream opens the client of any exchange kind (the kinds built
// in their own packages beside those in package exchange, which cannot
// import them) and sends analysts' verdicts back to the services, once.
package upstream

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/riverqueue/river"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/exchange"
	"github.com/vigil-hotline/vigil/internal/exchange/stopncii"
	"github.com/vigil-hotline/vigil/internal/exchange/threatexchange"
	"github.com/vigil-hotline/vigil/internal/jobargs"
)

// NewClient returns the client for cfg.Kind: ThreatExchange and StopNCII
// here, the others from exchange.New.
func NewClient(cfg exchange.Config) (exchange.Client, error) {
	switch cfg.Kind {
	case exchange.KindThreatExchange:
		return threatexchange.New(cfg)
	case exchange.KindStopNCII:
		return stopncii.New(cfg)
	}
	return exchange.New(cfg)
}

// FeedbackStore is what sending feedback needs of the store.
type FeedbackStore interface {
	FindUpstreamVerdict(ctx context.Context, id int64) (*vigil.UpstreamVerdict, error)
	ClaimFeedback(ctx context.Context, id int64) (bool, error)
	RecordFeedback(ctx context.Context, id int64, state vigil.FeedbackState, errText string) error
	FindExchangeByID(ctx context.Context, id int64) (*vigil.Exchange, error)
	ExchangeCredentials(ctx context.Context, id int64) (vigil.ExchangeCredentials, error)
}

// Feedback sends verdicts back upstream under the notices' exactly-once
// protocol (internal/notify): the verdict is stored "pending" with its job
// in one transaction; a worker claims it ("sending") before the request
// and records the outcome after. A verdict found "sending" was interrupted
// at an unknown point: the service is asked whether the feedback arrived
// where it can say (exchange.FeedbackVerifier), and otherwise the verdict
// is marked "uncertain" for a human, never sent a second time.
type Feedback struct {
	Store FeedbackStore
	// HTTP returns the HTTP client for an exchange (the crawler's guarded
	// client unless the exchange allows private addresses).
	HTTP func(x *vigil.Exchange) *http.Client
	// NewClient opens an exchange's client (default NewClient).
	NewClient func(exchange.Config) (exchange.Client, error)
	Logger    *slog.Logger
	// BeforeRecord, when set, runs between a send and its record; tests
	// make it fail to stand for a crash there.
	BeforeRecord func() error
}

// ErrNoFeedback says an exchange's service takes no feedback.
var ErrNoFeedback = errors.New("upstream: this exchange takes no feedback")

// Send runs the protocol for one verdict. lastTry says no retry follows:
// a failure that could be retried is then recorded as failed.
func (f *Feedback) Send(ctx context.Context, verdictID int64, lastTry bool) error {
	v, err := f.Store.FindUpstreamVerdict(ctx, verdictID)
	if err != nil {
		return err
	}
	if v.Feedback != vigil.FeedbackPending && v.Feedback != vigil.FeedbackSending {
		return nil // sent, failed, uncertain or none: nothing to do
	}
	fb := exchange.Feedback{UpstreamID: v.UpstreamID, Signal: v.Signal, Value: v.Value,
		Verdict: exchange.Verdict(v.Verdict), Key: v.FeedbackKey}
	sender, verifier, err := f.open(ctx, v)
	if err != nil {
		// The exchange is gone or cannot be reached this way: a human
		// looks. Claimed first so that only one worker records it.
		if v.Feedback == vigil.FeedbackPending {
			if ok, cerr := f.Store.ClaimFeedback(ctx, v.ID); cerr != nil || !ok {
				return cerr
			}
		}
		return f.Store.RecordFeedback(ctx, v.ID, vigil.FeedbackFailed, err.Error())
	}
	if v.Feedback == vigil.FeedbackSending {
		if verifier == nil {
			f.log().Warn("exchange feedback interrupted; marked uncertain", "verdict", v.ID)
			return f.Store.RecordFeedback(ctx, v.ID, vigil.FeedbackUncertain, "interrupted between send and record")
		}
		delivered, err := verifier.FeedbackDelivered(ctx, fb)
		if err != nil {
			return fmt.Errorf("upstream: verifying feedback %d: %w", v.ID, err)
		}
		if delivered {
			return f.Store.RecordFeedback(ctx, v.ID, vigil.FeedbackSent, "")
		}
		// Certainly not delivered: back to pending, then send.
		if err := f.Store.RecordFeedback(ctx, v.ID, vigil.FeedbackPending, ""); err != nil {
			return err
		}
	}
	ok, err := f.Store.ClaimFeedback(ctx, v.ID)
	if err != nil || !ok {
		return err
	}
	sendErr := sender.SendFeedback(ctx, fb)
	if f.BeforeRecord != nil {
		if err := f.BeforeRecord(); err != nil {
			return err
		}
	}
	var re *exchange.RetryableError
	switch {
	case sendErr == nil:
		return f.Store.RecordFeedback(ctx, v.ID, vigil.FeedbackSent, "")
	case errors.As(sendErr, &re) && re.Status == 0:
		// No answer: perhaps carried out. Leave it "sending" for the
		// next try to ask the service, or mark it uncertain.
		if verifier != nil && !lastTry {
			return sendErr
		}
		return errors.Join(sendErr, f.Store.RecordFeedback(ctx, v.ID, vigil.FeedbackUncertain, sendErr.Error()))
	case errors.As(sendErr, &re) && !lastTry:
		// The service answered 429 or 5xx: not carried out; try again.
		return errors.Join(sendErr, f.Store.RecordFeedback(ctx, v.ID, vigil.FeedbackPending, sendErr.Error()))
	default:
		return f.Store.RecordFeedback(ctx, v.ID, vigil.FeedbackFailed, sendErr.Error())
	}
}

func (f *Feedback) open(ctx context.Context, v *vigil.UpstreamVerdict) (exchange.FeedbackSender, exchange.FeedbackVerifier, error) {
	x, err := f.Store.FindExchangeByID(ctx, v.ExchangeID)
	if err != nil {
		return nil, nil, fmt.Errorf("upstream: exchange of verdict %d: %w", v.ID, err)
	}
	creds, err := f.Store.ExchangeCredentials(ctx, x.ID)
	if err != nil {
		return nil, nil, fmt.Errorf("upstream: exchange %s: %w", x.Name, err)
	}
	newClient := f.NewClient
	if newClient == nil {
		newClient = NewClient
	}
	c, err := newClient(exchange.Config{Kind: x.Kind, URL: x.URL, Token: creds.Token, User: creds.User,
		Password: creds.Password, HTTP: f.HTTP(x)})
	if err != nil {
		return nil, nil, err
	}
	sender, ok := c.(exchange.FeedbackSender)
	if !ok {
		return nil, nil, fmt.Errorf("%w (%s)", ErrNoFeedback, x.Kind)
	}
	verifier, _ := c.(exchange.FeedbackVerifier)
	return sender, verifier, nil
}

func (f *Feedback) log() *slog.Logger {
	if f.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return f.Logger
}

// Register adds the feedback worker.
func (f *Feedback) Register(w *river.Workers) {
	river.AddWorker(w, &feedbackWorker{f: f})
}

// QueueConfig is the exchange queue's: feedback is rare and small.
func QueueConfig() river.QueueConfig { return river.QueueConfig{MaxWorkers: 2} }

type feedbackWorker struct {
	river.WorkerDefaults[jobargs.ExchangeFeedbackArgs]
	f *Feedback
}

func (w *feedbackWorker) Work(ctx context.Context, job *river.Job[jobargs.ExchangeFeedbackArgs]) error {
	return w.f.Send(ctx, job.Args.VerdictID, job.Attempt >= job.MaxAttempts)
}
