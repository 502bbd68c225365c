package vigil

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"
)

// Limits on what a reporter may send. They bound storage and work per report
// and are checked before anything is stored.
const (
	MaxReportURLs        = 50
	MaxURLInputLength    = 4096 // as typed
	MaxURLLength         = 2048 // after normalisation
	MaxDescriptionLength = 5000 // characters
	MaxContactLength     = 254  // an e-mail address, RFC 5321
	MaxReportBodyBytes   = 256 << 10
)

// Language is one of the reporting point's languages.
type Language string

const (
	LangNL Language = "nl"
	LangFR Language = "fr"
	LangDE Language = "de"
	LangEN Language = "en"
)

// Languages lists the supported languages; the first is the fallback.
var Languages = []Language{LangEN, LangNL, LangFR, LangDE}

// ParseLanguage accepts a supported language code in any case.
func ParseLanguage(s string) (Language, bool) {
	l := Language(strings.ToLower(strings.TrimSpace(s)))
	for _, x := range Languages {
		if l == x {
			return l, true
		}
	}
	return "", false
}

// ReportStatus is the coarse status a reporter may see. It deliberately says
// nothing about what was found.
type ReportStatus string

const (
	ReportReceived  ReportStatus = "received"
	ReportAssessing ReportStatus = "being_assessed"
	ReportClosed    ReportStatus = "closed"
)

// ReportSource says through which door a report came in.
type ReportSource string

const (
	SourceForm ReportSource = "form"
	SourceAPI  ReportSource = "api"
)

// Report is one citizen's or partner's report of one or more URLs. It holds
// nothing that identifies the reporter unless they chose to leave a contact
// address.
type Report struct {
	ID           int64
	TrackingCode string
	ReceivedAt   time.Time
	Language     Language
	Source       ReportSource
	// APIKeyID is the partner key a report came with (0 for the public form).
	APIKeyID    int64
	Description string
	SawImages   bool
	SawVideos   bool
	SawOther    bool
	// Contact is empty unless the reporter chose to give an address.
	Contact string
	Status  ReportStatus
	// URLs are the normalised URLs, in the order first given, without
	// duplicates. After CreateReport each carries its stored ID.
	URLs []*ReportedURL
	// CrawlAfter, when set, holds the crawl of the report's new URLs until
	// then: a referral's, so that the partner's classifications stored
	// with it reach every process's matcher first.
	CrawlAfter time.Time
}

// ReportInput is a report as submitted, before validation.
type ReportInput struct {
	URLs        []string
	Description string
	Language    string
	SawImages   bool
	SawVideos   bool
	SawOther    bool
	Contact     string
}

// NewReport validates input and returns a report ready to store, or an
// *Error whose Key names the message to show the reporter.
func NewReport(in ReportInput, source ReportSource, now time.Time) (*Report, error) {
	lang, ok := ParseLanguage(in.Language)
	if !ok {
		if strings.TrimSpace(in.Language) != "" {
			return nil, &Error{Code: EINVALID, Key: "err_language", Message: "Unsupported language."}
		}
		lang = LangEN
	}
	for _, s := range append([]string{in.Description, in.Contact}, in.URLs...) {
		if !utf8.ValidString(s) {
			return nil, &Error{Code: EINVALID, Key: "err_utf8", Message: "The report contains text that is not valid UTF-8."}
		}
	}
	if utf8.RuneCountInString(in.Description) > MaxDescriptionLength {
		return nil, &Error{Code: EINVALID, Key: "err_description_long", Message: "The description is too long."}
	}
	contact := strings.TrimSpace(in.Contact)
	if err := validateContact(contact); err != nil {
		return nil, err
	}
	var raw []string
	for _, u := range in.URLs {
		if u = strings.TrimSpace(u); u != "" {
			raw = append(raw, u)
		}
	}
	switch {
	case len(raw) == 0:
		return nil, &Error{Code: EINVALID, Key: "err_no_url", Message: "Give at least one URL."}
	case len(raw) > MaxReportURLs:
		return nil, &Error{Code: EINVALID, Key: "err_too_many_urls", Message: "A report may hold at most 50 URLs."}
	}
	r := &Report{
		ReceivedAt:  now.UTC(),
		Language:    lang,
		Source:      source,
		Description: strings.TrimSpace(in.Description),
		SawImages:   in.SawImages,
		SawVideos:   in.SawVideos,
		SawOther:    in.SawOther,
		Contact:     contact,
		Status:      ReportReceived,
	}
	seen := make(map[string]bool, len(raw))
	for _, s := range raw {
		n, err := NormalizeURL(s)
		if err != nil {
			return nil, err
		}
		if !seen[n] {
			seen[n] = true
			r.URLs = append(r.URLs, &ReportedURL{URL: n})
		}
	}
	return r, nil
}

func validateContact(c string) error {
	if c == "" {
		return nil
	}
	at := strings.LastIndexByte(c, '@')
	if len(c) > MaxContactLength || at < 1 || at == len(c)-1 || strings.ContainsAny(c, " \t\r\n<>\",;") ||
		!strings.Contains(c[at+1:], ".") {
		return &Error{Code: EINVALID, Key: "err_contact", Message: "The contact address is not a valid e-mail address."}
	}
	return nil
}

// URLStatus is where a reported URL stands in the pipeline.
type URLStatus string

const (
	URLQueued   URLStatus = "queued"
	URLCrawling URLStatus = "crawling"
	URLDone     URLStatus = "done"
	URLFailed   URLStatus = "failed"
)

// ReportedURL is one normalised URL, shared by every report that named it:
// the same URL reported twice is one item with a report count.
type ReportedURL struct {
	ID              int64
	URL             string
	Host            string
	FirstReportedAt time.Time
	LastReportedAt  time.Time
	ReportCount     int
	Status          URLStatus
	StatusReason    string
	// New is set by CreateReport when this report created the item (and so
	// queued its crawl).
	New bool
}

// ReportService stores reports. CreateReport stores the report, its URLs and
// one crawl job per new URL in one transaction: a report acknowledged to the
// reporter is never without its jobs.
type ReportService interface {
	CreateReport(ctx context.Context, r *Report) error
	FindReportByTrackingCode(ctx context.Context, code string) (*Report, error)
	FindReportedURL(ctx context.Context, id int64) (*ReportedURL, error)
	ReportCounts(ctx context.Context) (ReportCounts, error)
}

// ReportCounts are the intake figures for the statistics.
type ReportCounts struct {
	Reports      int64
	ReportedURLs int64
}
