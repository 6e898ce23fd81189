package report

import (
	"slices"
	"strings"
	"time"

	"github.com/certd/certd/cert"
)

// Tracked returns the entries whose submission a template tracks: the
// changes (without confidential certificates for a template that leaves
// them out) and the audits its sheets report (placed by sub, see Audits).
func Tracked(t *Template, certs []*cert.Certificate, schemes cert.Schemes, p Period, sub Submitted) []Entry {
	var out []Entry
	var changes, audits bool
	for _, sh := range t.Sheets {
		switch sh.Rows {
		case RowsChanges:
			changes = true
		case RowsCertificates:
			changes = true
			certs = slices.DeleteFunc(slices.Clone(certs), func(c *cert.Certificate) bool { return c.Confidential })
		case RowsAudits:
			audits = true
		}
	}
	if changes {
		out = append(out, Changes(certs, schemes, p)...)
	}
	if audits {
		out = append(out, Audits(certs, schemes, p, sub)...)
	}
	return out
}

// Warnings of a period with outstanding entries.
const (
	// WarningDueSoon: the deadline is within DueSoonDays.
	WarningDueSoon = "due_soon"
	// WarningOverdue: the deadline has passed.
	WarningOverdue = "overdue"
)

// DueSoonDays is how many days before its deadline a period with
// outstanding entries is due soon.
const DueSoonDays = 5

// PeriodState is what is due for one period of one target.
type PeriodState struct {
	Period      string     `json:"period"`
	Entries     int        `json:"entries"`
	Outstanding int        `json:"outstanding"`
	Submitted   bool       `json:"submitted"`
	SubmittedAt *time.Time `json:"submittedAt,omitempty"`
	// Deadline is the last day to submit (in the issuer's time zone).
	Deadline string `json:"deadline,omitempty"`
	// Warning is WarningDueSoon or WarningOverdue for a period with
	// outstanding entries, else empty.
	Warning string `json:"warning,omitempty"`
}

// Periods returns, oldest first, every month from the first certificate's
// to now that has tracked entries: how many, how many are not in a
// submission, the deadline and the warning at now. certs are the
// issuer's, oldest first; subs its submissions to t.
func Periods(t *Template, certs []*cert.Certificate, schemes cert.Schemes, subs []*cert.Submission, loc *time.Location, now time.Time) []PeriodState {
	out := []PeriodState{}
	if len(certs) == 0 {
		return out
	}
	// One pass over the whole span, grouped by month.
	first := PeriodOf(certs[0].CreatedAt, loc)
	last := PeriodOf(now, loc)
	span := Period{Month: first.Month, Start: first.Start, End: last.End}
	submitted := map[string]bool{}
	at := map[string]time.Time{}
	for _, sub := range subs {
		for _, k := range sub.Entries {
			submitted[k] = true
		}
		at[sub.Period] = sub.SubmittedAt
	}
	byMonth := map[string]*PeriodState{}
	for _, e := range Tracked(t, certs, schemes, span, SubmittedOf(subs)) {
		m := PeriodOf(e.Reported(), loc).Month
		ps := byMonth[m]
		if ps == nil {
			ps = &PeriodState{Period: m}
			byMonth[m] = ps
		}
		ps.Entries++
		if !submitted[e.Key()] {
			ps.Outstanding++
		}
	}
	for m, ps := range byMonth {
		p, _ := ParsePeriod(m, loc)
		if sa, ok := at[m]; ok {
			ps.Submitted, ps.SubmittedAt = true, &sa
		}
		if d := p.Deadline(t.DeadlineDay); !d.IsZero() {
			ps.Deadline = d.AddDate(0, 0, -1).Format(cert.DateLayout)
			switch {
			case ps.Outstanding == 0:
			case !now.Before(d):
				ps.Warning = WarningOverdue
			case !now.Before(d.AddDate(0, 0, -DueSoonDays)):
				ps.Warning = WarningDueSoon
			}
		}
		out = append(out, *ps)
	}
	slices.SortFunc(out, func(a, b PeriodState) int { return strings.Compare(a.Period, b.Period) })
	return out
}

// TargetPeriods is one report target's periods with outstanding entries.
type TargetPeriods struct {
	Target  string        `json:"target"`
	Name    string        `json:"name"`
	Periods []PeriodState `json:"periods"`
}
