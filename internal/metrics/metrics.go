// Package metrics exposes Vigil's metrics in the Prometheus text format
// (prometheus/client_golang), and the health and readiness checks, on a
// listener of their own (by default loopback only: metrics name routes and
// counts, never reporters, but they are for operators).
//
// Counters of this process (HTTP requests, lookups) live in memory; the
// figures of the shared database (jobs, fetches, messages, the analysts'
// queue) are read from it on each scrape, so every process answers alike
// and they agree with the database.
package metrics

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/vigil-hotline/vigil"
)

// Store is what the scrape reads from the database.
type Store interface {
	OpsGauges(ctx context.Context) (*vigil.OpsGauges, error)
	Ping(ctx context.Context) error
}

// IndexStats is what the match index holds.
type IndexStats struct {
	Banks, PDQ, Exact int
	Loaded            bool
	// Stale: the index may have missed bank changes (see internal/match).
	Stale       bool
	LoadSeconds float64
}

// Config configures the metrics.
type Config struct {
	Store Store
	// Index, if set, reports the match index (nil: no index here).
	Index  func() IndexStats
	Logger *slog.Logger
	// LatestMigration is the newest migration this build carries.
	LatestMigration int
	Now             func() time.Time
}

// Metrics are one process's metrics.
type Metrics struct {
	cfg      Config
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	lookups  *prometheus.CounterVec
	matches  *prometheus.CounterVec
}

// New registers every metric.
func New(cfg Config) *Metrics {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	m := &Metrics{cfg: cfg, reg: prometheus.NewRegistry()}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "vigil_http_requests_total", Help: "HTTP requests by route pattern and status.",
	}, []string{"route", "status"})
	m.duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "vigil_http_request_duration_seconds", Help: "HTTP request latency by route pattern.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
	}, []string{"route"})
	m.lookups = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "vigil_lookups_total", Help: "Hashes looked up through the API, by signal.",
	}, []string{"signal"})
	m.matches = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "vigil_lookup_matches_total", Help: "API lookups that matched, by signal.",
	}, []string{"signal"})
	m.reg.MustRegister(m.requests, m.duration, m.lookups, m.matches,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		&storeCollector{m: m})
	if cfg.Index != nil {
		m.reg.MustRegister(&indexCollector{stats: cfg.Index})
	}
	return m
}

// ObserveRequest counts one HTTP request; route is its pattern ("" when
// nothing matched), never its path.
func (m *Metrics) ObserveRequest(route string, status int, d time.Duration) {
	if route == "" {
		route = "unmatched"
	}
	m.requests.WithLabelValues(route, strconv.Itoa(status)).Inc()
	m.duration.WithLabelValues(route).Observe(d.Seconds())
}

// ObserveLookup counts one lookup of a signal.
func (m *Metrics) ObserveLookup(signal string, matched bool) {
	m.lookups.WithLabelValues(signal).Inc()
	if matched {
		m.matches.WithLabelValues(signal).Inc()
	}
}

// Handler serves /metrics, /healthz and /readyz.
func (m *Metrics) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorLog: slogAdapter{m.cfg.Logger}, Timeout: 20 * time.Second}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", m.ServeReady)
	return mux
}

// Ready says why the process is not ready to serve, or nil: the store
// answers, its schema is this build's, and the match index is loaded.
func (m *Metrics) Ready(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := m.cfg.Store.Ping(ctx); err != nil {
		return vigil.Errorf(vigil.EINTERNAL, "the store does not answer")
	}
	if m.cfg.LatestMigration > 0 {
		g, err := m.cfg.Store.OpsGauges(ctx)
		if err != nil {
			return vigil.Errorf(vigil.EINTERNAL, "the store does not answer")
		}
		if g.MigrationVersion < m.cfg.LatestMigration {
			return vigil.Errorf(vigil.EINTERNAL, "the database schema is at migration %d, this build needs %d: run vigil migrate",
				g.MigrationVersion, m.cfg.LatestMigration)
		}
	}
	if m.cfg.Index != nil {
		switch s := m.cfg.Index(); {
		case !s.Loaded:
			return vigil.Errorf(vigil.EINTERNAL, "the match index is not loaded yet")
		case s.Stale:
			return vigil.Errorf(vigil.EINTERNAL, "the match index may have missed bank changes: restart this process")
		}
	}
	return nil
}

// ServeReady answers 200 "ready" or 503 with the reason.
func (m *Metrics) ServeReady(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if err := m.Ready(r.Context()); err != nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte(vigil.ErrorMessage(err) + "\n"))
		return
	}
	_, _ = w.Write([]byte("ready\n"))
}

type slogAdapter struct{ l *slog.Logger }

func (a slogAdapter) Println(v ...any) { a.l.Warn("metrics", "err", v) }

var (
	descJobs      = prometheus.NewDesc("vigil_jobs", "Jobs in the durable queue by kind and state.", []string{"kind", "state"}, nil)
	descQueue     = prometheus.NewDesc("vigil_job_queue_depth", "Jobs waiting for a worker (available), by kind.", []string{"kind"}, nil)
	descOldest    = prometheus.NewDesc("vigil_job_oldest_age_seconds", "Age of the oldest job waiting for a worker, by kind.", []string{"kind"}, nil)
	descFetches   = prometheus.NewDesc("vigil_crawl_fetches", "The crawler's recorded fetches by class and reason.", []string{"class", "reason"}, nil)
	descMessages  = prometheus.NewDesc("vigil_messages", "Outbound messages (notices, referrals) by state (sent, failed, …).", []string{"state"}, nil)
	descAnalysts  = prometheus.NewDesc("vigil_analyst_queue", "Media in the analysts' queue: queued, claimed, pending confirmation.", []string{"what"}, nil)
	descStoreUp   = prometheus.NewDesc("vigil_store_up", "1 when the database answered the scrape.", nil, nil)
	descMigration = prometheus.NewDesc("vigil_schema_migration", "Newest schema migration applied.", nil, nil)
	descIndex     = prometheus.NewDesc("vigil_index_entries", "Entries in this process's match index, by kind.", []string{"kind"}, nil)
	descIndexLoad = prometheus.NewDesc("vigil_index_load_seconds", "How long this process took to load its match index.", nil, nil)
	descBanks     = prometheus.NewDesc("vigil_index_banks", "Enabled banks loaded in this process's match index.", nil, nil)
)

// storeCollector reads the database's figures on each scrape.
type storeCollector struct{ m *Metrics }

func (c *storeCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descJobs, descQueue, descOldest, descFetches, descMessages, descAnalysts, descStoreUp, descMigration} {
		ch <- d
	}
}

func (c *storeCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	g, err := c.m.cfg.Store.OpsGauges(ctx)
	if err != nil {
		c.m.cfg.Logger.Warn("metrics: reading the store", "err", err)
		ch <- prometheus.MustNewConstMetric(descStoreUp, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(descStoreUp, prometheus.GaugeValue, 1)
	ch <- prometheus.MustNewConstMetric(descMigration, prometheus.GaugeValue, float64(g.MigrationVersion))
	for _, j := range g.Jobs {
		ch <- prometheus.MustNewConstMetric(descJobs, prometheus.GaugeValue, float64(j.Count), j.Kind, j.State)
		if j.State == "available" {
			ch <- prometheus.MustNewConstMetric(descQueue, prometheus.GaugeValue, float64(j.Count), j.Kind)
		}
	}
	now := c.m.cfg.Now()
	for kind, at := range g.OldestAvailable {
		ch <- prometheus.MustNewConstMetric(descOldest, prometheus.GaugeValue, max(0, now.Sub(at).Seconds()), kind)
	}
	for _, f := range g.Fetches {
		ch <- prometheus.MustNewConstMetric(descFetches, prometheus.GaugeValue, float64(f.Count), f.Class, f.Reason)
	}
	for state, n := range g.Messages {
		ch <- prometheus.MustNewConstMetric(descMessages, prometheus.GaugeValue, float64(n), state)
	}
	ch <- prometheus.MustNewConstMetric(descAnalysts, prometheus.GaugeValue, float64(g.Queue.Queued), "queued")
	ch <- prometheus.MustNewConstMetric(descAnalysts, prometheus.GaugeValue, float64(g.Queue.Claimed), "claimed")
	ch <- prometheus.MustNewConstMetric(descAnalysts, prometheus.GaugeValue, float64(g.Queue.Pending), "pending")
}

type indexCollector struct{ stats func() IndexStats }

func (c *indexCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descIndex
	ch <- descIndexLoad
	ch <- descBanks
}

func (c *indexCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.stats()
	ch <- prometheus.MustNewConstMetric(descIndex, prometheus.GaugeValue, float64(s.PDQ), "pdq")
	ch <- prometheus.MustNewConstMetric(descIndex, prometheus.GaugeValue, float64(s.Exact), "exact")
	ch <- prometheus.MustNewConstMetric(descIndexLoad, prometheus.GaugeValue, s.LoadSeconds)
	ch <- prometheus.MustNewConstMetric(descBanks, prometheus.GaugeValue, float64(s.Banks))
}
