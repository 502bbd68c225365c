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
	// TaskExtract opens a container (an archive, a PDF): each picture or
	// video inside becomes a media item of its own, with the container as
	// its parent.
	TaskExtract TaskKind = "extract"
)

// Media classes beyond image and video: containers whose contents are
// extracted and matched one by one.
const (
	MediaClassArchive  = "archive"
	MediaClassDocument = "document"
)

// IsContainer reports whether media of this class are opened by an
// extract task.
func IsContainer(class string) bool {
	return class == MediaClassArchive || class == MediaClassDocument
}

// ArchiveEntry is one entry of a container as evidence: where it sat
// (Path, a label from the archive, never a file path), what its header said,
// and the media item it became, or why it did not (Reason: encrypted,
// not_media, too_large, …).
type ArchiveEntry struct {
	ParentID int64
	// Seq is the entry's place in the container's listing.
	Seq        int
	Path       string
	Size       int64
	Modified   *time.Time
	MediaID    int64
	Reason     string
	RecordedAt time.Time
}

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
	// ListArchiveEntries returns what a container held, in order.
	ListArchiveEntries(ctx context.Context, parentID int64) ([]*ArchiveEntry, error)
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
	// FinishImageLinks is FinishImage for a picture that references others
	// (an SVG reached through <img>): children are queued too, within b.
	FinishImageLinks(ctx context.Context, task *CrawlTask, f *Fetch, m *Media, h *MediaHashes, matches []Match,
		children []CrawlChild, b CrawlBudget) error
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

	// ArchiveEntryPaths lists the entries of a container recorded so far
	// for this reported URL's crawl (those that became media seen in it,
	// and those that did not become media): an extraction run again after
	// a crash skips them.
	ArchiveEntryPaths(ctx context.Context, parentID, reportedURLID int64) ([]string, error)
	// FetchURL returns the final URL of a fetch: where a container's links
	// are resolved from.
	FetchURL(ctx context.Context, fetchID int64) (string, error)
	// ArchiveNesting says how many containers enclose a media item (0 for
	// one fetched by itself).
	ArchiveNesting(ctx context.Context, mediaID int64) (int, error)
	// FinishEntry records one entry of the container that task extracts,
	// without finishing the task: the entry (its media item m, nil when it
	// was not extracted, and where it was seen), m's hashes and verdict
	// when h is not nil (as FinishImage), and next (TaskHash for a video,
	// TaskExtract for a nested container, "" for none) queued for m. Calling it again for the same entry (a run
	// after a crash, another crawl of the same container) adds only what is
	// missing: an item is hashed and matched once.
	FinishEntry(ctx context.Context, task *CrawlTask, e *ArchiveEntry, m *Media, h *MediaHashes, matches []Match, next TaskKind) error
	// FinishExtract finishes a container's extract task: its format and,
	// in h.Error, why it was not wholly examined (encrypted, a limit); its
	// verdict by digest (matches); children (links in a PDF) queued. A
	// container not wholly examined and not known waits for an analyst
	// with that reason; one wholly examined does not (its entries do).
	FinishExtract(ctx context.Context, task *CrawlTask, h *MediaHashes, matches []Match, children []CrawlChild, b CrawlBudget) error
}
