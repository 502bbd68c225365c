package jobs

import (
	"context"
	"net/url"
	"slices"
	"strings"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/crawl"
)

// rendered renders a page in the browser when it calls for it (few media,
// or a site on the list) and returns the media the rendered page loaded or
// showed beyond those already found; the render's evidence, every request
// through the proxy, goes with the page's fetch. A failed render is
// recorded in that evidence, not retried: the page's static media stand.
func (p *Pipeline) rendered(ctx context.Context, t *vigil.CrawlTask, page *crawl.Page) []vigil.CrawlChild {
	if p.Renderer == nil || page.Evidence.Class != crawl.ClassHTML || !p.wantsRender(page) {
		return nil
	}
	select {
	case p.renders <- struct{}{}:
	case <-ctx.Done():
		return nil
	}
	ev, err := p.Renderer.Render(ctx, page.Evidence.FinalURL)
	<-p.renders
	page.Evidence.Render = ev
	if err != nil {
		p.Logger.Info("render failed", "reason", ev.Reason, "err", err)
	}
	known := map[string]bool{}
	for _, l := range page.Links.Media {
		known[l.URL] = true
	}
	var out []vigil.CrawlChild
	for _, m := range ev.Media {
		if !known[m] {
			known[m] = true
			out = append(out, vigil.CrawlChild{Kind: vigil.TaskMedia, Target: m, Depth: t.Depth})
		}
	}
	return out
}

func (p *Pipeline) wantsRender(page *crawl.Page) bool {
	if len(page.Links.Media) < p.RenderBelow {
		return true
	}
	u, err := url.Parse(page.Evidence.FinalURL)
	if err != nil {
		return false
	}
	host := strings.ToLower(u.Hostname())
	return slices.ContainsFunc(p.RenderSites, func(s string) bool {
		s = strings.ToLower(s)
		return host == s || strings.HasSuffix(host, "."+s)
	})
}
