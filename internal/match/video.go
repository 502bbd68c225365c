package match

import (
	"context"
	"fmt"
	"slices"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/index"
	"github.com/vigil-hotline/vigil/internal/pdq"
)

// Video entries are matched through their frames. Every distinct frame
// hash of a known video (of usable quality) is in m.frames once, under the
// ID entryID<<frameBits | k, so that a query's frames find the candidate
// videos through the PDQ index: the cost follows the query's frames and
// the hits, not the number of known videos times their frames. Each
// candidate is then compared whole (vigil.CompareVideos) and judged by its
// bank's P_q/P_c.
const frameBits = 20

// addVideo indexes a video entry's frames; m.mu is held (or m is not yet
// shared).
func (m *Matcher) addVideo(e *vigil.BankEntry) error {
	if _, ok := m.frameCount[e.ID]; ok {
		return nil // a change applied twice
	}
	if e.ID >= 1<<(63-frameBits) {
		return fmt.Errorf("video entry ID %d too large for the frame index", e.ID)
	}
	seen := map[pdq.Hash]bool{}
	var ids []int64
	var hashes []pdq.Hash
	for _, f := range e.Frames {
		if f.Quality < vigil.VideoMinQuality {
			continue
		}
		h, err := pdq.ParseHex(f.PDQ)
		if err != nil || seen[h] {
			continue
		}
		seen[h] = true
		ids, hashes = append(ids, e.ID<<frameBits|int64(len(ids))), append(hashes, h)
		if len(ids) == 1<<frameBits-1 {
			break
		}
	}
	m.frameCount[e.ID] = len(ids)
	if len(ids) == 0 {
		return nil
	}
	return m.frames.AddBatch(ids, hashes)
}

// removeVideo takes a video entry's frames out of the index.
func (m *Matcher) removeVideo(entryID int64) error {
	n, ok := m.frameCount[entryID]
	if !ok {
		return nil
	}
	for k := 0; k < n; k++ {
		if err := ignore(m.frames.Remove(entryID<<frameBits|int64(k)), index.ErrNotFound); err != nil {
			return err
		}
	}
	delete(m.frameCount, entryID)
	return nil
}

// matchVideo finds the known videos that q.Video matches. allowed is true
// when an allow bank holds one: then nothing matches.
func (m *Matcher) matchVideo(ctx context.Context, q vigil.MatchQuery, tbl *bankTable) (out []vigil.Match, allowed bool, err error) {
	if len(q.Video) == 0 || m.frames.Len() == 0 {
		return nil, false, nil
	}
	cands := map[int64]bool{}
	seen := map[pdq.Hash]bool{}
	for _, f := range q.Video {
		if f.Quality < vigil.VideoMinQuality {
			continue
		}
		h, err := pdq.ParseHex(f.PDQ)
		if err != nil {
			return nil, false, vigil.Errorf(vigil.EINVALID, "video frame %d: pdq value must be 64 hex digits", f.Frame)
		}
		if seen[h] {
			continue
		}
		seen[h] = true
		for _, hit := range m.frames.Search(h, vigil.VideoFrameDistance) {
			cands[hit.ID>>frameBits] = true
		}
	}
	if len(cands) == 0 {
		return nil, false, nil
	}
	ids := make([]int64, 0, len(cands))
	for id := range cands {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	entries, err := m.store.FindBankEntries(ctx, ids)
	if err != nil {
		return nil, false, fmt.Errorf("match: %w", err)
	}
	for _, e := range entries {
		b := tbl.byID[e.BankID]
		if b == nil || !b.Enabled || e.Signal != vigil.SignalVPDQ || e.Suppressed != "" {
			continue
		}
		cmp := vigil.CompareVideos(q.Video, e.Frames, vigil.VideoFrameDistance)
		if !cmp.Matches(b.VideoQueryPercent, b.VideoCompPercent) {
			continue
		}
		if b.Kind == vigil.BankAllow {
			return nil, true, nil
		}
		out = append(out, vigil.Match{BankID: b.ID, BankName: b.Name, BankSource: b.Source, EntryID: e.ID, Signal: e.Signal, Value: e.Value,
			Classification: e.Classification, Variant: "orig", QueryPercent: cmp.QueryPercent, CompPercent: cmp.CompPercent,
			QueryFrames: cmp.QueryFrames}.WithProvenance(e))
	}
	return out, false, nil
}

// VideoFrameHits returns the indices of the frames of a video (of usable
// quality) that have a frame of some known video of an enabled block bank
// within VideoFrameDistance, whatever the banks' P_q and P_c: the
// workbench marks them on a near-known video's strip.
func (m *Matcher) VideoFrameHits(ctx context.Context, frames []vigil.VideoFrame) ([]int, error) {
	tbl := m.banks.Load()
	var hits []int
	var ids []int64
	hitEntries := map[int][]int64{}
	for i, f := range frames {
		if f.Quality < vigil.VideoMinQuality {
			continue
		}
		h, err := pdq.ParseHex(f.PDQ)
		if err != nil {
			return nil, vigil.Errorf(vigil.EINVALID, "video frame %d: pdq value must be 64 hex digits", f.Frame)
		}
		for _, hit := range m.frames.Search(h, vigil.VideoFrameDistance) {
			hitEntries[i] = append(hitEntries[i], hit.ID>>frameBits)
			ids = append(ids, hit.ID>>frameBits)
		}
	}
	if len(ids) == 0 {
		return nil, nil
	}
	slices.Sort(ids)
	entries, err := m.store.FindBankEntries(ctx, slices.Compact(ids))
	if err != nil {
		return nil, fmt.Errorf("match: %w", err)
	}
	live := map[int64]bool{}
	for _, e := range entries {
		if b := tbl.byID[e.BankID]; b != nil && b.Enabled && b.Kind == vigil.BankBlock && e.Suppressed == "" {
			live[e.ID] = true
		}
	}
	for i := range frames {
		for _, id := range hitEntries[i] {
			if live[id] {
				hits = append(hits, i)
				break
			}
		}
	}
	return hits, nil
}
