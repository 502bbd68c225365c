package jobs

import (
	"context"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"

	"github.com/riverqueue/river"
	"golang.org/x/sync/errgroup"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/archive"
	"github.com/vigil-hotline/vigil/internal/crawl"
	"github.com/vigil-hotline/vigil/internal/jobargs"
)

type extractWorker struct {
	river.WorkerDefaults[jobargs.ExtractArgs]
	p *Pipeline
}

// extraction is what opening a container found, beyond its entries.
type extraction struct {
	format string
	// reason says why the container was not wholly examined: encrypted,
	// a limit; "" when every entry was.
	reason   string
	children []vigil.CrawlChild
}

// Work opens a stored container and records each entry as it goes, each in
// a transaction of its own; the task is finished last. Killed half-way, the
// job runs again, skips the entries recorded, and nothing is hashed or
// matched twice.
func (w *extractWorker) Work(ctx context.Context, job *river.Job[jobargs.ExtractArgs]) error {
	t, err := w.p.task(ctx, job.Args.TaskID)
	if t == nil {
		return err
	}
	m, err := w.p.Store.FindMedia(ctx, t.MediaID)
	if err != nil {
		return err
	}
	// The container is held in memory as fetched: no bigger than the
	// fetcher's limit.
	data, err := w.p.Blobs.Get(ctx, m.BlobKey)
	if err != nil {
		return err
	}
	var x extraction
	switch m.Class {
	case vigil.MediaClassArchive:
		x, err = w.p.extractArchive(ctx, t, m, data)
	case vigil.MediaClassDocument:
		x, err = w.p.extractDocument(ctx, t, m, data)
	default:
		x.reason = "not a container: " + m.Class
	}
	if err != nil {
		return err
	}
	// The container itself is matched by its digests (lists carry
	// archives too).
	matches, err := w.p.Matcher.Match(ctx, vigil.MatchQuery{MD5: m.MD5, SHA1: m.SHA1, SHA256: m.SHA256})
	if err != nil {
		return fmt.Errorf("match container %d: %w", m.ID, err)
	}
	if x.reason != "" {
		w.p.Logger.Info("container not wholly examined", "media", m.ID, "reason", x.reason)
	}
	return w.p.Store.FinishExtract(ctx, t, &vigil.MediaHashes{Format: x.format, Error: x.reason}, matches, x.children, w.p.Budget)
}

// extractArchive records every entry of an archive: pictures hashed and
// matched here, videos and nested containers queued for their own tasks.
// Up to Hashers entries are in flight at once, so that memory holds at most
// that many entries besides the archive.
func (p *Pipeline) extractArchive(ctx context.Context, t *vigil.CrawlTask, m *vigil.Media, data []byte) (extraction, error) {
	lim := p.Archives.WithDefaults()
	x := extraction{format: string(archive.Detect(data))}
	// 42.zip-style nesting ends here: an archive this deep is matched by
	// its digests and left to an analyst, unopened.
	nesting, err := p.Store.ArchiveNesting(ctx, m.ID)
	if err != nil {
		return x, err
	}
	if nesting >= lim.MaxNesting {
		x.reason = fmt.Sprintf("%s: inside %d archives, limit %d", archive.ReasonNesting, nesting, lim.MaxNesting-1)
		return x, nil
	}
	a, err := archive.Open(data, lim)
	if err != nil {
		if archive.ReasonOf(err) != "" {
			x.reason = err.Error()
			return x, nil
		}
		return x, err
	}
	done, err := p.recordedEntries(ctx, t, m)
	if err != nil {
		return x, err
	}
	paths := entryPaths(a.Entries)
	for i, e := range a.Entries {
		if e.Encrypted && !done[paths[i]] {
			ae := archiveEntry(i, paths[i], e)
			ae.Reason = string(archive.ReasonEncrypted)
			if err := p.Store.FinishEntry(ctx, t, ae, nil, nil, nil, ""); err != nil {
				return x, err
			}
		}
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(p.Hashers)
	walkErr := a.Walk(func(i int, e archive.Entry, b []byte) error {
		if done[paths[i]] {
			return nil
		}
		if err := gctx.Err(); err != nil {
			return err
		}
		ae := archiveEntry(i, paths[i], e)
		g.Go(func() error { return p.extractEntry(gctx, t, ae, b) })
		return nil
	})
	if err := g.Wait(); err != nil {
		return x, err
	}
	switch {
	case walkErr != nil && archive.ReasonOf(walkErr) != "":
		x.reason = walkErr.Error()
	case walkErr != nil:
		return x, walkErr
	case a.HeadersEncrypted:
		x.reason = string(archive.ReasonEncrypted) + ": the names and contents are hidden"
	case a.Encrypted > 0:
		x.reason = fmt.Sprintf("%s: %d of %d entries", archive.ReasonEncrypted, a.Encrypted, len(a.Entries))
	}
	return x, nil
}

// recordedEntries returns the entries of m this crawl has recorded.
func (p *Pipeline) recordedEntries(ctx context.Context, t *vigil.CrawlTask, m *vigil.Media) (map[string]bool, error) {
	recorded, err := p.Store.ArchiveEntryPaths(ctx, m.ID, t.ReportedURLID)
	if err != nil {
		return nil, err
	}
	done := make(map[string]bool, len(recorded))
	for _, r := range recorded {
		done[r] = true
	}
	return done, nil
}

// entryPaths returns the entries' names made unique: an archive may hold
// one name twice, and each entry is recorded under its own.
func entryPaths(es []archive.Entry) []string {
	out := make([]string, len(es))
	seen := make(map[string]bool, len(es))
	for i, e := range es {
		p := e.Name
		for k := 2; seen[p]; k++ {
			p = e.Name + " (" + strconv.Itoa(k) + ")"
		}
		seen[p], out[i] = true, p
	}
	return out
}

func archiveEntry(i int, path string, e archive.Entry) *vigil.ArchiveEntry {
	ae := &vigil.ArchiveEntry{Seq: i, Path: path, Size: e.Size}
	if !e.Modified.IsZero() {
		mod := e.Modified.UTC()
		ae.Modified = &mod
	}
	return ae
}

// extractEntry makes one entry a media item: a picture hashed and matched
// from the bytes in memory (like a fetched image), a video queued for
// hashing, a nested container queued for extraction (which checks the
// nesting limit); anything else recorded as not media.
func (p *Pipeline) extractEntry(ctx context.Context, t *vigil.CrawlTask, ae *vigil.ArchiveEntry, b []byte) error {
	mime, class := crawl.Sniff(b)
	sum := sha256.Sum256(b)
	m := &vigil.Media{SHA256: hex.EncodeToString(sum[:]), Size: int64(len(b)), Class: string(class), MIME: mime}
	ae.Size = m.Size
	var (
		h       *vigil.MediaHashes
		matches []vigil.Match
		next    vigil.TaskKind
		err     error
	)
	switch class {
	case crawl.ClassImage:
		if h, matches, err = p.hashImage(ctx, m, b); err != nil {
			return err
		}
	case crawl.ClassVideo, crawl.ClassArchive, crawl.ClassDocument:
		md5sum, sha1sum := md5.Sum(b), sha1.Sum(b)
		m.MD5, m.SHA1 = hex.EncodeToString(md5sum[:]), hex.EncodeToString(sha1sum[:])
		next = vigil.TaskExtract
		if class == crawl.ClassVideo {
			next = vigil.TaskHash
		}
	default:
		ae.Reason = "not_media"
		if mime != "" {
			ae.Reason += ": " + mime
		}
		return p.Store.FinishEntry(ctx, t, ae, nil, nil, nil, "")
	}
	if err := p.storeBlob(ctx, m, b); err != nil {
		return err
	}
	return p.Store.FinishEntry(ctx, t, ae, m, h, matches, next)
}
