package jobs

import (
	"context"
	"fmt"
	"net/url"

	"golang.org/x/sync/errgroup"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/crawl"
	"github.com/vigil-hotline/vigil/internal/pdf"
)

// extractDocument opens a PDF: each embedded picture becomes an entry, hashed
// and matched like an archive's, and its links are followed as links from a
// page. Pictures that could not be had (an encoding not supported, a limit)
// are recorded with the reason, and the PDF then waits for an analyst.
func (p *Pipeline) extractDocument(ctx context.Context, t *vigil.CrawlTask, m *vigil.Media, data []byte) (extraction, error) {
	lim := p.Archives.WithDefaults()
	x := extraction{format: "pdf"}
	res, err := pdf.Scan(data, pdf.Limits{MaxImages: lim.MaxEntries, MaxBytes: lim.MaxEntrySize, MaxTotal: lim.MaxTotalSize})
	if err != nil {
		x.reason = "malformed: " + err.Error()
		return x, nil
	}
	done, err := p.recordedEntries(ctx, t, m)
	if err != nil {
		return x, err
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(p.Hashers)
	missing := 0
	for i, img := range res.Images {
		if img.Data == nil {
			missing++
		}
		if done[img.Name] {
			continue
		}
		ae := &vigil.ArchiveEntry{Seq: i, Path: img.Name, Size: int64(len(img.Data)), Reason: img.Reason}
		if img.Data == nil {
			if err := p.Store.FinishEntry(ctx, t, ae, nil, nil, nil, ""); err != nil {
				return x, err
			}
			continue
		}
		g.Go(func() error { return p.extractEntry(gctx, t, ae, img.Data) })
	}
	if err := g.Wait(); err != nil {
		return x, err
	}
	switch {
	case res.Truncated != "":
		x.reason = res.Truncated
	case missing > 0:
		x.reason = fmt.Sprintf("unsupported: %d of %d pictures not extracted", missing, len(res.Images))
	}
	x.children, err = p.documentLinks(ctx, t, res.Links)
	return x, err
}

// documentLinks turns a PDF's links into tasks, as links from a page at the
// PDF's depth: media wherever they are, pages on the PDF's own site within
// the depth limit.
func (p *Pipeline) documentLinks(ctx context.Context, t *vigil.CrawlTask, links []string) ([]vigil.CrawlChild, error) {
	if len(links) == 0 {
		return nil, nil
	}
	from, err := p.Store.FetchURL(ctx, t.PageFetchID)
	if err != nil {
		return nil, err
	}
	base, _ := url.Parse(from)
	maxDepth := p.MaxDepth
	if maxDepth == 0 {
		maxDepth = crawl.DefaultMaxDepth
	}
	var out []vigil.CrawlChild
	for _, l := range links {
		u, err := url.Parse(l)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
			continue
		}
		u.Fragment = ""
		switch {
		case crawl.IsMediaURL(u):
			out = append(out, vigil.CrawlChild{Kind: vigil.TaskMedia, Target: u.String(), Depth: t.Depth})
		case base != nil && crawl.SameSite(base, u) && t.Depth+1 <= maxDepth:
			out = append(out, vigil.CrawlChild{Kind: vigil.TaskPage, Target: u.String(), Depth: t.Depth + 1})
		}
	}
	return out, nil
}
