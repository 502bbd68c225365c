package web

import (
	"context"
	"crypto/ed25519"
	"net/http"
	"strconv"
	"time"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/evidence"
)

// Blobs reads decrypted media, in memory only (internal/blob.Vault).
type Blobs interface {
	Get(ctx context.Context, name string) ([]byte, error)
}

// WorkbenchConfig configures the analyst workbench: queue, viewing,
// classification, four eyes, wellbeing, case view (issue 6). Without
// Store and Media the workbench routes answer 503.
type WorkbenchConfig struct {
	Store vigil.WorkbenchService
	Media vigil.MediaService
	Blobs Blobs
	// PageSize is how many items an analyst claims at a time (default
	// 12); ClaimTTL how long a claim lasts unused (default 15 minutes).
	PageSize int
	ClaimTTL time.Duration
	// Severities are the severity categories offered (default IWF A/B/C).
	Severities []string
	// SecondAnalyst lets an analyst, not only a supervisor, confirm a
	// colleague's assessment.
	SecondAnalyst bool
	// NearThreshold is the PDQ distance within which queued items are
	// offered as near duplicates (default vigil.DefaultPDQThreshold).
	NearThreshold int
	// Budget is an analyst's daily time with media on screen (default 2
	// hours); BreakEvery how often a break is suggested (default 30
	// minutes); Heartbeat how often the page reports visible time
	// (default 5 s; the server credits at most twice that per beat).
	Budget     time.Duration
	BreakEvery time.Duration
	Heartbeat  time.Duration
	// RevealCost is what a reveal counts against the budget at least,
	// heartbeat or none (default 10 s): the server counts what it sends,
	// so a page that sends no heartbeat still meets the budget.
	// VideoRevealCost is the same for a video (default 1 minute); a
	// revealed video counts for its length when that is longer.
	RevealCost      time.Duration
	VideoRevealCost time.Duration
	// Location decides when a day starts (default time.Local).
	Location *time.Location
	// FFmpeg is the path of ffmpeg, for video frame strips; empty shows a
	// placeholder instead.
	FFmpeg string
	// Holds keeps legal holds; nil answers the hold actions with 503.
	Holds CaseHolds
	// Evidence, EvidenceKey (nil: no packages) and Hotline make the
	// evidence packages for the police; EvidenceDir is where a package is
	// built before it is sent (default the system's temporary folder).
	Evidence    evidence.Source
	EvidenceKey ed25519.PrivateKey
	EvidenceDir string
	Hotline     string
}

func (c *WorkbenchConfig) defaults() {
	if c.PageSize <= 0 {
		c.PageSize = 12
	}
	if c.ClaimTTL <= 0 {
		c.ClaimTTL = 15 * time.Minute
	}
	if len(c.Severities) == 0 {
		c.Severities = vigil.DefaultSeverities
	}
	if c.NearThreshold <= 0 {
		c.NearThreshold = vigil.DefaultPDQThreshold
	}
	if c.Budget <= 0 {
		c.Budget = 2 * time.Hour
	}
	if c.BreakEvery <= 0 {
		c.BreakEvery = 30 * time.Minute
	}
	if c.Heartbeat <= 0 {
		c.Heartbeat = 5 * time.Second
	}
	if c.RevealCost <= 0 {
		c.RevealCost = 10 * time.Second
	}
	if c.VideoRevealCost <= 0 {
		c.VideoRevealCost = time.Minute
	}
	if c.Location == nil {
		c.Location = time.Local
	}
}

// workbenchRoutes registers the workbench pages. Media are seen by
// analysts and supervisors only.
func (s *Server) workbenchRoutes(mux *http.ServeMux) {
	s.cfg.Workbench.defaults()
	an, sup := vigil.RoleAnalyst, vigil.RoleSupervisor
	route := func(pattern string, h http.HandlerFunc, roles ...vigil.Role) {
		s.staffRoute(mux, pattern, s.workbenchReady(h), roles...)
	}
	route("GET /staff/queue", s.handleQueue, an, sup)
	route("POST /staff/queue/release", s.handleQueueRelease, an, sup)
	route("GET /staff/media/{id}/preview", s.handleMediaPreview, an, sup)
	route("GET /staff/media/{id}/original", s.handleMediaOriginal, an, sup)
	route("POST /staff/media/{id}/assess", s.handleAssess, an, sup)
	route("POST /staff/media/{id}/apply", s.handleApplyNear, an, sup)
	route("GET /staff/confirm", s.handleConfirmList, an, sup)
	route("POST /staff/assessments/{id}/confirm", s.handleConfirm, an, sup)
	route("POST /staff/assessments/{id}/reject", s.handleConfirm, an, sup)
	route("POST /staff/exposure", s.handleExposureBeat, an, sup)
	route("GET /staff/wellbeing", s.handleWellbeing, sup)
	route("POST /staff/wellbeing/{id}/extend", s.handleExposureExtend, sup)
	route("GET /staff/preferences", s.handlePrefs, an, sup)
	route("POST /staff/preferences", s.handlePrefsSave, an, sup)
	route("GET /staff/cases/{id}", s.handleCase, an, sup)
	route("POST /staff/cases/{id}/hold", s.handleCaseHold, sup)
	route("POST /staff/cases/{id}/hold/lift", s.handleCaseHold, sup)
	route("POST /staff/cases/{id}/evidence", s.handleCaseEvidence, sup)
}

// workbenchReady answers 503 when the workbench has no store configured
// (tests of other areas).
func (s *Server) workbenchReady(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.cfg.Workbench.Store == nil || s.cfg.Workbench.Media == nil {
			s.staffRefusal(w, r, http.StatusServiceUnavailable, "refuse_workbench_off")
			return
		}
		h(w, r)
	}
}

// pathID reads a positive integer path value.
func pathID(r *http.Request, name string) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	return id, err == nil && id > 0
}

// today is the day exposure is counted under.
func (s *Server) today() string {
	return s.cfg.Now().In(s.cfg.Workbench.Location).Format(time.DateOnly)
}

// exposure returns the signed-in user's exposure today and whether the
// budget stops them.
func (s *Server) exposure(r *http.Request) (vigil.Exposure, bool, error) {
	u := userFrom(r.Context())
	e, err := s.cfg.Workbench.Store.FindExposure(r.Context(), u.ID, s.today())
	if err != nil {
		return e, false, err
	}
	return e, e.Over(s.cfg.Workbench.Budget), nil
}

// workbenchError logs err and answers 500, or the status of a domain error.
func (s *Server) workbenchError(w http.ResponseWriter, what string, err error) {
	status := httpStatus(err)
	if status >= 500 {
		s.logger.Error(what, "err", err)
		http.Error(w, "internal error", status)
		return
	}
	http.Error(w, err.Error(), status)
}
