package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/archive"
	"github.com/vigil-hotline/vigil/internal/blob"
	"github.com/vigil-hotline/vigil/internal/crawl"
	"github.com/vigil-hotline/vigil/internal/hashing"
	"github.com/vigil-hotline/vigil/internal/jobargs"
	"github.com/vigil-hotline/vigil/internal/jobs"
	"github.com/vigil-hotline/vigil/internal/metrics"
	"github.com/vigil-hotline/vigil/internal/store"
	"github.com/vigil-hotline/vigil/internal/takedown"
)

// workerConfig is the crawl pipeline's configuration, shared by serve and
// work.
type workerConfig struct {
	Fetchers    int
	Hashers     int
	MaxDepth    int
	MaxPages    int
	MaxMedia    int
	MaxBytes    int64
	UserAgent   string
	RescueAfter time.Duration
	BlobDir     string
	KeyFile     string
	// Test and demo hooks: fixed name resolution and an exact allow-list
	// of addresses; never needed against the real internet.
	Resolve multiFlag
	Allow   multiFlag
	// resolver and allow replace the above when set in code (the demo and
	// the crawl benchmark run a simulated internet in-process).
	resolver crawl.Resolver
	allow    []netip.AddrPort

	takedown *takedownConfig
	video    videoWorkerConfig
	archives archive.Limits
	render   renderWorkerConfig
	// matcher, when set, is the process's matcher, shared by the workers
	// and the lookup API; startWorkers makes one otherwise.
	matcher vigil.Matcher
	// metrics, when set, are the process's metrics.
	metrics *metrics.Metrics
	// AuditCheckpointEvery is how often the audit chain's head is anchored
	// outside the database; 0 turns it off.
	AuditCheckpointEvery time.Duration
	// PurgeEvery is how often the retention purge runs; 0 turns it off.
	PurgeEvery time.Duration
}

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func workerFlags(fs *flag.FlagSet, env *Env) *workerConfig {
	c := &workerConfig{}
	fs.IntVar(&c.Fetchers, "fetchers", 16, "concurrent fetches (pages and media)")
	fs.IntVar(&c.Hashers, "hashers", runtime.NumCPU()+1, "images decoded and hashed at once (one more than the CPUs keeps one ready while another waits on the store)")
	fs.IntVar(&c.MaxDepth, "crawl-depth", 1, "links followed from a reported URL to pages on the same site")
	fs.IntVar(&c.MaxPages, "crawl-max-pages", vigil.DefaultCrawlBudget.MaxPages, "pages fetched per reported URL at most")
	fs.IntVar(&c.MaxMedia, "crawl-max-media", vigil.DefaultCrawlBudget.MaxMedia, "media fetched per reported URL at most")
	fs.Int64Var(&c.MaxBytes, "crawl-max-bytes", 64<<20, "largest response body kept, in bytes")
	fs.StringVar(&c.UserAgent, "crawl-user-agent", envOr(env, "VIGIL_CRAWL_USER_AGENT", "Vigil/"+version()+" (hotline crawler)"),
		"User-Agent of the crawler [VIGIL_CRAWL_USER_AGENT]")
	fs.DurationVar(&c.RescueAfter, "rescue-after", 6*time.Minute, "a job running this long is taken for lost (its worker killed) and run again")
	fs.StringVar(&c.BlobDir, "blob-dir", env.Getenv("VIGIL_BLOB_DIR"), "folder of the encrypted media (default DATA/blobs) [VIGIL_BLOB_DIR]")
	fs.StringVar(&c.KeyFile, "media-key-file", env.Getenv("VIGIL_MEDIA_KEY_FILE"),
		"key file for the media encryption, kept apart from the blobs (default DATA/keys/media.key) [VIGIL_MEDIA_KEY_FILE]")
	fs.Var(&c.Resolve, "crawl-resolve", "HOST=IP: resolve HOST to IP (tests and demo only; repeatable)")
	fs.Var(&c.Allow, "crawl-allow", "IP:PORT the crawler may reach although it is private or loopback (tests and demo only; repeatable)")
	c.takedown = takedownFlags(fs, env)
	c.video.flags(fs)
	c.render.flags(fs)
	fs.IntVar(&c.archives.MaxEntries, "archive-max-entries", archive.DefaultMaxEntries, "entries an archive may list; more and it is refused unopened")
	fs.Int64Var(&c.archives.MaxEntrySize, "archive-max-entry-bytes", archive.DefaultMaxEntrySize, "uncompressed bytes of one archive entry at most")
	fs.Int64Var(&c.archives.MaxTotalSize, "archive-max-bytes", archive.DefaultMaxTotalSize, "uncompressed bytes of all an archive's entries at most")
	fs.Int64Var(&c.archives.MaxRatio, "archive-max-ratio", archive.DefaultMaxRatio, "how many times its compressed size an archive (or entry) may expand to (zip bombs)")
	fs.IntVar(&c.archives.MaxNesting, "archive-max-nesting", archive.DefaultMaxNesting, "archives inside archives opened, the outermost counting 1")
	fs.Int64Var(&c.archives.MaxDecoderMemory, "archive-max-decoder-bytes", archive.DefaultMaxDecoderMemory, "memory a 7z or RAR header may ask one decoder for (dictionary, PPMd model); more and the archive is refused unopened")
	fs.DurationVar(&c.AuditCheckpointEvery, "audit-checkpoint-every", time.Minute,
		"how often to write a signed checkpoint of the audit log's head outside the database (0: never)")
	fs.DurationVar(&c.PurgeEvery, "purge-every", 24*time.Hour,
		"how often to purge what the retention policy no longer keeps (0: never; vigil purge runs it by hand)")
	return c
}

// openVault opens the encrypted media store. The key lives outside the
// blob folder, so a copy of the blobs alone reveals nothing.
func openVault(env *Env, cfg *config, wc *workerConfig) (*blob.Vault, error) {
	keyFile := wc.KeyFile
	if keyFile == "" {
		keyFile = filepath.Join(cfg.DataDir, "keys", "media.key")
	}
	if env.Getenv("VIGIL_S3_ENDPOINT") == "" {
		dir := wc.BlobDir
		if dir == "" {
			dir = filepath.Join(cfg.DataDir, "blobs")
		}
		absDir, _ := filepath.Abs(dir)
		absKey, _ := filepath.Abs(keyFile)
		if strings.HasPrefix(absKey, absDir+string(os.PathSeparator)) {
			return nil, fmt.Errorf("the media key file must not be inside the blob folder")
		}
	}
	bs, err := openBlobStore(env, cfg.DataDir, wc.BlobDir)
	if err != nil {
		return nil, err
	}
	key, err := blob.LoadOrCreateKey(keyFile)
	if err != nil {
		return nil, err
	}
	return blob.NewVault(bs, key)
}

func (wc *workerConfig) fetcherConfig(env *Env) (crawl.Config, error) {
	c := crawl.Config{UserAgent: wc.UserAgent, MaxBytes: wc.MaxBytes, PerHost: 2, Logger: env.Logger}
	if len(wc.Resolve) > 0 {
		r, err := parseResolve("--crawl-resolve", wc.Resolve, env.resolver())
		if err != nil {
			return c, err
		}
		c.Resolver = r
	}
	if wc.resolver != nil {
		c.Resolver = wc.resolver
	}
	c.Policy.AllowAddrs = append(c.Policy.AllowAddrs, wc.allow...)
	for _, a := range wc.Allow {
		ap, err := netip.ParseAddrPort(a)
		if err != nil {
			return c, fmt.Errorf("--crawl-allow %q: want IP:PORT", a)
		}
		c.Policy.AllowAddrs = append(c.Policy.AllowAddrs, ap)
	}
	return c, nil
}

// parseResolve reads HOST=IP pairs into a staticResolver.
func parseResolve(flagName string, pairs []string, next Resolver) (*staticResolver, error) {
	r := &staticResolver{hosts: map[string][]netip.Addr{}, next: next}
	for _, kv := range pairs {
		host, ip, ok := strings.Cut(kv, "=")
		addr, err := netip.ParseAddr(ip)
		if !ok || err != nil {
			return nil, fmt.Errorf("%s %q: want HOST=IP", flagName, kv)
		}
		r.hosts[strings.ToLower(host)] = append(r.hosts[strings.ToLower(host)], addr)
	}
	return r, nil
}

// staticResolver answers from a fixed table, then asks next.
type staticResolver struct {
	hosts map[string][]netip.Addr
	next  Resolver
}

func (r *staticResolver) LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error) {
	if a, ok := r.hosts[strings.ToLower(host)]; ok {
		return a, nil
	}
	return r.next.LookupNetIP(ctx, network, host)
}

// startWorkers starts the process's matcher and every background worker;
// stop lets running jobs finish (30 s at most), stops them and says what
// failed in stopping.
func startWorkers(ctx context.Context, env *Env, cfg *config, wc *workerConfig, db *store.DB) (stop func() error, err error) {
	m, stopMatcher := wc.matcher, func() error { return nil }
	if m == nil {
		if m, stopMatcher, err = newMatcher(ctx, env, db, cfg.DataDir); err != nil {
			return nil, err
		}
	}
	stopPipeline, err := startPipeline(ctx, env, cfg, wc, db, m)
	if err != nil {
		return nil, errors.Join(err, stopMatcher())
	}
	stopCheckpoints, err := startAuditCheckpoints(ctx, env, cfg, db, wc.AuditCheckpointEvery)
	if err != nil {
		sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		return nil, errors.Join(err, stopPipeline(sctx), stopMatcher())
	}
	stopPurge, err := startPurge(ctx, env, cfg, wc, db)
	if err != nil {
		sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		stopCheckpoints()
		return nil, errors.Join(err, stopPipeline(sctx), stopMatcher())
	}
	stopExchanges := startExchangeScheduler(ctx, env, db)
	return func() error {
		sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		stopExchanges()
		stopPurge()
		err := stopPipeline(sctx)
		if err != nil {
			err = fmt.Errorf("stopping the workers: %w", err)
		}
		stopCheckpoints()
		return errors.Join(err, stopMatcher())
	}, nil
}

// startPipeline starts the crawl pipeline's workers in this process.
func startPipeline(ctx context.Context, env *Env, cfg *config, wc *workerConfig, db *store.DB, m vigil.Matcher) (func(context.Context) error, error) {
	vault, err := openVault(env, cfg, wc)
	if err != nil {
		return nil, fmt.Errorf("media store: %w", err)
	}
	fc, err := wc.fetcherConfig(env)
	if err != nil {
		return nil, err
	}
	fetcher := crawl.NewFetcher(fc)
	videoHasher, err := wc.video.hasher(ctx, env, wc.RescueAfter)
	if err != nil {
		return nil, err
	}
	renderer, err := wc.render.renderer(env, fetcher)
	if err != nil {
		return nil, err
	}
	p := &jobs.Pipeline{
		Store: db, Fetcher: fetcher, Blobs: vault, Matcher: m, Logger: env.Logger,
		Hashing:  hashing.Options{},
		Budget:   vigil.CrawlBudget{MaxPages: wc.MaxPages, MaxMedia: wc.MaxMedia},
		MaxDepth: wc.MaxDepth,
		Hashers:  wc.Hashers,
		Video:    videoHasher, VideoHashers: wc.video.Hashers,
		Archives: wc.archives,
		Renderer: renderer, RenderBelow: wc.render.Below, RenderSites: wc.render.Sites, Renders: wc.render.Workers,
	}
	if wc.MaxDepth == 0 {
		p.MaxDepth = crawl.NoFollow
	}
	workers := river.NewWorkers()
	p.Register(workers)
	closeTracer, err := registerTakedown(env, cfg, wc.takedown, db, fetcher, vault, workers)
	if err != nil {
		fetcher.Close()
		return nil, err
	}
	queues := jobs.Queues(wc.Fetchers, wc.Hashers)
	queues[jobargs.QueueTakedown] = takedown.QueueConfig()
	registerExchangeFeedback(env, db, workers, queues)
	stop, err := db.Driver().StartWorkers(ctx, store.WorkerConfig{
		Workers: workers, Queues: queues, Logger: quietLogger(env.Logger),
		// Jobs time out before they could be taken for lost.
		RescueAfter: wc.RescueAfter, JobTimeout: wc.RescueAfter * 4 / 5, PollInterval: 200 * time.Millisecond,
	})
	if err != nil {
		fetcher.Close()
		return nil, errors.Join(err, closeTracer())
	}
	return func(ctx context.Context) error {
		err := stop(ctx)
		fetcher.Close()
		return errors.Join(err, closeTracer())
	}, nil
}
