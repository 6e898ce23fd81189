package report

import (
	"fmt"
	"time"

	"github.com/certd/certd/cert"
)

// Period is a calendar month in the issuer's time zone: [Start, End).
type Period struct {
	Month string // 2026-11
	Start time.Time
	End   time.Time
}

// ParsePeriod parses "2026-11" as a month in loc.
func ParsePeriod(s string, loc *time.Location) (Period, error) {
	t, err := time.ParseInLocation("2006-01", s, loc)
	if err != nil || t.Format("2006-01") != s {
		return Period{}, cert.Invalid("period", "must be a month YYYY-MM, e.g. 2026-11")
	}
	return Period{Month: s, Start: t, End: t.AddDate(0, 1, 0)}, nil
}

// PeriodOf returns the month of t in loc.
func PeriodOf(t time.Time, loc *time.Location) Period {
	p, _ := ParsePeriod(t.In(loc).Format("2006-01"), loc)
	return p
}

// Contains reports whether t lies in the period.
func (p Period) Contains(t time.Time) bool { return !t.Before(p.Start) && t.Before(p.End) }

// Deadline is the start of the day after the due day (day of the next
// month), so a report is due until the end of that day; zero without a
// deadline.
func (p Period) Deadline(day int) time.Time {
	if day == 0 {
		return time.Time{}
	}
	return p.End.AddDate(0, 0, day)
}

// String returns the month.
func (p Period) String() string { return fmt.Sprint(p.Month) }
