package vigil

import (
	"testing"
	"time"
)

func TestCaseReference(t *testing.T) {
	at := time.Date(2026, 12, 31, 23, 30, 0, 0, time.FixedZone("CET", 3600)) // 22:30 UTC
	for _, c := range []struct {
		prefix string
		id     int64
		want   string
	}{
		{"BE", 123, "BE-2026-000123"}, {"BE-", 123, "BE-2026-000123"}, {"", 7, "VIGIL-2026-000007"},
		{"BE", 12345678, "BE-2026-12345678"},
	} {
		if got := CaseReference(c.prefix, c.id, at); got != c.want {
			t.Errorf("CaseReference(%q, %d) = %q, want %q", c.prefix, c.id, got, c.want)
		}
	}
	td := &Takedown{ID: 2, ReportedURLID: 9, FirstSeenAt: at}
	if got := td.Reference("BE"); got != "BE-2026-000009" {
		t.Errorf("takedown reference %q: want the case's number, not the takedown's", got)
	}
}
