package vigil

import "testing"

func TestReporterStatus(t *testing.T) {
	urls := func(st ...URLStatus) []*ReportedURL {
		var out []*ReportedURL
		for _, s := range st {
			out = append(out, &ReportedURL{Status: s})
		}
		return out
	}
	for _, c := range []struct {
		name    string
		r       *Report
		waiting bool
		want    ReportStatus
	}{
		{"nothing started", &Report{URLs: urls(URLQueued, URLQueued)}, false, ReportReceived},
		{"one crawling", &Report{URLs: urls(URLQueued, URLCrawling)}, false, ReportAssessing},
		{"all ended, media waiting", &Report{URLs: urls(URLDone, URLFailed)}, true, ReportAssessing},
		{"all ended, nothing waiting", &Report{URLs: urls(URLDone, URLFailed)}, false, ReportClosed},
		{"one ended, one still crawling", &Report{URLs: urls(URLDone, URLCrawling)}, false, ReportAssessing},
		{"closed by staff", &Report{Status: ReportClosed, URLs: urls(URLQueued)}, true, ReportClosed},
	} {
		if got := ReporterStatus(c.r, c.waiting); got != c.want {
			t.Errorf("%s: %s, want %s", c.name, got, c.want)
		}
	}
}

func TestCrawlBudgetAdmits(t *testing.T) {
	b := CrawlBudget{MaxPages: 2, MaxMedia: 1}
	for _, c := range []struct {
		kind         TaskKind
		pages, media int
		want         bool
	}{
		{TaskPage, 1, 5, true}, {TaskPage, 2, 0, false},
		{TaskMedia, 9, 0, true}, {TaskMedia, 0, 1, false},
		{TaskHash, 9, 9, true}, {TaskMatch, 9, 9, true},
	} {
		if got := b.Admits(c.kind, c.pages, c.media); got != c.want {
			t.Errorf("%s with %d pages, %d media: %v, want %v", c.kind, c.pages, c.media, got, c.want)
		}
	}
}

func TestCrawlEnded(t *testing.T) {
	if _, ended := CrawlEnded(3, ""); ended {
		t.Error("a crawl with tasks pending has ended")
	}
	if st, ended := CrawlEnded(0, ""); !ended || st != URLDone {
		t.Errorf("no task left, no reason: %q %v, want done", st, ended)
	}
	if st, ended := CrawlEnded(0, "HTTP 404"); !ended || st != URLFailed {
		t.Errorf("no task left, a reason: %q %v, want failed", st, ended)
	}
}

func TestCaseClassification(t *testing.T) {
	for _, c := range []struct {
		known []string
		class string
		open  bool
	}{
		{nil, "", false},
		{[]string{ClassNotIllegal}, "", false},
		{[]string{ClassNotIllegal, "iwf-c", "iwf-a"}, "iwf-a", true},
		{[]string{"national"}, "national", true},
	} {
		class, open := CaseClassification(c.known)
		if class != c.class || open != c.open {
			t.Errorf("%q: %q %v, want %q %v", c.known, class, open, c.class, c.open)
		}
	}
}

func TestOpensTakedown(t *testing.T) {
	for _, c := range []struct {
		a    Assessment
		want bool
	}{
		{Assessment{State: AssessmentConfirmed, Verdict: VerdictBaseline}, true},
		{Assessment{State: AssessmentConfirmed, Verdict: VerdictNational}, true},
		{Assessment{State: AssessmentConfirmed, Verdict: VerdictNotIllegal}, false},
		{Assessment{State: AssessmentPending, Verdict: VerdictBaseline}, false},
		{Assessment{State: AssessmentRejected, Verdict: VerdictBaseline}, false},
	} {
		if got := OpensTakedown(&c.a); got != c.want {
			t.Errorf("%s %s: %v, want %v", c.a.State, c.a.Verdict, got, c.want)
		}
	}
}

func TestTakedownSeverity(t *testing.T) {
	for class, want := range map[string]string{"iwf-a": "A", "iwf-c": "C", "baseline": "baseline", "": ""} {
		if got := TakedownSeverity(class); got != want {
			t.Errorf("%q: %q, want %q", class, got, want)
		}
	}
}
