package jobs

import (
	"github.com/vigil-hotline/vigil/internal/jobargs"

	"context"
	"crypto/md5"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/url"
	"runtime"

	"github.com/riverqueue/river"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/archive"
	"github.com/vigil-hotline/vigil/internal/blob"
	"github.com/vigil-hotline/vigil/internal/crawl"
	"github.com/vigil-hotline/vigil/internal/hashing"
	"github.com/vigil-hotline/vigil/internal/render"
	"github.com/vigil-hotline/vigil/internal/video"
)

// Pipeline is what the crawl workers share: one per process.
type Pipeline struct {
	Store   vigil.CrawlService
	Fetcher *crawl.Fetcher
	Blobs   *blob.Vault
	Matcher vigil.Matcher
	Hashing hashing.Options
	Budget  vigil.CrawlBudget
	// MaxDepth is how many links from the reported URL pages on the same
	// site are followed (default 1).
	MaxDepth int
	// Hashers bounds how many images are decoded and hashed at once
	// (default: the number of CPUs).
	Hashers int
	Logger  *slog.Logger
	// Video hashes videos (vPDQ); nil when ffmpeg is missing, and then
	// videos are matched by their digests only.
	Video *video.Hasher
	// VideoHashers bounds how many videos are decoded at once (default
	// half the CPUs: ffmpeg is a process of its own).
	VideoHashers int
	// Archives bounds what an archive may make a worker read (entries,
	// sizes, compression ratio, nesting); zero fields take the defaults.
	Archives archive.Limits
	// Renderer renders pages built by JavaScript in a browser; nil when
	// rendering is off. A page is rendered when it yields fewer media
	// than RenderBelow, or when its host is in RenderSites.
	Renderer    *render.Renderer
	RenderBelow int
	RenderSites []string
	// Renders bounds the browsers running at once (default 2: each holds
	// hundreds of megabytes).
	Renders int

	cpu     chan struct{}
	videos  chan struct{}
	renders chan struct{}
}

// Register adds the crawl pipeline's workers: crawl → fetch page → fetch
// media → hash → match.
func (p *Pipeline) Register(w *river.Workers) {
	if p.Logger == nil {
		p.Logger = slog.New(slog.DiscardHandler)
	}
	if p.Hashers <= 0 {
		p.Hashers = runtime.NumCPU()
	}
	p.cpu = make(chan struct{}, p.Hashers)
	if p.VideoHashers <= 0 {
		p.VideoHashers = max(1, runtime.NumCPU()/2)
	}
	p.videos = make(chan struct{}, p.VideoHashers)
	if p.Renders <= 0 {
		p.Renders = 2
	}
	p.renders = make(chan struct{}, p.Renders)
	river.AddWorker(w, &crawlWorker{p: p})
	river.AddWorker(w, &pageWorker{p: p})
	river.AddWorker(w, &mediaWorker{p: p})
	river.AddWorker(w, &hashWorker{p: p})
	river.AddWorker(w, &matchWorker{p: p})
	river.AddWorker(w, &extractWorker{p: p})
}

// Queues returns the pipeline's queues. Jobs spend much of their time on
// the database and the network, so each queue keeps more jobs in flight
// than there are cores; the CPU-heavy part of hashing, which image fetch
// jobs do themselves, is bounded separately (Pipeline.Hashers), so that
// while some fetch jobs wait on the network or the store, others keep
// every core hashing.
func Queues(fetchers, hashers int) map[string]river.QueueConfig {
	return map[string]river.QueueConfig{
		jobargs.QueueCrawl: {MaxWorkers: 4},
		jobargs.QueueFetch: {MaxWorkers: max(1, fetchers)},
		jobargs.QueueHash:  {MaxWorkers: 4 * max(1, hashers)},
		jobargs.QueueMatch: {MaxWorkers: 16},
	}
}

type crawlWorker struct {
	river.WorkerDefaults[jobargs.CrawlArgs]
	p *Pipeline
}

func (w *crawlWorker) Work(ctx context.Context, job *river.Job[jobargs.CrawlArgs]) error {
	err := w.p.Store.StartCrawl(ctx, job.Args.ReportedURLID)
	if vigil.IsNotFound(err) {
		return river.JobCancel(err)
	}
	return err
}

// task loads a job's task; nil when it is done already (a job that ran
// again after a crash).
func (p *Pipeline) task(ctx context.Context, id int64) (*vigil.CrawlTask, error) {
	t, err := p.Store.FindTask(ctx, id)
	if err != nil {
		if vigil.IsNotFound(err) {
			return nil, river.JobCancel(err)
		}
		return nil, err
	}
	if t.Done {
		return nil, nil
	}
	return t, nil
}

// retry says whether a failed fetch should be tried again later (by
// River, with back-off) rather than recorded as failed now.
func retry(err error, attempt int) bool {
	return crawl.ReasonOf(err).Retryable() && attempt < jobargs.MaxAttempts
}

type pageWorker struct {
	river.WorkerDefaults[jobargs.PageArgs]
	p *Pipeline
}

func (w *pageWorker) Work(ctx context.Context, job *river.Job[jobargs.PageArgs]) error {
	t, err := w.p.task(ctx, job.Args.TaskID)
	if t == nil {
		return err
	}
	page, err := w.p.Fetcher.FetchPage(ctx, t.Target, "")
	if err != nil && retry(err, job.Attempt) {
		return err
	}
	var children []vigil.CrawlChild
	failed := err != nil || page.Evidence.Status >= 400
	if !failed {
		children = w.p.children(t, page)
		children = append(children, w.p.rendered(ctx, t, page)...)
	}
	f := fetchRecord(&page.Evidence)
	if err == nil && f.Status >= 400 {
		f.Reason, f.Error = string(crawl.ReasonHTTPStatus), fmt.Sprintf("the server answered %d", f.Status)
	}
	return w.p.Store.FinishPage(ctx, t, f, children, w.p.Budget)
}

// children lists what a fetched page calls for: its media, and pages on
// the same site within the depth limit. A reported URL that is itself an
// image or video is fetched again as media, so that its evidence is a
// media fetch like any other.
func (p *Pipeline) children(t *vigil.CrawlTask, page *crawl.Page) []vigil.CrawlChild {
	var out []vigil.CrawlChild
	switch page.Evidence.Class {
	case crawl.ClassArchive, crawl.ClassDocument:
		// A container reached as a page is opened as media.
		return []vigil.CrawlChild{{Kind: vigil.TaskMedia, Target: page.Evidence.FinalURL, Depth: t.Depth}}
	case crawl.ClassImage, crawl.ClassVideo:
		out = []vigil.CrawlChild{{Kind: vigil.TaskMedia, Target: page.Evidence.FinalURL, Depth: t.Depth}}
		// An SVG document is a picture and a document that can reference
		// others: both are followed.
		if page.Evidence.Sniffed != "image/svg+xml" {
			return out
		}
	case crawl.ClassHTML:
	default:
		return nil
	}
	for _, l := range page.Links.Media {
		out = append(out, vigil.CrawlChild{Kind: vigil.TaskMedia, Target: l.URL, Depth: t.Depth})
	}
	maxDepth := p.MaxDepth
	if maxDepth == 0 {
		maxDepth = crawl.DefaultMaxDepth
	}
	if t.Depth+1 > maxDepth {
		return out
	}
	base, err := url.Parse(page.Evidence.FinalURL)
	if err != nil {
		return out
	}
	for _, l := range page.Links.Pages {
		if u, err := url.Parse(l.URL); err == nil && crawl.SameSite(base, u) {
			out = append(out, vigil.CrawlChild{Kind: vigil.TaskPage, Target: l.URL, Depth: t.Depth + 1})
		}
	}
	return out
}

type mediaWorker struct {
	river.WorkerDefaults[jobargs.MediaArgs]
	p *Pipeline
}

func (w *mediaWorker) Work(ctx context.Context, job *river.Job[jobargs.MediaArgs]) error {
	t, err := w.p.task(ctx, job.Args.TaskID)
	if t == nil {
		return err
	}
	resp, err := w.p.Fetcher.FetchMedia(ctx, t.Target, "")
	if err != nil && retry(err, job.Attempt) {
		return err
	}
	f := fetchRecord(&resp.Evidence)
	if err == nil && resp.Evidence.Class == crawl.ClassImage {
		return w.p.finishImage(ctx, t, f, resp)
	}
	var m *vigil.Media
	if c := resp.Evidence.Class; err == nil && (c == crawl.ClassVideo || c == crawl.ClassArchive || c == crawl.ClassDocument) {
		md5sum, sha1sum := md5.Sum(resp.Body), sha1.Sum(resp.Body)
		m = newMedia(resp, hex.EncodeToString(md5sum[:]), hex.EncodeToString(sha1sum[:]))
		if err := w.p.storeBlob(ctx, m, resp.Body); err != nil {
			return err
		}
	}
	return w.p.Store.FinishMedia(ctx, t, f, m)
}

// finishImage hashes and matches a fetched image from the bytes in memory,
// before they are encrypted, stores the blob (written once, never read
// back for hashing) and records everything in one transaction. A crash
// anywhere before that transaction leaves the task pending: the job runs
// again and nothing is recorded twice.
func (p *Pipeline) finishImage(ctx context.Context, t *vigil.CrawlTask, f *vigil.Fetch, resp *crawl.Response) error {
	m := newMedia(resp, "", "")
	h, matches, err := p.hashImage(ctx, m, resp.Body)
	if err != nil {
		return err
	}
	if err := p.storeBlob(ctx, m, resp.Body); err != nil {
		return err
	}
	return p.Store.FinishImageLinks(ctx, t, f, m, h, matches, svgChildren(t, resp), p.Budget)
}

// svgChildren lists the pictures an SVG document references: reached
// through <img> it is fetched as media, and what it draws is followed like
// a page's media (a gallery could otherwise hide behind one SVG).
func svgChildren(t *vigil.CrawlTask, resp *crawl.Response) []vigil.CrawlChild {
	if resp.Evidence.Sniffed != "image/svg+xml" {
		return nil
	}
	base, err := url.Parse(resp.Evidence.FinalURL)
	if err != nil {
		return nil
	}
	var out []vigil.CrawlChild
	for _, l := range crawl.Extract(resp.Body, base).Media {
		out = append(out, vigil.CrawlChild{Kind: vigil.TaskMedia, Target: l.URL, Depth: t.Depth})
	}
	return out
}

// hashImage hashes and matches an image from its bytes, m.SHA256 given,
// filling in m's other digests. The hashes are nil when the item was
// hashed already (another crawl met it first): it is not hashed twice.
func (p *Pipeline) hashImage(ctx context.Context, m *vigil.Media, body []byte) (*vigil.MediaHashes, []vigil.Match, error) {
	hashed, err := p.Store.MediaHashed(ctx, m.SHA256)
	if err != nil {
		return nil, nil, err
	}
	if hashed {
		md5sum, sha1sum := md5.Sum(body), sha1.Sum(body)
		m.MD5, m.SHA1 = hex.EncodeToString(md5sum[:]), hex.EncodeToString(sha1sum[:])
		return nil, nil, nil
	}
	h, res, err := p.hash(ctx, body)
	if err != nil {
		return nil, nil, err
	}
	if !res.Digested { // refused for its length before reading
		res.MD5, res.SHA1 = md5.Sum(body), sha1.Sum(body)
	}
	m.MD5, m.SHA1 = hex.EncodeToString(res.MD5[:]), hex.EncodeToString(res.SHA1[:])
	matches, err := p.Matcher.Match(ctx, vigil.MatchQuery{
		MD5: m.MD5, SHA1: m.SHA1, SHA256: m.SHA256, PDQ: h.PDQ, Quality: h.Quality, Dihedral: h.Dihedral,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("match %s: %w", m.SHA256, err)
	}
	return h, matches, nil
}

// hash computes an image's hashes, at most Hashers at once. A malformed or
// oversized file is a fact about the file: recorded in h.Error, not an
// error (the job is not retried for it).
func (p *Pipeline) hash(ctx context.Context, data []byte) (*vigil.MediaHashes, hashing.Result, error) {
	opts := p.Hashing
	opts.Dihedral = true
	select {
	case p.cpu <- struct{}{}:
	case <-ctx.Done():
		return nil, hashing.Result{}, ctx.Err()
	}
	res, err := hashing.HashBytes(data, opts)
	<-p.cpu
	if err != nil {
		p.Logger.Info("media not hashed", "err", err)
		return &vigil.MediaHashes{Error: err.Error()}, res, nil
	}
	return mediaHashes(&res), res, nil
}

func mediaHashes(res *hashing.Result) *vigil.MediaHashes {
	h := &vigil.MediaHashes{Quality: res.Quality, Width: res.Width, Height: res.Height, Format: string(res.Format)}
	if !res.PDQ.IsZero() || res.Quality > 0 {
		h.PDQ = res.PDQ.String()
	}
	if res.Dihedral != nil {
		for _, d := range res.Dihedral {
			h.Dihedral = append(h.Dihedral, d.String())
		}
	}
	return h
}

func newMedia(resp *crawl.Response, md5hex, sha1hex string) *vigil.Media {
	return &vigil.Media{
		SHA256: resp.Evidence.SHA256, MD5: md5hex, SHA1: sha1hex,
		Size: int64(len(resp.Body)), Class: string(resp.Evidence.Class), MIME: resp.Evidence.Sniffed,
	}
}

// storeBlob encrypts the bytes into the blob store (once per SHA-256)
// before the database refers to them: a crash between the two leaves an
// unreferenced blob, never a reference to nothing.
func (p *Pipeline) storeBlob(ctx context.Context, m *vigil.Media, body []byte) error {
	m.BlobKey = p.Blobs.Name(m.SHA256)
	ok, err := p.Blobs.Exists(ctx, m.BlobKey)
	if err != nil {
		return fmt.Errorf("blob: %w", err)
	}
	if !ok {
		if err := p.Blobs.Put(ctx, m.BlobKey, body); err != nil {
			return fmt.Errorf("blob: %w", err)
		}
	}
	return nil
}

type hashWorker struct {
	river.WorkerDefaults[jobargs.HashArgs]
	p *Pipeline
}

func (w *hashWorker) Work(ctx context.Context, job *river.Job[jobargs.HashArgs]) error {
	t, err := w.p.task(ctx, job.Args.TaskID)
	if t == nil {
		return err
	}
	m, err := w.p.Store.FindMedia(ctx, t.MediaID)
	if err != nil {
		return err
	}
	if m.HashedAt != nil {
		return w.p.Store.FinishHash(ctx, t, nil)
	}
	if m.Class == string(crawl.ClassVideo) {
		return w.p.hashVideo(ctx, t, m)
	}
	data, err := w.p.Blobs.Get(ctx, m.BlobKey)
	if err != nil {
		return err
	}
	h, _, err := w.p.hash(ctx, data)
	if err != nil {
		return err
	}
	return w.p.Store.FinishHash(ctx, t, h)
}

type matchWorker struct {
	river.WorkerDefaults[jobargs.MatchArgs]
	p *Pipeline
}

func (w *matchWorker) Work(ctx context.Context, job *river.Job[jobargs.MatchArgs]) error {
	t, err := w.p.task(ctx, job.Args.TaskID)
	if t == nil {
		return err
	}
	m, err := w.p.Store.FindMedia(ctx, t.MediaID)
	if err != nil {
		return err
	}
	if m.MatchedAt != nil {
		return w.p.Store.FinishMatch(ctx, t, nil, false)
	}
	q := vigil.MatchQuery{MD5: m.MD5, SHA1: m.SHA1, SHA256: m.SHA256, PDQ: m.PDQ, Quality: m.Quality, Dihedral: m.Dihedral}
	if m.Class == string(crawl.ClassVideo) {
		if q.Video, err = w.p.videoFrames(ctx, m.ID); err != nil {
			return err
		}
	}
	matches, err := w.p.Matcher.Match(ctx, q)
	if err != nil {
		return fmt.Errorf("match media %d: %w", m.ID, err)
	}
	return w.p.Store.FinishMatch(ctx, t, matches, true)
}

// fetchRecord turns the crawler's evidence into the stored record.
func fetchRecord(ev *crawl.Evidence) *vigil.Fetch {
	full, _ := json.Marshal(ev)
	f := &vigil.Fetch{
		RequestedURL: ev.RequestedURL, FinalURL: ev.FinalURL, Status: ev.Status, StartedAt: ev.Started.UTC(),
		Duration: ev.Duration, Bytes: ev.Bytes, BodySHA256: ev.SHA256, ContentType: ev.ContentType,
		Sniffed: ev.Sniffed, Class: string(ev.Class), Reason: string(ev.Reason), Error: ev.Error, Evidence: string(full),
	}
	if ev.Connected.IsValid() {
		f.Connected = ev.Connected.String()
	}
	if f.FinalURL == "" {
		f.FinalURL = f.RequestedURL
	}
	return f
}
