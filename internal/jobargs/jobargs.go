// Package jobargs holds the arguments and queues of Vigil's background jobs.
// It depends on River alone, so that the stores can enqueue jobs in the same
// transaction as the state that calls for them without importing the workers
// (internal/jobs, internal/takedown) and what those depend on.
package jobargs

import (
	"time"

	"github.com/riverqueue/river"
)

// Queue names. Each has its own concurrency so that slow crawls never starve
// hashing and matching.
const (
	QueueCrawl = "crawl"
	QueueFetch = "fetch"
	QueueHash  = "hash"
	QueueMatch = "match"
)

// MaxAttempts bounds retries of a step; a fetch that fails this often is
// recorded as failed.
const MaxAttempts = 5

// CrawlArgs asks for a reported URL to be crawled. It is inserted in the
// same transaction as the report that first named the URL.
type CrawlArgs struct {
	ReportedURLID int64 `json:"reported_url_id"`
}

// Kind implements river.JobArgs.
func (CrawlArgs) Kind() string { return "crawl" }

// PageArgs fetches one page of a crawl and queues what it links to.
type PageArgs struct {
	TaskID int64 `json:"task_id"`
}

// Kind implements river.JobArgs.
func (PageArgs) Kind() string { return "fetch_page" }

// MediaArgs fetches one media file and stores it, encrypted.
type MediaArgs struct {
	TaskID int64 `json:"task_id"`
}

// Kind implements river.JobArgs.
func (MediaArgs) Kind() string { return "fetch_media" }

// HashArgs computes the PDQ hash of a stored media item.
type HashArgs struct {
	TaskID int64 `json:"task_id"`
}

// Kind implements river.JobArgs.
func (HashArgs) Kind() string { return "hash" }

// MatchArgs matches a hashed media item against the banks.
type MatchArgs struct {
	TaskID int64 `json:"task_id"`
}

// Kind implements river.JobArgs.
func (MatchArgs) Kind() string { return "match" }

// ExtractArgs opens a stored container (an archive, a PDF) and hashes and
// matches what it holds.
type ExtractArgs struct {
	TaskID int64 `json:"task_id"`
}

// Kind implements river.JobArgs.
func (ExtractArgs) Kind() string { return "extract" }

// TaskJob returns the job that works a crawl task of the given kind.
func TaskJob(kind string, taskID int64) river.InsertManyParams {
	var args river.JobArgs
	queue := QueueFetch
	switch kind {
	case "page":
		args = PageArgs{TaskID: taskID}
	case "media":
		args = MediaArgs{TaskID: taskID}
	case "hash":
		args, queue = HashArgs{TaskID: taskID}, QueueHash
	case "match":
		args, queue = MatchArgs{TaskID: taskID}, QueueMatch
	case "extract":
		args, queue = ExtractArgs{TaskID: taskID}, QueueHash
	default:
		panic("jobargs: unknown task kind " + kind)
	}
	return river.InsertManyParams{Args: args, InsertOpts: &river.InsertOpts{Queue: queue, MaxAttempts: MaxAttempts}}
}

// QueueTakedown runs the takedown path: trace, send, recheck.
const QueueTakedown = "takedown"

// TraceArgs traces where a case's illegal content is hosted and decides
// where it goes.
type TraceArgs struct {
	TakedownID int64 `json:"takedown_id"`
}

// Kind implements river.JobArgs.
func (TraceArgs) Kind() string { return "trace" }

// SendArgs sends one stored outbound message.
type SendArgs struct {
	OutboundID int64 `json:"outbound_id"`
}

// Kind implements river.JobArgs.
func (SendArgs) Kind() string { return "send" }

// RecheckArgs checks whether a case's content is still up. Seq numbers the
// rechecks of a case, so that a recheck run twice counts once.
type RecheckArgs struct {
	TakedownID int64 `json:"takedown_id"`
	Seq        int   `json:"seq"`
}

// Kind implements river.JobArgs.
func (RecheckArgs) Kind() string { return "recheck" }

// TakedownJob returns the insert parameters of a takedown-path job,
// scheduled at at when it is not zero.
func TakedownJob(args river.JobArgs, at time.Time) river.InsertManyParams {
	opts := &river.InsertOpts{Queue: QueueTakedown, MaxAttempts: MaxAttempts}
	if !at.IsZero() {
		opts.ScheduledAt = at
	}
	return river.InsertManyParams{Args: args, InsertOpts: opts}
}

// ReferralStatusArgs reports one step of a referred case back to the
// partner that referred it (internal/federation).
type ReferralStatusArgs struct {
	StatusID int64 `json:"status_id"`
}

// Kind implements river.JobArgs.
func (ReferralStatusArgs) Kind() string { return "referral_status" }

// QueueExchange sends analysts' verdicts back to the exchanges.
const QueueExchange = "exchange"

// ExchangeFeedbackArgs sends one verdict's feedback to the service that
// supplied the entry, once (the notices' exactly-once protocol). It is
// inserted in the same transaction as the verdict.
type ExchangeFeedbackArgs struct {
	VerdictID int64 `json:"verdict_id"`
}

// Kind implements river.JobArgs.
func (ExchangeFeedbackArgs) Kind() string { return "exchange_feedback" }
