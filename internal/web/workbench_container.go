package web

import (
	"context"
	"fmt"
	"strings"

	"github.com/vigil-hotline/vigil"
)

// containerShown bounds the entries listed on a queue card: the rest are
// counted (a container may hold thousands).
const containerShown = 50

// containerView is what the workbench shows of a container (an archive,
// a PDF) queued for an analyst in place of a preview: why it was queued
// and what it held, as text only. Nothing of the container is decoded to
// make it: it is what the extraction recorded.
type containerView struct {
	// Reason is the code of why the container was not wholly examined
	// (encrypted, too_large, nested_too_deep, unsupported, …), Detail the
	// extractor's own words after it; both empty when it was examined
	// whole.
	Reason, Detail string
	Entries        []containerEntry
	More           int
}

// containerEntry is one entry: the media item it became (with where that
// item stands) or, without one, why not.
type containerEntry struct {
	*vigil.ArchiveEntry
	Status         vigil.MediaStatus
	Classification string
	// Why and Detail are the entry's Reason split (see splitReason).
	Why, Detail string
}

// splitReason parses the extractor's "code: detail" (or a bare code)
// into its parts: the code is labelled in the analyst's language, the
// detail (the extractor's technical words) shown as it is.
func splitReason(s string) (code, detail string) {
	code, detail, _ = strings.Cut(s, ": ")
	if code == "" || strings.ContainsAny(code, " ") {
		return "other", s
	}
	return code, detail
}

// containerOf reads what the extraction recorded of container m.
func (s *Server) containerOf(ctx context.Context, m *vigil.Media) (*containerView, error) {
	v := &containerView{}
	if m.HashError != "" {
		v.Reason, v.Detail = splitReason(m.HashError)
	}
	entries, err := s.cfg.Workbench.Media.ListArchiveEntries(ctx, m.ID)
	if err != nil {
		return nil, fmt.Errorf("entries of media %d: %w", m.ID, err)
	}
	if len(entries) > containerShown {
		v.More = len(entries) - containerShown
		entries = entries[:containerShown]
	}
	for _, e := range entries {
		ce := containerEntry{ArchiveEntry: e}
		if e.Reason != "" {
			ce.Why, ce.Detail = splitReason(e.Reason)
		}
		if e.MediaID != 0 {
			child, err := s.cfg.Workbench.Media.FindMedia(ctx, e.MediaID)
			if err != nil {
				return nil, fmt.Errorf("entry %q of media %d: %w", e.Path, m.ID, err)
			}
			ce.Status, ce.Classification = child.Status, child.Classification
		}
		v.Entries = append(v.Entries, ce)
	}
	return v, nil
}
