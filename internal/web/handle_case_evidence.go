package web

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"

	"github.com/vigil-hotline/vigil/internal/evidence"
)

// handleCaseEvidence builds the signed evidence package of a case for the
// police, its media encrypted to the recipient's age key, puts the export
// on the record with the package's SHA-256, and only then sends it. The
// package is built in a temporary file (it holds media only encrypted),
// since the record needs its hash before the first byte goes out.
func (s *Server) handleCaseEvidence(w http.ResponseWriter, r *http.Request) {
	id, ok := s.caseForm(w, r)
	if !ok {
		return
	}
	c := &s.cfg.Workbench
	if c.Evidence == nil || c.EvidenceKey == nil || c.Blobs == nil {
		s.staffRefusal(w, r, http.StatusServiceUnavailable, "refuse_evidence_off")
		return
	}
	u := userFrom(r.Context())
	tmp, err := os.CreateTemp(c.EvidenceDir, "vigil-evidence-*")
	if err != nil {
		s.workbenchError(w, "evidence package", err)
		return
	}
	defer func() {
		_ = tmp.Close()
		_ = os.Remove(tmp.Name())
	}()
	h := sha256.New()
	man, err := evidence.Export(r.Context(), c.Evidence, c.Blobs, evidence.Options{CaseID: id,
		Recipient: strings.TrimSpace(r.PostFormValue("recipient")), ExportedBy: u.Name, Hotline: c.Hotline,
		Now: s.cfg.Now(), Key: c.EvidenceKey}, io.MultiWriter(tmp, h))
	if err != nil {
		s.workbenchError(w, "evidence package", err)
		return
	}
	sum := hex.EncodeToString(h.Sum(nil))
	media := 0
	for _, f := range man.Files {
		if strings.HasPrefix(f.Path, "media/") {
			media++
		}
	}
	if err := s.audit(r, "evidence.export", fmt.Sprintf("case:%d", id), map[string]any{"package_sha256": sum,
		"recipient": man.Recipient, "files": len(man.Files), "media": media, "via": "staff"}); err != nil {
		s.staffRefusal(w, r, http.StatusServiceUnavailable, "refuse_export_record")
		return
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		s.workbenchError(w, "evidence package", err)
		return
	}
	w.Header().Set("Content-Type", "application/x-tar")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="vigil-case-%d-evidence.tar"`, id))
	w.Header().Set("X-Evidence-SHA256", sum)
	if _, err := io.Copy(w, tmp); err != nil {
		s.logger.Warn("evidence package not fully sent", "case", id, "err", err)
	}
}
