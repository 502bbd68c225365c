package jobs_test

import (
	"archive/tar"
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/evidence"
	"github.com/vigil-hotline/vigil/internal/simnet"
	"github.com/vigil-hotline/vigil/internal/store"
	"github.com/vigil-hotline/vigil/internal/storetest"
)

// crawlContainer returns the archive a crawl fetched (its media item of class
// archive reached by its own URL) and everything the crawl saw.
func crawlContainer(t *testing.T, r *rig, u *vigil.ReportedURL) (*vigil.Media, []*vigil.Media) {
	t.Helper()
	media, err := r.db.ListMediaForURL(context.Background(), u.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range media {
		if m.Class == vigil.MediaClassArchive {
			return m, media
		}
	}
	t.Fatalf("%s: no archive among %d media", u.URL, len(media))
	return nil, nil
}

// TestPipelineArchives: the known picture inside a ZIP, RAR, 7z, tar.gz
// and a nested archive is classified known without an analyst, each entry
// a media item with the archive as its parent; an encrypted archive and
// the bombs go to an analyst with their reason, nothing extracted from a
// bomb.
func TestPipelineArchives(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		r := newRig(t, db, 1)
		known := sha256hex(simnet.KnownPicture)
		r.matcher.known[known] = true
		names := []string{"pictures.zip", "pictures.rar", "pictures.7z", "pictures.tar.gz", "nested.zip",
			"encrypted.zip", "bomb.zip", "many.zip"}
		if raceEnabled {
			// The extraction's concurrency, and a refusal: enough for
			// the race detector, which makes every crawl much slower.
			names = []string{"pictures.zip", "bomb.zip"}
		}
		var urls []string
		for _, n := range names {
			urls = append(urls, r.net.URL(simnet.Files, "/"+n))
		}
		rep := r.report(t, urls...)
		for i, name := range names {
			u := waitDone(t, db, rep.URLs[i].ID)
			if u.Status != vigil.URLDone {
				t.Fatalf("%s: %s (%s)", name, u.Status, u.StatusReason)
			}
			arc, media := crawlContainer(t, r, u)
			entries, err := db.ListArchiveEntries(ctx, arc.ID)
			if err != nil {
				t.Fatal(err)
			}
			var knownSeen bool
			for _, m := range media {
				if m.SHA256 == known {
					knownSeen = m.Status == vigil.MediaKnown && m.QueuedAt == nil && m.HashRuns == 1 && m.MatchRuns == 1
				}
			}
			switch name {
			case "pictures.zip", "pictures.rar", "pictures.7z", "pictures.tar.gz", "nested.zip":
				if !knownSeen {
					t.Errorf("%s: the known picture is not classified known: %d media", name, len(media))
				}
				if arc.HashError != "" || arc.QueuedAt != nil || arc.Status != vigil.MediaUnknown {
					t.Errorf("%s: archive %+v; want examined, not queued", name, arc)
				}
				want := map[string]int{"pictures.7z": 3, "nested.zip": 3}[name]
				if want == 0 {
					want = 1 + len(simnet.ArchivePictures)
				}
				if len(entries) != want {
					t.Errorf("%s: %d entries, want %d: %+v", name, len(entries), want, entries)
				}
				for _, e := range entries {
					if e.MediaID == 0 || e.ParentID != arc.ID || e.Modified == nil || e.Size == 0 {
						t.Errorf("%s: entry %+v", name, e)
					}
				}
				if name == "pictures.zip" {
					checkContainerEvidence(t, r, u.ID, "collection/known.png")
				}
				if name == "nested.zip" {
					// ZIP ⊃ tar.gz ⊃ ZIP ⊃ ZIP: the fourth level is past
					// the default nesting of 3, and goes to an analyst.
					var deep *vigil.Media
					for _, m := range media {
						if m.Class == vigil.MediaClassArchive && m.QueuedAt != nil {
							deep = m
						}
					}
					if deep == nil || !strings.HasPrefix(deep.HashError, "nested_too_deep") || len(media) != 8 {
						t.Errorf("nested: %d media, deep %+v", len(media), deep)
					}
				}
			case "encrypted.zip":
				if !strings.HasPrefix(arc.HashError, "encrypted") || arc.QueuedAt == nil || len(entries) != 3 {
					t.Errorf("encrypted: %+v, entries %+v", arc, entries)
				}
				enc := 0
				for _, e := range entries {
					if e.Reason == "encrypted" && strings.HasPrefix(e.Path, "private/") && e.MediaID == 0 {
						enc++
					}
				}
				if enc != 2 {
					t.Errorf("encrypted entries %+v", entries)
				}
			case "bomb.zip", "many.zip":
				want := map[string]string{"bomb.zip": "compression_ratio", "many.zip": "too_many_entries"}[name]
				if !strings.HasPrefix(arc.HashError, want) || arc.QueuedAt == nil || len(entries) != 0 || len(media) != 1 {
					t.Errorf("%s: %+v, %d entries, %d media; want refused for %s", name, arc, len(entries), len(media), want)
				}
			}
		}
	})
}

// TestPipelineDocument: a PDF's JPEGs come out byte for byte (the known
// one classified known without an analyst), its raw picture as a PNG, and
// its link is followed as a link from a page.
func TestPipelineDocument(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		r := newRig(t, db, 1)
		knownJPEG, err := r.net.Images.Bytes(simnet.PDFJPEGs[0], simnet.Variant{})
		if err != nil {
			t.Fatal(err)
		}
		linked, err := r.net.Images.Bytes(simnet.PDFLinkedSeed, simnet.Variant{})
		if err != nil {
			t.Fatal(err)
		}
		r.matcher.known[sha256hex(knownJPEG)] = true
		rep := r.report(t, r.net.URL(simnet.Files, "/doc.pdf"))
		u := waitDone(t, db, rep.URLs[0].ID)
		if u.Status != vigil.URLDone {
			t.Fatalf("%s (%s)", u.Status, u.StatusReason)
		}
		media, err := db.ListMediaForURL(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		var doc *vigil.Media
		seen := map[string]*vigil.Media{}
		for _, m := range media {
			seen[m.SHA256] = m
			if m.Class == vigil.MediaClassDocument {
				doc = m
			}
		}
		if doc == nil || doc.Format != "pdf" || doc.HashError != "" || doc.QueuedAt != nil {
			t.Fatalf("document %+v", doc)
		}
		if k := seen[sha256hex(knownJPEG)]; k == nil || k.Status != vigil.MediaKnown || k.QueuedAt != nil {
			t.Errorf("the known JPEG in the PDF: %+v", k)
		}
		if seen[sha256hex(linked)] == nil {
			t.Error("the picture on the page the PDF links to was not seen")
		}
		entries, err := db.ListArchiveEntries(ctx, doc.ID)
		if err != nil || len(entries) != 3 {
			t.Fatalf("entries %+v, %v", entries, err)
		}
		for _, e := range entries {
			if e.MediaID == 0 {
				t.Errorf("entry %+v not extracted", e)
			}
		}
		if len(media) != 1+3+1 {
			t.Errorf("%d media, want the PDF, its 3 pictures and the linked one", len(media))
		}
	})
}

// checkContainerEvidence: a case's evidence package says what its archive
// held, entry by entry.
func checkContainerEvidence(t *testing.T, r *rig, urlID int64, path string) {
	t.Helper()
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := evidence.Export(context.Background(), r.db, r.vault, evidence.Options{CaseID: urlID, Recipient: id.Recipient().String(),
		ExportedBy: "test", Now: time.Now(), Key: evidence.SigningKey(bytes.Repeat([]byte{5}, 32))}, &buf); err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(&buf)
	for {
		h, err := tr.Next()
		if err != nil {
			t.Fatalf("no case.json: %v", err)
		}
		if h.Name == "case.json" {
			b, _ := io.ReadAll(tr)
			if !bytes.Contains(b, []byte(`"entries"`)) || !bytes.Contains(b, []byte(path)) {
				t.Errorf("case.json does not list the archive's entries:\n%s", b)
			}
			return
		}
	}
}
