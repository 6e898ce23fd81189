package remind

import (
	"slices"
	"strconv"
	"time"

	"github.com/certd/certd/cert"
)

// SendHour is the hour of the day, in the certificate's time zone, at
// which a reminder is sent: 09:00, the start of office hours, so that the
// mail does not arrive at night.
const SendHour = 9

// Occasion is one reminder of a certificate.
type Occasion struct {
	// Name is unique per certificate and stable: "surveillance-open-1",
	// "surveillance-close-1-30d", "overdue-suspension-2027-04-01",
	// "expiry-90d".
	Name string
	// Type is cert.WebhookReminderSurveillance or
	// cert.WebhookReminderExpiry.
	Type string
	// SendAt is the instant the reminder is sent.
	SendAt time.Time
	// Due is the instant the reminder is about: the end of the window
	// (the start of the day after its last day), the expiry (ValidUntil),
	// the instant the scheme cancels or withdraws the certificate.
	Due time.Time
	// DaysBefore is the number of calendar days from SendAt's day to
	// Due's day.
	DaysBefore int
}

// sendAt is SendHour on the day of t in loc.
func sendAt(t time.Time, loc *time.Location) time.Time {
	y, m, d := t.In(loc).Date()
	return time.Date(y, m, d, SendHour, 0, 0, 0, loc)
}

// daysBetween counts the calendar days in loc from a's day to b's day.
func daysBetween(a, b time.Time, loc *time.Location) int {
	day := func(t time.Time) time.Time {
		y, m, d := t.In(loc).Date()
		return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	}
	return int(day(b).Sub(day(a)) / (24 * time.Hour))
}

// window is a surveillance window as instants.
type window struct {
	n           int
	open, close time.Time
}

func windows(c *cert.Certificate, s *cert.Scheme, loc *time.Location) []window {
	from := c.ValidFrom.In(loc)
	out := make([]window, 0, len(s.Surveillance))
	for i, w := range s.Surveillance {
		out = append(out, window{n: i + 1, open: from.AddDate(0, w.Open, 0), close: from.AddDate(0, w.Close, 0)})
	}
	return out
}

// Occasions returns the reminders of c whose instant lies in (from, to]
// and whose condition holds at to (the moment of sending), oldest first.
// s is c's scheme and r its issuer's lead times. It reads the status only
// when some occasion falls in the range, so it is cheap for most
// certificates.
func Occasions(c *cert.Certificate, s *cert.Scheme, r cert.Reminders, from, to time.Time) []Occasion {
	if s == nil {
		return nil
	}
	loc := c.Location()
	in := func(t time.Time) bool { return t.After(from) && !t.After(to) && !t.Before(c.CreatedAt) }
	mk := func(name, typ string, at, due time.Time) Occasion {
		return Occasion{Name: name, Type: typ, SendAt: at, Due: due, DaysBefore: daysBetween(at, due, loc)}
	}

	// Candidates by the calendar alone; the status decides below.
	var surv, exp []Occasion
	var closes []window
	for _, w := range windows(c, s, loc) {
		n := strconv.Itoa(w.n)
		if r.SurveillanceOpen && w.open.After(c.ValidFrom) {
			if at := sendAt(w.open, loc); in(at) {
				surv = append(surv, mk("surveillance-open-"+n, cert.WebhookReminderSurveillance, at, w.close))
			}
		}
		for _, d := range r.SurveillanceCloseDays {
			at := sendAt(w.close.In(loc).AddDate(0, 0, -d), loc)
			// A reminder before the window opens would be about an
			// audit that cannot take place yet.
			if in(at) && !at.Before(w.open) {
				surv = append(surv, mk("surveillance-close-"+n+"-"+strconv.Itoa(d)+"d", cert.WebhookReminderSurveillance, at, w.close))
			}
		}
		if in(sendAt(w.close, loc)) {
			closes = append(closes, w)
		}
	}
	for _, d := range r.ExpiryDays {
		if at := sendAt(c.ValidUntil.In(loc).AddDate(0, 0, -d), loc); in(at) {
			exp = append(exp, mk("expiry-"+strconv.Itoa(d)+"d", cert.WebhookReminderExpiry, at, c.ValidUntil))
		}
	}
	if len(surv) == 0 && len(exp) == 0 && len(closes) == 0 {
		return nil
	}

	st := cert.StatusAt(c, s, to)
	var out []Occasion
	switch st.Status {
	case cert.StatusActive:
		for _, o := range surv {
			// Only while the window it is about is open and its audit
			// not recorded.
			if st.Surveillance.State == cert.SurveillanceDue && st.Surveillance.WindowEnd == o.Due.In(loc).AddDate(0, 0, -1).Format(cert.DateLayout) {
				out = append(out, o)
			}
		}
		out = append(out, exp...)
	case cert.StatusSuspended:
		if o, ok := overdue(c, s, st, loc); ok && in(o.SendAt) {
			out = append(out, o)
		}
		out = append(out, exp...)
	}
	slices.SortStableFunc(out, func(a, b Occasion) int { return a.SendAt.Compare(b.SendAt) })
	return out
}

// overdue is the reminder of a certificate suspended because a window
// closed without an audit: sent on the day the suspension began, about the
// day the scheme ends it (a cancellation or withdrawal at the suspension
// limit, or the expiry when that comes first).
func overdue(c *cert.Certificate, s *cert.Scheme, st cert.Standing, loc *time.Location) (Occasion, bool) {
	if !slices.Contains(st.Causes, cert.CauseSurveillanceOverdue) {
		return Occasion{}, false
	}
	var began time.Time
	for _, ch := range st.Changes {
		if ch.Status == cert.StatusSuspended && ch.Reason == cert.ReasonSurveillanceOverdue {
			began = ch.At
		}
	}
	if began.IsZero() {
		return Occasion{}, false
	}
	// The status at the expiry, with no further event, shows when and how
	// the scheme ends the suspension.
	due := c.ValidUntil
	for _, ch := range cert.StatusAt(c, s, c.ValidUntil).Changes {
		if ch.At.After(began) && ch.Status.Terminal() {
			due = ch.At
			break
		}
	}
	at := sendAt(began, loc)
	if at.Before(began) {
		at = began
	}
	return Occasion{
		Name: "overdue-suspension-" + due.In(loc).Format(cert.DateLayout), Type: cert.WebhookReminderSurveillance,
		SendAt: at, Due: due, DaysBefore: daysBetween(at, due, loc),
	}, true
}
