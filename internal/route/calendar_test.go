package route

import (
	"testing"
	"time"
)

func TestWorkingDays(t *testing.T) {
	brussels, err := time.LoadLocation("Europe/Brussels")
	if err != nil {
		t.Skip("no time zone data:", err)
	}
	cal, err := NewCalendar(brussels, []string{"2026-04-06", "2026-05-01", "2026-05-14"})
	if err != nil {
		t.Fatal(err)
	}
	at := func(s string) time.Time {
		tm, err := time.ParseInLocation("2006-01-02 15:04", s, brussels)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	for _, c := range []struct {
		from string
		n    int
		want string
	}{
		{"2026-03-04 10:00", 1, "2026-03-05 10:00"}, // Wednesday → Thursday
		{"2026-03-06 15:00", 1, "2026-03-09 15:00"}, // Friday → Monday
		{"2026-03-06 15:00", 2, "2026-03-10 15:00"},
		{"2026-03-07 10:00", 1, "2026-03-10 00:00"}, // Saturday: all of Monday must pass
		{"2026-03-08 23:59", 1, "2026-03-10 00:00"}, // Sunday
		{"2026-04-03 09:00", 1, "2026-04-07 09:00"}, // Good Friday → Easter Monday holiday → Tuesday
		{"2026-04-30 16:30", 1, "2026-05-04 16:30"}, // Thursday → 1 May (Friday) holiday → Monday
		{"2026-05-13 12:00", 1, "2026-05-15 12:00"}, // Wednesday → Ascension Thursday → Friday
		{"2026-05-01 12:00", 1, "2026-05-05 00:00"}, // on a holiday: the next working day must pass
		{"2026-03-27 15:00", 1, "2026-03-30 15:00"}, // over the switch to summer time: local hour kept
		{"2026-03-06 15:00", 0, "2026-03-06 15:00"},
		{"2026-03-07 15:00", 0, "2026-03-09 00:00"},
	} {
		got := cal.AddWorkingDays(at(c.from), c.n)
		if !got.Equal(at(c.want)) {
			t.Errorf("%s + %d working days = %s, want %s", c.from, c.n, got.Format("Mon 2006-01-02 15:04 MST"), c.want)
		}
	}
	if cal.IsWorkingDay(at("2026-05-14 12:00")) || !cal.IsWorkingDay(at("2026-05-15 12:00")) {
		t.Error("holiday handling")
	}
	// A UTC instant late on Friday evening is already Saturday in Brussels.
	if cal.IsWorkingDay(time.Date(2026, 3, 6, 23, 30, 0, 0, time.UTC)) {
		t.Error("working day judged in UTC, not in the calendar's zone")
	}
	if _, err := NewCalendar(nil, []string{"6 March"}); err == nil {
		t.Error("bad holiday accepted")
	}
}

func TestParseDeadline(t *testing.T) {
	for in, want := range map[string]Deadline{
		"1 working day":   {WorkingDays: 1},
		"3 Working Days":  {WorkingDays: 3},
		"2wd":             {WorkingDays: 2},
		"4h":              {Duration: 4 * time.Hour},
		"90m":             {Duration: 90 * time.Minute},
		"2 days":          {Duration: 48 * time.Hour},
		" 1 working day ": {WorkingDays: 1},
	} {
		got, err := ParseDeadline(in)
		if err != nil || got != want {
			t.Errorf("ParseDeadline(%q) = %+v, %v; want %+v", in, got, err, want)
		}
		if back, err := ParseDeadline(got.String()); err != nil || back != got {
			t.Errorf("%q does not round-trip through String: %q", in, got.String())
		}
	}
	for _, bad := range []string{"", "0wd", "-4h", "soon", "1 working", "x working days", "0 days"} {
		if _, err := ParseDeadline(bad); err == nil {
			t.Errorf("ParseDeadline(%q) accepted", bad)
		}
	}
	cal, _ := NewCalendar(time.UTC, nil)
	fri := time.Date(2026, 3, 6, 15, 0, 0, 0, time.UTC)
	if got := (Deadline{Duration: 4 * time.Hour}).From(fri, cal); !got.Equal(fri.Add(4 * time.Hour)) {
		t.Errorf("duration deadline %v", got)
	}
}
