package jobs

import (
	"context"

	"github.com/vigil-hotline/vigil"
)

// extractDocument opens a PDF. Until its pictures are extracted, a PDF is
// matched by its digests and waits for an analyst.
func (p *Pipeline) extractDocument(_ context.Context, _ *vigil.CrawlTask, _ *vigil.Media, _ []byte) (extraction, error) {
	return extraction{format: "pdf", reason: "pdf: pictures inside are not extracted"}, nil
}
