package vigil

import (
	"fmt"
	"strings"
	"time"
)

// DefaultCaseRefPrefix starts case references when none is configured.
const DefaultCaseRefPrefix = "VIGIL"

// CaseReference is a case's one human-readable reference, such as
// BE-2026-000123: the configured prefix, the year the URL was first
// reported (UTC) and the case's number (its reported URL's ID). Staff pages,
// notices, forwards, packages and the API all show this one reference, so
// that a provider's reply or a partner's question leads to the right case.
func CaseReference(prefix string, caseID int64, firstReported time.Time) string {
	prefix = strings.TrimRight(strings.TrimSpace(prefix), "-")
	if prefix == "" {
		prefix = DefaultCaseRefPrefix
	}
	return fmt.Sprintf("%s-%d-%06d", prefix, firstReported.UTC().Year(), caseID)
}

// Reference returns the takedown's case reference.
func (t *Takedown) Reference(prefix string) string {
	return CaseReference(prefix, t.ReportedURLID, t.FirstSeenAt)
}
