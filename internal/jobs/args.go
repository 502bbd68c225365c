// Package jobs holds Vigil's background jobs: their arguments (here, so that
// the stores can enqueue them transactionally without importing the workers)
// and their River workers.
package jobs

// Queue names. Each has its own concurrency so that slow crawls never starve
// hashing and matching.
const (
	QueueCrawl = "crawl"
)

// CrawlArgs asks for a reported URL to be crawled. It is inserted in the
// same transaction as the report that first named the URL.
type CrawlArgs struct {
	ReportedURLID int64 `json:"reported_url_id"`
}

// Kind implements river.JobArgs.
func (CrawlArgs) Kind() string { return "crawl" }
