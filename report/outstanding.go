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
	tally := NewTally(t, schemes, subs, loc, now)
	tally.Add(certs)
	return tally.Periods()
}

// Tally is Periods over certificates given page by page (oldest first, as
// Periods takes them), keeping only the counts of each month: an issuer's
// certificates need not all be in memory at once.
type Tally struct {
	t         *Template
	schemes   cert.Schemes
	subs      []*cert.Submission
	loc       *time.Location
	now       time.Time
	span      Period
	started   bool
	submitted map[string]bool
	at        map[string]time.Time
	byMonth   map[string]*PeriodState
}

// NewTally starts a Tally of t's periods with the issuer's submissions to
// t, in the issuer's time zone, at now.
func NewTally(t *Template, schemes cert.Schemes, subs []*cert.Submission, loc *time.Location, now time.Time) *Tally {
	y := &Tally{t: t, schemes: schemes, subs: subs, loc: loc, now: now,
		submitted: map[string]bool{}, at: map[string]time.Time{}, byMonth: map[string]*PeriodState{}}
	for _, sub := range subs {
		for _, k := range sub.Entries {
			y.submitted[k] = true
		}
		y.at[sub.Period] = sub.SubmittedAt
	}
	return y
}

// Add counts the entries of the next certificates, oldest first; the
// first certificate ever added starts the span (as in Periods).
func (y *Tally) Add(certs []*cert.Certificate) {
	if len(certs) == 0 {
		return
	}
	if !y.started {
		// One pass over the whole span, grouped by month.
		first := PeriodOf(certs[0].CreatedAt, y.loc)
		last := PeriodOf(y.now, y.loc)
		y.span = Period{Month: first.Month, Start: first.Start, End: last.End}
		y.started = true
	}
	for _, e := range Tracked(y.t, certs, y.schemes, y.span, SubmittedOf(y.subs)) {
		m := PeriodOf(e.Reported(), y.loc).Month
		ps := y.byMonth[m]
		if ps == nil {
			ps = &PeriodState{Period: m}
			y.byMonth[m] = ps
		}
		ps.Entries++
		if !y.submitted[e.Key()] {
			ps.Outstanding++
		}
	}
}

// Periods returns the months counted so far, as Periods does.
func (y *Tally) Periods() []PeriodState {
	out := []PeriodState{}
	for m, ps := range y.byMonth {
		p, _ := ParsePeriod(m, y.loc)
		if sa, ok := y.at[m]; ok {
			ps.Submitted, ps.SubmittedAt = true, &sa
		}
		if d := p.Deadline(y.t.DeadlineDay); !d.IsZero() {
			ps.Deadline = d.AddDate(0, 0, -1).Format(cert.DateLayout)
			switch {
			case ps.Outstanding == 0:
			case !y.now.Before(d):
				ps.Warning = WarningOverdue
			case !y.now.Before(d.AddDate(0, 0, -DueSoonDays)):
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
