package crawl

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigil-hotline/vigil/internal/simnet"
)

// BenchmarkCrawl crawls simnet's bench site (2,000 pre-generated images over
// 20 pages) end to end without hashing: the crawler's own ceiling, to
// compare with hashing throughput.
func BenchmarkCrawl(b *testing.B) {
	n, err := simnet.Start(simnet.Options{BenchImages: 2000, BenchPerPage: 100})
	if err != nil {
		b.Fatal(err)
	}
	defer n.Close()
	t0 := time.Now()
	if err := n.Images.Warm(n.BenchSeeds(), simnet.Variant{}, 2); err != nil {
		b.Fatal(err)
	}
	f := NewFetcher(Config{Policy: Policy{AllowAddrs: n.AllowAddrs()}, Resolver: n.Resolver})
	defer f.Close()
	var images, bytes atomic.Int64
	c := NewCrawler(f, CrawlConfig{MaxPages: 1000, MaxMedia: 100_000, OnMedia: func(_ context.Context, _ FoundMedia, r *Response, err error) {
		if err != nil || !r.Evidence.OK() {
			b.Errorf("%v %+v", err, r.Evidence)
		}
		images.Add(1)
		bytes.Add(int64(len(r.Body)))
	}})
	b.Logf("generated %d images in %v", n.Options().BenchImages, time.Since(t0))
	b.ResetTimer()
	start := time.Now()
	pages := 0
	for b.Loop() {
		res, err := c.Crawl(context.Background(), n.BenchURL())
		if err != nil {
			b.Fatal(err)
		}
		pages += len(res.Pages)
	}
	secs := time.Since(start).Seconds()
	b.ReportMetric(float64(pages)/secs, "pages/s")
	b.ReportMetric(float64(images.Load())/secs, "images/s")
	b.SetBytes(bytes.Load() / int64(max(1, b.N)))
}
