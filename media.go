package vigil

import (
	"context"
	"time"
)

// TaskKind names a step of a reported URL's crawl.
type TaskKind string

const (
	TaskPage  TaskKind = "page"
	TaskMedia TaskKind = "media"
	TaskHash  TaskKind = "hash"
	TaskMatch TaskKind = "match"
)

// CrawlTask is one step of one reported URL's crawl. A task is unique per
// reported URL, kind and target, and is done at most once: a job run again
// after a crash finds its task done and stops.
type CrawlTask struct {
	ID            int64
	ReportedURLID int64
	Kind          TaskKind
	// Target is the URL for pages and media, "media:ID" for hash and match.
	Target      string
	Depth       int
	PageFetchID int64
	MediaID     int64
	Done        bool
}

// Fetch is the evidence of one HTTP fetch: what was asked, where it went,
// who answered and what came back.
type Fetch struct {
	ID            int64
	ReportedURLID int64
	TaskID        int64
	Kind          TaskKind
	RequestedURL  string
	FinalURL      string
	Status        int
	StartedAt     time.Time
	Duration      time.Duration
	Bytes         int64
	BodySHA256    string
	ContentType   string
	Sniffed       string
	Class         string
	Connected     string
	// Reason is empty for a successful fetch, else why it failed or was
	// refused (refused, too_large, timeout, …), with Error the detail.
	Reason string
	Error  string
	// Evidence is the whole record as JSON: redirect chain, response
	// headers, addresses resolved.
	Evidence string
}

// MediaStatus is where a media item stands.
type MediaStatus string

const (
	// MediaPending: stored, not yet matched.
	MediaPending MediaStatus = "pending"
	// MediaKnown: matched a bank; classified without a human.
	MediaKnown MediaStatus = "known"
	// MediaUnknown: matched nothing; queued for an analyst.
	MediaUnknown MediaStatus = "unknown"
)

// Media is one distinct file (by SHA-256) found by the crawler, across
// every case. Its bytes are in the encrypted blob store under BlobKey.
type Media struct {
	ID             int64
	SHA256         string
	MD5            string
	SHA1           string
	Size           int64
	Class          string // image, video, other
	MIME           string
	BlobKey        string
	PDQ            string
	Quality        int
	Dihedral       []string
	Width, Height  int
	Format         string
	HashError      string
	HashRuns       int
	MatchRuns      int
	Status         MediaStatus
	Classification string
	FirstSeenAt    time.Time
	HashedAt       *time.Time
	MatchedAt      *time.Time
	QueuedAt       *time.Time
}

// MediaService reads media and where they were seen.
type MediaService interface {
	FindMedia(ctx context.Context, id int64) (*Media, error)
	// ListMediaForURL returns the media seen on a reported URL's crawl.
	ListMediaForURL(ctx context.Context, reportedURLID int64) ([]*Media, error)
	// ListFetches returns the evidence of a reported URL's crawl in order.
	ListFetches(ctx context.Context, reportedURLID int64) ([]*Fetch, error)
	MediaMatches(ctx context.Context, mediaID int64) ([]Match, error)
	MediaCounts(ctx context.Context) (MediaCounts, error)
	// MediaVideo returns a video's vPDQ hash and length, or why it has
	// none; not found for other media.
	MediaVideo(ctx context.Context, mediaID int64) (*MediaVideo, error)
}

// MediaCounts are the pipeline's figures.
type MediaCounts struct {
	Media   int64
	Known   int64
	Unknown int64
	Pending int64
}

// CrawlBudget bounds one reported URL's crawl.
type CrawlBudget struct {
	MaxPages int
	MaxMedia int
}

// DefaultCrawlBudget: a gateway can lead to hundreds of pages and thousands
// of images, but no further.
var DefaultCrawlBudget = CrawlBudget{MaxPages: 200, MaxMedia: 2000}

// CrawlChild is a task that a finished task calls for.
type CrawlChild struct {
	Kind    TaskKind
	Target  string
	Depth   int
	MediaID int64
}

// MediaHashes is what the hash step learns of a media item.
type MediaHashes struct {
	PDQ           string
	Quality       int
	Dihedral      []string
	Width, Height int
	Format        string
	// Error says why the file could not be hashed (malformed, too large):
	// recorded, not retried.
	Error string
	// Video is a video's vPDQ hash and Duration its length in seconds.
	Video    []VideoFrame
	Duration float64
}

// MediaVideo is what was learnt of a video media item: its vPDQ frames, or
// why it has none (Reason, such as too_long or no_ffmpeg).
type MediaVideo struct {
	MediaID  int64
	Frames   []VideoFrame
	Duration float64
	Reason   string
}

// CrawlService is the crawl pipeline's store. Each Finish call records a
// task's result, queues the tasks it calls for and marks it done in one
// transaction, and does nothing when the task was done already: a job run
// again after a crash changes nothing.
type CrawlService interface {
	StartCrawl(ctx context.Context, reportedURLID int64) error
	FindTask(ctx context.Context, id int64) (*CrawlTask, error)
	FinishPage(ctx context.Context, task *CrawlTask, f *Fetch, children []CrawlChild, b CrawlBudget) error
	FinishMedia(ctx context.Context, task *CrawlTask, f *Fetch, m *Media) error
	// FinishImage is FinishMedia, FinishHash and FinishMatch of a fetched
	// image in one transaction: the worker hashed and matched it from the
	// bytes in memory, so no hash or match task is queued. h is nil when
	// the item was hashed already (another crawl met it first); then only
	// the sighting is recorded. As in FinishHash and FinishMatch, an item
	// is hashed and matched once whatever the number of crawls.
	FinishImage(ctx context.Context, task *CrawlTask, f *Fetch, m *Media, h *MediaHashes, matches []Match) error
	// MediaHashed reports whether a media item with this SHA-256 exists and
	// is hashed, so that a worker skips hashing what is known already.
	MediaHashed(ctx context.Context, sha256 string) (bool, error)
	FinishHash(ctx context.Context, task *CrawlTask, h *MediaHashes) error
	// FinishMatch stores the verdict; done is false when another crawl
	// matched the item first and matches are to be ignored.
	FinishMatch(ctx context.Context, task *CrawlTask, matches []Match, done bool) error
	FindMedia(ctx context.Context, id int64) (*Media, error)
	// MediaVideo returns a video's vPDQ hash, or why it has none.
	MediaVideo(ctx context.Context, mediaID int64) (*MediaVideo, error)
}
