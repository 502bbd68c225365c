package vigil

import "strings"

// The hotline's rules, as pure functions: the store keeps the state and
// calls these inside the transactions that change it, so each decision is
// made in one place, by its name, and tested without a database.

// ReporterStatus is what a reporter may learn of their report: received
// until work on any of its URLs has begun, then being assessed, and closed
// once every URL's crawl has ended and none of what it found still waits
// for an analyst (awaitingAnalyst, which the store need only look up when
// CrawlsEnded). A report closed by staff stays closed.
func ReporterStatus(r *Report, awaitingAnalyst bool) ReportStatus {
	if r.Status == ReportClosed {
		return ReportClosed
	}
	started := false
	for _, u := range r.URLs {
		started = started || u.Status != URLQueued
	}
	switch {
	case !started:
		return ReportReceived
	case !CrawlsEnded(r.URLs) || awaitingAnalyst:
		return ReportAssessing
	}
	return ReportClosed
}

// CrawlsEnded reports whether the crawl of every URL has ended, done or
// failed.
func CrawlsEnded(urls []*ReportedURL) bool {
	for _, u := range urls {
		if u.Status != URLDone && u.Status != URLFailed {
			return false
		}
	}
	return true
}

// Admits reports whether one more task of the kind fits the budget, given
// the pages and media a crawl has queued so far. Only pages and media are
// bounded: hash and match tasks follow from media already admitted.
func (b CrawlBudget) Admits(kind TaskKind, pages, media int) bool {
	switch kind {
	case TaskPage:
		return pages < b.MaxPages
	case TaskMedia:
		return media < b.MaxMedia
	}
	return true
}

// CrawlEnded reports whether a crawl with this many tasks still pending
// has ended, and with which status: failed when the crawl recorded a
// reason (the reported page could not be had), else done.
func CrawlEnded(pending int, failureReason string) (URLStatus, bool) {
	if pending > 0 {
		return "", false
	}
	if failureReason != "" {
		return URLFailed, true
	}
	return URLDone, true
}

// CaseClassification decides whether a crawl that ended opens a takedown
// case, and under which classification: it does when any media it saw is
// known illegal (a known item classified anything but not-illegal); the
// case takes the first such classification in sort order, the same on
// every run. known holds the classifications of the known media the crawl
// saw.
func CaseClassification(known []string) (string, bool) {
	class, open := "", false
	for _, c := range known {
		if c == ClassNotIllegal {
			continue
		}
		if !open || c < class {
			class, open = c, true
		}
	}
	return class, open
}

// OpensTakedown reports whether an analyst's assessment starts the cases
// that showed its item on the takedown path: an illegal verdict, confirmed
// by a second person.
func OpensTakedown(a *Assessment) bool {
	return a.State == AssessmentConfirmed && a.Verdict.Illegal()
}

// TakedownSeverity is the indication of severity passed to the police with
// a case: the IWF category where the classification has one ("iwf-a" is
// "A"), else the classification itself.
func TakedownSeverity(classification string) string {
	if c, ok := strings.CutPrefix(classification, "iwf-"); ok {
		return strings.ToUpper(c)
	}
	return classification
}
