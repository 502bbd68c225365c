package route

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Calendar knows which days are working days: Monday to Friday in its
// time zone, except listed public holidays.
type Calendar struct {
	loc      *time.Location
	holidays map[string]bool // "2006-01-02"
}

// NewCalendar returns a calendar for loc (nil: UTC) with the given
// holidays (YYYY-MM-DD).
func NewCalendar(loc *time.Location, holidays []string) (*Calendar, error) {
	if loc == nil {
		loc = time.UTC
	}
	c := &Calendar{loc: loc, holidays: map[string]bool{}}
	for _, h := range holidays {
		d, err := time.Parse(time.DateOnly, strings.TrimSpace(h))
		if err != nil {
			return nil, fmt.Errorf("holiday %q: want YYYY-MM-DD: %w", h, err)
		}
		c.holidays[d.Format(time.DateOnly)] = true
	}
	return c, nil
}

// IsWorkingDay reports whether t's calendar day (in the calendar's zone) is
// a working day.
func (c *Calendar) IsWorkingDay(t time.Time) bool {
	t = t.In(c.loc)
	if wd := t.Weekday(); wd == time.Saturday || wd == time.Sunday {
		return false
	}
	return !c.holidays[t.Format(time.DateOnly)]
}

// AddWorkingDays returns the moment n working days after t: n whole
// working days must pass, weekends and holidays not counting. So Friday
// 15:00 plus one is Monday 15:00, and Saturday 10:00 plus one is Tuesday
// 00:00 (the whole of Monday has passed).
func (c *Calendar) AddWorkingDays(t time.Time, n int) time.Time {
	t = t.In(c.loc)
	if !c.IsWorkingDay(t) {
		t = c.nextDayStart(t)
		for !c.IsWorkingDay(t) {
			t = c.nextDayStart(t)
		}
	}
	for range n {
		t = t.AddDate(0, 0, 1)
		for !c.IsWorkingDay(t) {
			t = t.AddDate(0, 0, 1)
		}
	}
	return t
}

func (c *Calendar) nextDayStart(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d+1, 0, 0, 0, 0, c.loc)
}

// Deadline is how long a route may take: whole working days, or a fixed
// duration. Written "1 working day", "2 working days", "3wd", "4h",
// "90m", or "2 days" (calendar days, 48h).
type Deadline struct {
	WorkingDays int
	Duration    time.Duration
}

// ParseDeadline reads the forms Deadline documents.
func ParseDeadline(s string) (Deadline, error) {
	f := strings.Fields(strings.ToLower(strings.TrimSpace(s)))
	bad := fmt.Errorf("deadline %q: want \"N working days\", \"Nwd\", \"N days\" or a duration such as \"4h\"", s)
	switch {
	case len(f) == 1 && strings.HasSuffix(f[0], "wd"):
		n, err := strconv.Atoi(strings.TrimSuffix(f[0], "wd"))
		if err != nil || n <= 0 {
			return Deadline{}, bad
		}
		return Deadline{WorkingDays: n}, nil
	case len(f) == 1:
		d, err := time.ParseDuration(f[0])
		if err != nil || d <= 0 {
			return Deadline{}, bad
		}
		return Deadline{Duration: d}, nil
	case len(f) == 3 && f[1] == "working" && (f[2] == "day" || f[2] == "days"),
		len(f) == 2 && (f[1] == "day" || f[1] == "days"):
		n, err := strconv.Atoi(f[0])
		if err != nil || n <= 0 {
			return Deadline{}, bad
		}
		if len(f) == 2 {
			return Deadline{Duration: time.Duration(n) * 24 * time.Hour}, nil
		}
		return Deadline{WorkingDays: n}, nil
	}
	return Deadline{}, bad
}

// From returns the deadline for something started at t.
func (d Deadline) From(t time.Time, c *Calendar) time.Time {
	if d.WorkingDays > 0 {
		return c.AddWorkingDays(t, d.WorkingDays).Add(d.Duration)
	}
	return t.Add(d.Duration)
}

// String writes d in the form ParseDeadline reads.
func (d Deadline) String() string {
	switch {
	case d.WorkingDays == 1:
		return "1 working day"
	case d.WorkingDays > 1:
		return fmt.Sprintf("%d working days", d.WorkingDays)
	}
	return d.Duration.String()
}
