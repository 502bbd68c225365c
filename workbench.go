package vigil

import (
	"context"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Verdict is an analyst's assessment of one media item, on the INHOPE
// schema.
type Verdict string

const (
	// VerdictBaseline: CSAM under the INHOPE/Interpol baseline, illegal
	// everywhere.
	VerdictBaseline Verdict = "baseline"
	// VerdictNational: illegal under the hotline's national law only.
	VerdictNational Verdict = "national"
	// VerdictNotIllegal: not illegal; kept out of the queue from now on.
	VerdictNotIllegal Verdict = "not-illegal"
	// VerdictSecondOpinion: the analyst asks a colleague; the item stays
	// in the queue for another analyst.
	VerdictSecondOpinion Verdict = "second-opinion"
)

// Verdicts lists every verdict in the order the workbench offers them.
var Verdicts = []Verdict{VerdictBaseline, VerdictNational, VerdictNotIllegal, VerdictSecondOpinion}

// Illegal reports whether the verdict says the material is illegal.
func (v Verdict) Illegal() bool { return v == VerdictBaseline || v == VerdictNational }

// Decisive reports whether the verdict takes the item out of the queue
// (to be confirmed by a second pair of eyes).
func (v Verdict) Decisive() bool { return v.Illegal() || v == VerdictNotIllegal }

// AgeGroup is the apparent age of the youngest person depicted.
type AgeGroup string

const (
	AgeInfant       AgeGroup = "infant"
	AgePrepubescent AgeGroup = "prepubescent"
	AgePubescent    AgeGroup = "pubescent"
	AgeUnknown      AgeGroup = "unknown"
)

// AgeGroups lists every age group.
var AgeGroups = []AgeGroup{AgeInfant, AgePrepubescent, AgePubescent, AgeUnknown}

// DefaultSeverities are the IWF's categories A, B and C: the severity
// indication passed to the police. Deployments may configure others.
var DefaultSeverities = []string{"A", "B", "C"}

// ClassNotIllegal is the bank classification of media that analysts found
// not illegal: a match on it keeps an item out of the queue.
const ClassNotIllegal = "not-illegal"

// Banks the workbench learns into, created on first use.
const (
	// HotlineBank holds media the hotline confirmed illegal.
	HotlineBank = "hotline"
	// NotIllegalBank holds media the hotline confirmed not illegal. It is
	// a block bank whose entries carry ClassNotIllegal (an allow bank would
	// make them unknown, and so queued again); its PDQ threshold is tight,
	// so that only the same picture, not a look-alike, is waved through.
	NotIllegalBank          = "hotline-not-illegal"
	NotIllegalPDQThreshold  = 8
	MaxAssessmentNoteLength = 2000
)

// AssessmentState is where an assessment stands in the four-eyes process.
type AssessmentState string

const (
	// AssessmentPending waits for a second pair of eyes.
	AssessmentPending AssessmentState = "pending"
	// AssessmentConfirmed was confirmed: the item is learnt and the case
	// may be forwarded.
	AssessmentConfirmed AssessmentState = "confirmed"
	// AssessmentRejected was turned down: the item went back to the queue.
	AssessmentRejected AssessmentState = "rejected"
	// AssessmentOpinion is a request for a second opinion: it needs no
	// confirmation.
	AssessmentOpinion AssessmentState = "opinion"
)

// Assessment is one analyst's decision on one media item. Media are
// deduplicated by SHA-256, so it covers every exact duplicate in every
// case.
type Assessment struct {
	ID       int64
	MediaID  int64
	Verdict  Verdict
	AgeGroup AgeGroup
	// Severity is one of the configured categories, or empty.
	Severity      string
	SelfGenerated bool
	AIGenerated   bool
	VictimID      bool // potential for victim identification
	Note          string
	AnalystID     int64
	Analyst       string
	At            time.Time
	// AppliedFrom is the media item whose decision the analyst applied to
	// this near duplicate (0 when assessed on its own).
	AppliedFrom int64
	State       AssessmentState
	ConfirmerID int64
	Confirmer   string
	ConfirmedAt *time.Time
	ConfirmNote string
}

// Validate checks an assessment against the configured severities.
func (a *Assessment) Validate(severities []string) error {
	if !slices.Contains(Verdicts, a.Verdict) {
		return Errorf(EINVALID, "unknown assessment %q", a.Verdict)
	}
	if a.AgeGroup == "" {
		a.AgeGroup = AgeUnknown
	}
	if !slices.Contains(AgeGroups, a.AgeGroup) {
		return Errorf(EINVALID, "unknown age group %q", a.AgeGroup)
	}
	// A nil list (the store) accepts any short severity; the web layer
	// checks the configured ones.
	if a.Severity != "" && (severities != nil && !slices.Contains(severities, a.Severity) || len(a.Severity) > 32) {
		return Errorf(EINVALID, "unknown severity %q (want one of %s)", a.Severity, strings.Join(severities, ", "))
	}
	if !a.Verdict.Illegal() && a.Severity != "" {
		return Errorf(EINVALID, "a severity is given only for illegal material")
	}
	if len(a.Note) > MaxAssessmentNoteLength || !utf8.ValidString(a.Note) {
		return Errorf(EINVALID, "the note must be valid text of at most %d bytes", MaxAssessmentNoteLength)
	}
	if a.MediaID == 0 || a.AnalystID == 0 {
		return Errorf(EINVALID, "an assessment needs a media item and an analyst")
	}
	return nil
}

// BankClassification is the classification a confirmed assessment gives
// the item's bank entries, in the bank vocabulary: the severity when one
// is given ("A" → "iwf-a"; other configured categories are normalised the
// same way), else the verdict ("baseline", "national", "not-illegal").
func (a *Assessment) BankClassification() string {
	if a.Verdict.Illegal() && a.Severity != "" {
		if slices.Contains(DefaultSeverities, a.Severity) {
			return "iwf-" + strings.ToLower(a.Severity)
		}
		return normalizeClassification(a.Severity)
	}
	return string(a.Verdict)
}

// QueueItem is one media item in an analyst's queue, with the case and
// page it is shown under.
type QueueItem struct {
	Media *Media
	// CaseID is the reported URL the item is grouped under: of the cases
	// it was seen in, the one reported first.
	CaseID  int64
	CaseURL string
	// PageURL is the page it was found on (the media URL itself when the
	// reported URL was the file).
	PageURL  string
	MediaURL string
	// Sightings counts the cases the item was seen in.
	Sightings      int
	FirstReported  time.Time
	ClaimedBy      int64
	ClaimExpiresAt *time.Time
	// Distance is the PDQ distance to the item a near-duplicate list was
	// made for.
	Distance int
}

// QueueStats sums up the queue.
type QueueStats struct {
	Queued  int64 // waiting for an analyst
	Claimed int64 // of which claimed now
	Pending int64 // assessed, waiting for confirmation
}

// Exposure is an analyst's time with media on screen on one day.
type Exposure struct {
	UserID int64
	Day    string // YYYY-MM-DD in the deployment's time zone
	// Visible is the time with media on screen so far; Extra is time a
	// supervisor granted beyond the budget.
	Visible time.Duration
	Extra   time.Duration
}

// Over reports whether the exposure has reached the budget (plus what a
// supervisor granted).
func (e Exposure) Over(budget time.Duration) bool { return e.Visible >= budget+e.Extra }

// CheckExposureExtension says whether by may give userID extra time. The
// budget protects the person who would lift it, so nobody lifts their
// own: it takes someone else's judgement.
func CheckExposureExtension(by *User, userID int64) error {
	if by == nil || by.ID == userID {
		return Errorf(EFORBIDDEN, "your own exposure budget can only be extended by someone else")
	}
	return nil
}

// WorkbenchPrefs are an analyst's viewing preferences.
type WorkbenchPrefs struct {
	// Blur is the strength of the default blur, 1 (light) to 5 (strong).
	Blur int
	// GreyReveal keeps revealed media greyscale.
	GreyReveal bool
}

// DefaultWorkbenchPrefs are used until an analyst changes them.
var DefaultWorkbenchPrefs = WorkbenchPrefs{Blur: 3, GreyReveal: false}

// Validate checks preferences.
func (p *WorkbenchPrefs) Validate() error {
	if p.Blur < 1 || p.Blur > 5 {
		return Errorf(EINVALID, "blur must be between 1 and 5")
	}
	return nil
}

// CaseReport is a report of a case, as staff see it.
type CaseReport struct {
	ID          int64
	ReceivedAt  time.Time
	Source      ReportSource
	Language    Language
	Description string
	SawImages   bool
	SawVideos   bool
	SawOther    bool
}

// WorkbenchService is the analysts' store: the queue and its claims,
// assessments and their confirmation, exposure and preferences.
type WorkbenchService interface {
	// ClaimQueue returns the analyst's claimed items, claiming more in
	// queue order until there are n; every claim is (re)set to expire
	// after ttl. Two analysts never hold the same item.
	ClaimQueue(ctx context.Context, userID int64, n int, ttl time.Duration) ([]*QueueItem, error)
	// ReleaseClaims gives back the analyst's claims.
	ReleaseClaims(ctx context.Context, userID int64) error
	// QueueStats counts the queue.
	QueueStats(ctx context.Context) (QueueStats, error)
	// NearDuplicates lists queued items, not claimed by another analyst,
	// within threshold bits of the item's PDQ hash (or one of its
	// rotations and flips).
	NearDuplicates(ctx context.Context, mediaID, userID int64, threshold, limit int) ([]*QueueItem, error)
	// Assess records an assessment. The item must be queued and free or
	// claimed by the analyst (ECONFLICT otherwise). A decisive verdict
	// takes it out of the queue pending confirmation; a request for a
	// second opinion leaves it for another analyst.
	Assess(ctx context.Context, a *Assessment) error
	FindAssessment(ctx context.Context, id int64) (*Assessment, error)
	// ListAssessments returns an item's assessments, oldest first.
	ListAssessments(ctx context.Context, mediaID int64) ([]*Assessment, error)
	// PendingAssessments lists assessments waiting for confirmation,
	// oldest first.
	PendingAssessments(ctx context.Context, limit int) ([]*Assessment, error)
	// ConfirmAssessment confirms (or, with confirm false, rejects) a
	// pending assessment. The confirmer must not be the assessor. A
	// confirmed verdict is learnt in the same transaction: the item's
	// SHA-256, MD5 and PDQ go into the hotline's bank (illegal) or the
	// not-illegal bank, created if missing, and the item becomes known. A
	// rejected one goes back to the queue.
	ConfirmAssessment(ctx context.Context, id, confirmerID int64, confirm bool, note string) (*Assessment, error)

	// AddExposure credits an analyst with up to step of visible media
	// time, never more than the time since the last credit: two tabs
	// cannot count one minute twice.
	AddExposure(ctx context.Context, userID int64, day string, now time.Time, step time.Duration) (Exposure, error)
	// ChargeExposure counts cost of visible media from now, whatever the
	// page reports: what the server sent is on screen at least that long.
	// Heartbeats then credit only time beyond what was charged.
	ChargeExposure(ctx context.Context, userID int64, day string, now time.Time, cost time.Duration) (Exposure, error)
	FindExposure(ctx context.Context, userID int64, day string) (Exposure, error)
	// ExtendExposure grants an analyst extra time today (a supervisor's
	// decision, audited by the caller).
	ExtendExposure(ctx context.Context, userID int64, day string, extra time.Duration) (Exposure, error)
	// ListExposure returns every analyst's exposure on a day.
	ListExposure(ctx context.Context, day string) ([]Exposure, error)

	FindPrefs(ctx context.Context, userID int64) (WorkbenchPrefs, error)
	SetPrefs(ctx context.Context, userID int64, p WorkbenchPrefs) error

	// CaseReports returns the reports of a reported URL, oldest first.
	CaseReports(ctx context.Context, reportedURLID int64) ([]*CaseReport, error)
	// MediaCases returns the reported URLs a media item was seen in.
	MediaCases(ctx context.Context, mediaID int64) ([]int64, error)
}
