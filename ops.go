package vigil

import "time"

// OpsGauges are the store's figures an operator watches, read on each
// metrics scrape: the same in every process, since they come from the
// shared database.
type OpsGauges struct {
	// Jobs counts the durable queue's jobs by kind and state.
	Jobs []JobCount
	// OldestAvailable is, per job kind, when the oldest job that waits
	// for a worker became available.
	OldestAvailable map[string]time.Time
	// Fetches counts the crawler's fetches by class and reason.
	Fetches []FetchCount
	// Messages counts outbound messages (notices, referrals) by state.
	Messages map[string]int64
	// Queue is the analysts' queue.
	Queue QueueStats
	// MigrationVersion is the newest schema migration applied.
	MigrationVersion int
}

// JobCount is the number of jobs of one kind in one state.
type JobCount struct {
	Kind, State string
	Count       int64
}

// FetchCount is the number of fetches with one outcome.
type FetchCount struct {
	Class, Reason string
	Count         int64
}
