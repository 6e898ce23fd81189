package cert_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/certd/certd/cert"
)

// The scenarios below walk a certificate through its whole life with a
// fixed clock, checking the derived status and surveillance state at the
// first and the last second of every day, so an off-by-one day or second at
// any boundary fails.

const beijing = "Asia/Shanghai"

func mustLoc(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := cert.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// at parses "2006-01-02" or "2006-01-02 15:04:05" in loc.
func at(t testing.TB, loc *time.Location, s string) time.Time {
	t.Helper()
	layout := cert.DateLayout
	if len(s) > len(layout) {
		layout = "2006-01-02 15:04:05"
	}
	v, err := time.ParseInLocation(layout, s, loc)
	if err != nil {
		t.Fatalf("bad time %q: %v", s, err)
	}
	return v
}

// ev is an event of a scenario: type, when, reason, and for suspensions
// an optional end date.
type ev struct {
	typ    cert.EventType
	at     string
	reason string
	until  string
}

func newCert(t testing.TB, scheme *cert.Scheme, zone, validFrom string, events ...ev) *cert.Certificate {
	t.Helper()
	loc := mustLoc(t, zone)
	from, until := cert.ValidityPeriod(at(t, loc, validFrom), loc, scheme.ValidityMonths)
	c := &cert.Certificate{
		ID: cert.NewID(), Number: "T-1", Issuer: "test", Scheme: scheme.ID,
		ValidFrom: from, ValidUntil: until, TimeZone: zone,
	}
	c.Append(cert.Event{Type: cert.EventIssued, At: from, RecordedAt: from, Actor: "apikey:test"})
	for _, e := range events {
		x := cert.Event{Type: e.typ, At: at(t, loc, e.at), Actor: "apikey:test", Reason: e.reason}
		x.RecordedAt = x.At
		if e.until != "" {
			u := at(t, loc, e.until)
			x.Until = &u
		}
		c.Append(x)
	}
	return c
}

func builtin(t testing.TB, id string) *cert.Scheme {
	t.Helper()
	schemes, err := cert.NewSchemes(cert.BuiltinSchemes())
	if err != nil {
		t.Fatal(err)
	}
	s := schemes[id]
	if s == nil {
		t.Fatalf("no built-in scheme %q", id)
	}
	return s
}

// seg is one stretch of a timeline: from the instant `from` (local date or
// date and time) until the next segment, the standing is as given. reason
// and windowEnd are checked when not empty.
type seg struct {
	from      string
	status    cert.Status
	reason    string
	surv      cert.SurveillanceState
	windowEnd string
}

type scenario struct {
	name   string
	scheme *cert.Scheme
	zone   string
	from   string
	events []ev
	tl     []seg
	// changes is the expected Standing.Changes at the end, one per line:
	// "date status reason [derived]".
	changes []string
}

func runScenario(t *testing.T, sc scenario) {
	t.Helper()
	zone := sc.zone
	if zone == "" {
		zone = beijing
	}
	loc := mustLoc(t, zone)
	c := newCert(t, sc.scheme, zone, sc.from, sc.events...)
	segs := make([]time.Time, len(sc.tl))
	for i, s := range sc.tl {
		segs[i] = at(t, loc, s.from)
		if i > 0 && !segs[i].After(segs[i-1]) {
			t.Fatalf("timeline not in order at %s", s.from)
		}
	}
	start := at(t, loc, sc.from)
	end := start.AddDate(0, 40, 0)
	failures := 0
	for d := start; d.Before(end); d = d.AddDate(0, 0, 1) {
		for _, now := range []time.Time{d, d.AddDate(0, 0, 1).Add(-time.Second)} {
			i := len(segs) - 1
			for i > 0 && segs[i].After(now) {
				i--
			}
			want := sc.tl[i]
			// now is passed in UTC: StatusAt must not depend on the zone of
			// the instant it is given.
			got := cert.StatusAt(c, sc.scheme, now.UTC())
			var diffs []string
			if got.Status != want.status {
				diffs = append(diffs, fmt.Sprintf("status = %s, want %s", got.Status, want.status))
			}
			if want.reason != "" && got.Reason != want.reason {
				diffs = append(diffs, fmt.Sprintf("reason = %q, want %q", got.Reason, want.reason))
			}
			if got.Surveillance.State != want.surv {
				diffs = append(diffs, fmt.Sprintf("surveillance = %s, want %s", got.Surveillance.State, want.surv))
			}
			if want.windowEnd != "" && got.Surveillance.WindowEnd != want.windowEnd {
				diffs = append(diffs, fmt.Sprintf("windowEnd = %s, want %s", got.Surveillance.WindowEnd, want.windowEnd))
			}
			if len(diffs) > 0 {
				t.Errorf("at %s: %s", now.In(loc).Format("2006-01-02 15:04:05"), strings.Join(diffs, "; "))
				if failures++; failures == 6 {
					t.Fatalf("giving up on this scenario after %d mismatches", failures)
				}
			}
		}
	}
	if sc.changes != nil {
		got := cert.StatusAt(c, sc.scheme, end)
		var lines []string
		for _, ch := range got.Changes {
			l := ch.At.In(loc).Format(cert.DateLayout) + " " + string(ch.Status) + " " + ch.Reason
			if ch.Derived {
				l += " derived"
			}
			lines = append(lines, l)
		}
		if g, w := strings.Join(lines, "\n"), strings.Join(sc.changes, "\n"); g != w {
			t.Errorf("changes:\n%s\nwant:\n%s", g, w)
		}
	}
}

const (
	active     = cert.StatusActive
	suspended  = cert.StatusSuspended
	withdrawn  = cert.StatusWithdrawn
	cancelled  = cert.StatusCancelled
	expired    = cert.StatusExpired
	superseded = cert.StatusSuperseded

	notDue  = cert.SurveillanceNotDue
	due     = cert.SurveillanceDue
	done    = cert.SurveillanceDone
	overdue = cert.SurveillanceOverdue
	none    = cert.SurveillanceNone

	passed = cert.EventSurveillancePassed
	failed = cert.EventSurveillanceFailed

	rOverdue = cert.ReasonSurveillanceOverdue
	rLimit   = cert.ReasonSuspensionLimit
)

// itssPassed is the timeline of an ITSS certificate valid from 2026-11-27
// whose two surveillance audits pass on 2027-09-15 and 2028-09-20; windows
// are months 9-12 (2027-08-27 to 2027-11-26) and 21-24 (2028-08-27 to
// 2028-11-26), expiry 2029-11-27.
func itssPassed(last seg) []seg {
	return []seg{
		{from: "2026-11-27", status: active, surv: notDue, windowEnd: "2027-11-26"},
		{from: "2027-08-27", status: active, surv: due, windowEnd: "2027-11-26"},
		{from: "2027-09-15", status: active, surv: done, windowEnd: "2027-11-26"},
		{from: "2027-11-27", status: active, surv: notDue, windowEnd: "2028-11-26"},
		{from: "2028-08-27", status: active, surv: due, windowEnd: "2028-11-26"},
		{from: "2028-09-20", status: active, surv: done, windowEnd: "2028-11-26"},
		{from: "2028-11-27", status: active, surv: none},
		last,
	}
}

var itssAudits = []ev{{typ: passed, at: "2027-09-15"}, {typ: passed, at: "2028-09-20"}}

func TestStatusAtITSS(t *testing.T) {
	itss := builtin(t, "itss")
	for _, sc := range []scenario{
		{
			name: "ok/all audits passed, then expiry", from: "2026-11-27", events: itssAudits,
			tl:      itssPassed(seg{from: "2029-11-27", status: expired, reason: cert.ReasonExpired, surv: none}),
			changes: []string{"2029-11-27 expired expired derived"},
		},
		{
			name: "fail/window closes without audit, audit passed inside the suspension", from: "2026-11-27",
			events: []ev{{typ: passed, at: "2027-12-20"}, {typ: passed, at: "2028-09-20"}},
			tl: []seg{
				{from: "2026-11-27", status: active, surv: notDue},
				{from: "2027-08-27", status: active, surv: due, windowEnd: "2027-11-26"},
				{from: "2027-11-27", status: suspended, reason: rOverdue, surv: overdue, windowEnd: "2027-11-26"},
				{from: "2027-12-20", status: active, reason: cert.ReasonSurveillancePassed, surv: notDue, windowEnd: "2028-11-26"},
				{from: "2028-08-27", status: active, surv: due, windowEnd: "2028-11-26"},
				{from: "2028-09-20", status: active, surv: done, windowEnd: "2028-11-26"},
				{from: "2028-11-27", status: active, surv: none},
				{from: "2029-11-27", status: expired, surv: none},
			},
			changes: []string{
				"2027-11-27 suspended surveillance_overdue derived",
				"2027-12-20 active surveillance_passed",
				"2029-11-27 expired expired derived",
			},
		},
		{
			name: "fail/window missed, cancelled after 3 months", from: "2026-11-27",
			tl: []seg{
				{from: "2026-11-27", status: active, surv: notDue},
				{from: "2027-08-27", status: active, surv: due},
				{from: "2027-11-27", status: suspended, reason: rOverdue, surv: overdue, windowEnd: "2027-11-26"},
				{from: "2028-02-27", status: cancelled, reason: rLimit, surv: none},
			},
			changes: []string{
				"2027-11-27 suspended surveillance_overdue derived",
				"2028-02-27 cancelled suspension_limit derived",
			},
		},
		{
			name: "ok/audit on the last day of the suspension", from: "2026-11-27",
			events: []ev{{typ: passed, at: "2028-02-26"}},
			tl: []seg{
				{from: "2026-11-27", status: active, surv: notDue},
				{from: "2027-08-27", status: active, surv: due},
				{from: "2027-11-27", status: suspended, reason: rOverdue, surv: overdue},
				{from: "2028-02-26", status: active, surv: notDue, windowEnd: "2028-11-26"},
				{from: "2028-08-27", status: active, surv: due, windowEnd: "2028-11-26"},
				{from: "2028-11-27", status: suspended, reason: rOverdue, surv: overdue, windowEnd: "2028-11-26"},
				{from: "2029-02-27", status: cancelled, reason: rLimit, surv: none},
			},
		},
		{
			name: "fail/audit on the day of cancellation is too late", from: "2026-11-27",
			events: []ev{{typ: passed, at: "2028-02-27"}},
			tl: []seg{
				{from: "2026-11-27", status: active, surv: notDue},
				{from: "2027-08-27", status: active, surv: due},
				{from: "2027-11-27", status: suspended, reason: rOverdue, surv: overdue},
				{from: "2028-02-27", status: cancelled, reason: rLimit, surv: none},
			},
		},
		{
			name: "fail/second window missed", from: "2026-11-27",
			events: []ev{{typ: passed, at: "2027-09-15"}},
			tl: []seg{
				{from: "2026-11-27", status: active, surv: notDue},
				{from: "2027-08-27", status: active, surv: due},
				{from: "2027-09-15", status: active, surv: done},
				{from: "2027-11-27", status: active, surv: notDue, windowEnd: "2028-11-26"},
				{from: "2028-08-27", status: active, surv: due, windowEnd: "2028-11-26"},
				{from: "2028-11-27", status: suspended, reason: rOverdue, surv: overdue, windowEnd: "2028-11-26"},
				{from: "2029-02-27", status: cancelled, reason: rLimit, surv: none},
			},
		},
		{
			name: "ok/audit one day late: suspended and reinstated at the same midnight", from: "2026-11-27",
			events: []ev{{typ: passed, at: "2027-11-27"}},
			tl: []seg{
				{from: "2026-11-27", status: active, surv: notDue},
				{from: "2027-08-27", status: active, surv: due},
				{from: "2027-11-27", status: active, reason: cert.ReasonSurveillancePassed, surv: notDue, windowEnd: "2028-11-26"},
				{from: "2028-08-27", status: active, surv: due},
				{from: "2028-11-27", status: suspended, reason: rOverdue, surv: overdue},
				{from: "2029-02-27", status: cancelled, surv: none},
			},
			changes: []string{
				"2027-11-27 suspended surveillance_overdue derived",
				"2027-11-27 active surveillance_passed",
				"2028-11-27 suspended surveillance_overdue derived",
				"2029-02-27 cancelled suspension_limit derived",
			},
		},
		{
			name: "ok/failed audit, passed follow-up", from: "2026-11-27",
			events: []ev{{typ: failed, at: "2027-09-10"}, {typ: passed, at: "2027-10-15"}, {typ: passed, at: "2028-09-20"}},
			tl: []seg{
				{from: "2026-11-27", status: active, surv: notDue},
				{from: "2027-08-27", status: active, surv: due},
				{from: "2027-09-10", status: suspended, reason: cert.ReasonSurveillanceFailed, surv: due, windowEnd: "2027-11-26"},
				{from: "2027-10-15", status: active, reason: cert.ReasonSurveillancePassed, surv: done},
				{from: "2027-11-27", status: active, surv: notDue},
				{from: "2028-08-27", status: active, surv: due},
				{from: "2028-09-20", status: active, surv: done},
				{from: "2028-11-27", status: active, surv: none},
				{from: "2029-11-27", status: expired, surv: none},
			},
		},
		{
			name: "fail/failed audit, no follow-up: cancelled 3 months after the failure", from: "2026-11-27",
			events: []ev{{typ: failed, at: "2027-09-10"}},
			tl: []seg{
				{from: "2026-11-27", status: active, surv: notDue},
				{from: "2027-08-27", status: active, surv: due},
				{from: "2027-09-10", status: suspended, reason: cert.ReasonSurveillanceFailed, surv: due},
				{from: "2027-11-27", status: suspended, reason: rOverdue, surv: overdue, windowEnd: "2027-11-26"},
				{from: "2027-12-10", status: cancelled, reason: rLimit, surv: none},
			},
			changes: []string{
				"2027-09-10 suspended surveillance_failed",
				"2027-11-27 suspended surveillance_overdue derived",
				"2027-12-10 cancelled suspension_limit derived",
			},
		},
		{
			name: "ok/manual suspension with an end date", from: "2026-11-27",
			events: append([]ev{{typ: cert.EventSuspended, at: "2027-03-01 10:00:00", reason: "client request", until: "2027-04-01"}}, itssAudits...),
			tl: []seg{
				{from: "2026-11-27", status: active, surv: notDue},
				{from: "2027-03-01 10:00:00", status: suspended, reason: "client request", surv: notDue},
				{from: "2027-04-01", status: active, reason: cert.ReasonSuspensionEnded, surv: notDue},
				{from: "2027-08-27", status: active, surv: due},
				{from: "2027-09-15", status: active, surv: done},
				{from: "2027-11-27", status: active, surv: notDue},
				{from: "2028-08-27", status: active, surv: due},
				{from: "2028-09-20", status: active, surv: done},
				{from: "2028-11-27", status: active, surv: none},
				{from: "2029-11-27", status: expired, surv: none},
			},
		},
		{
			// DESIGN.md section 4: ITSS cancels after 3 months suspended for
			// an overdue audit; a suspension the CB decided is not cut short.
			name: "ok/manual suspension longer than 3 months is not cancelled", from: "2026-11-27",
			events: append([]ev{
				{typ: cert.EventSuspended, at: "2027-01-10 09:00:00", reason: "client request"},
				{typ: cert.EventReinstated, at: "2027-06-01 09:00:00", reason: "resolved"},
			}, itssAudits...),
			tl: []seg{
				{from: "2026-11-27", status: active, surv: notDue},
				{from: "2027-01-10 09:00:00", status: suspended, reason: "client request", surv: notDue},
				{from: "2027-06-01 09:00:00", status: active, reason: "resolved", surv: notDue},
				{from: "2027-08-27", status: active, surv: due},
				{from: "2027-09-15", status: active, surv: done},
				{from: "2027-11-27", status: active, surv: notDue},
				{from: "2028-08-27", status: active, surv: due},
				{from: "2028-09-20", status: active, surv: done},
				{from: "2028-11-27", status: active, surv: none},
				{from: "2029-11-27", status: expired, surv: none},
			},
		},
		{
			// A suspension the CB decided and a missed window both hold the
			// certificate: the audit ends the second, only a reinstatement
			// the first.
			name: "fail/manual suspension over the window close", from: "2026-11-27",
			events: []ev{
				{typ: cert.EventSuspended, at: "2027-08-01 09:00:00", reason: "client request"},
				{typ: passed, at: "2027-12-10"},
				{typ: cert.EventReinstated, at: "2028-01-05 09:00:00", reason: "resolved"},
				{typ: passed, at: "2028-09-20"},
			},
			tl: []seg{
				{from: "2026-11-27", status: active, surv: notDue},
				{from: "2027-08-01 09:00:00", status: suspended, reason: "client request", surv: notDue},
				{from: "2027-08-27", status: suspended, reason: "client request", surv: due},
				{from: "2027-11-27", status: suspended, reason: rOverdue, surv: overdue, windowEnd: "2027-11-26"},
				{from: "2027-12-10", status: suspended, reason: "client request", surv: notDue, windowEnd: "2028-11-26"},
				{from: "2028-01-05 09:00:00", status: active, reason: "resolved", surv: notDue},
				{from: "2028-08-27", status: active, surv: due},
				{from: "2028-09-20", status: active, surv: done},
				{from: "2028-11-27", status: active, surv: none},
				{from: "2029-11-27", status: expired, surv: none},
			},
			changes: []string{
				"2027-08-01 suspended client request",
				"2027-11-27 suspended surveillance_overdue derived",
				"2027-12-10 suspended client request",
				"2028-01-05 active resolved",
				"2029-11-27 expired expired derived",
			},
		},
		{
			name: "ok/withdrawn by the CB", from: "2026-11-27",
			events: []ev{{typ: cert.EventWithdrawn, at: "2027-05-05 11:00:00", reason: "misuse of the mark"}, {typ: passed, at: "2027-09-15"}},
			tl: []seg{
				{from: "2026-11-27", status: active, surv: notDue},
				{from: "2027-05-05 11:00:00", status: withdrawn, reason: "misuse of the mark", surv: none},
			},
		},
		{
			name: "ok/renewed at expiry: superseded, not expired", from: "2026-11-27",
			events:  append(itssAudits[:2:2], ev{typ: cert.EventRenewed, at: "2029-11-27", reason: "recertified"}),
			tl:      itssPassed(seg{from: "2029-11-27", status: superseded, reason: "recertified", surv: none}),
			changes: []string{"2029-11-27 superseded recertified"},
		},
		{
			name: "ok/renewed early: superseded when the new certificate starts", from: "2026-11-27",
			events: append(itssAudits[:2:2], ev{typ: cert.EventRenewed, at: "2029-10-01", reason: "recertified"}),
			tl:     itssPassed(seg{from: "2029-10-01", status: superseded, reason: "recertified", surv: none}),
		},
		{
			name: "ok/revised: superseded at once", from: "2026-11-27",
			events: []ev{{typ: passed, at: "2027-09-15"}, {typ: cert.EventRevised, at: "2028-03-10 14:30:00", reason: "level 3 to 4"}},
			tl: []seg{
				{from: "2026-11-27", status: active, surv: notDue},
				{from: "2027-08-27", status: active, surv: due},
				{from: "2027-09-15", status: active, surv: done},
				{from: "2027-11-27", status: active, surv: notDue},
				{from: "2028-03-10 14:30:00", status: superseded, reason: "level 3 to 4", surv: none},
			},
		},
		{
			// 2028-02-29 + 36 months = 2031-03-01; the windows are computed
			// with AddDate too: 2028-11-29 to 2029-03-01 (exclusive).
			name: "ok/leap day: all audits passed", from: "2028-02-29",
			events: []ev{{typ: passed, at: "2029-01-10"}, {typ: passed, at: "2030-01-10"}},
			tl: []seg{
				{from: "2028-02-29", status: active, surv: notDue, windowEnd: "2029-02-28"},
				{from: "2028-11-29", status: active, surv: due, windowEnd: "2029-02-28"},
				{from: "2029-01-10", status: active, surv: done, windowEnd: "2029-02-28"},
				{from: "2029-03-01", status: active, surv: notDue, windowEnd: "2030-02-28"},
				{from: "2029-11-29", status: active, surv: due, windowEnd: "2030-02-28"},
				{from: "2030-01-10", status: active, surv: done},
				{from: "2030-03-01", status: active, surv: none},
				{from: "2031-03-01", status: expired, surv: none},
			},
		},
		{
			name: "fail/leap day: window missed", from: "2028-02-29",
			tl: []seg{
				{from: "2028-02-29", status: active, surv: notDue},
				{from: "2028-11-29", status: active, surv: due, windowEnd: "2029-02-28"},
				{from: "2029-03-01", status: suspended, reason: rOverdue, surv: overdue, windowEnd: "2029-02-28"},
				{from: "2029-06-01", status: cancelled, reason: rLimit, surv: none},
			},
		},
	} {
		sc.scheme = itss
		t.Run(sc.name, func(t *testing.T) { runScenario(t, sc) })
	}
}

func TestStatusAtISO17021(t *testing.T) {
	iso := builtin(t, "iso17021")
	for _, sc := range []scenario{
		{
			name: "ok/both audits passed", from: "2026-11-27",
			events: []ev{{typ: passed, at: "2027-06-01"}, {typ: passed, at: "2028-05-01"}},
			tl: []seg{
				{from: "2026-11-27", status: active, surv: due, windowEnd: "2027-11-26"},
				{from: "2027-06-01", status: active, surv: done, windowEnd: "2027-11-26"},
				{from: "2027-11-27", status: active, surv: due, windowEnd: "2028-11-26"},
				{from: "2028-05-01", status: active, surv: done, windowEnd: "2028-11-26"},
				{from: "2028-11-27", status: active, surv: none},
				{from: "2029-11-27", status: expired, reason: cert.ReasonExpired, surv: none},
			},
		},
		{
			name: "fail/audit missed, withdrawn after 6 months", from: "2026-11-27",
			tl: []seg{
				{from: "2026-11-27", status: active, surv: due},
				{from: "2027-11-27", status: suspended, reason: rOverdue, surv: overdue, windowEnd: "2027-11-26"},
				{from: "2028-05-27", status: withdrawn, reason: rLimit, surv: none},
			},
			changes: []string{
				"2027-11-27 suspended surveillance_overdue derived",
				"2028-05-27 withdrawn suspension_limit derived",
			},
		},
		{
			name: "ok/late audit inside the suspension", from: "2026-11-27",
			events: []ev{{typ: passed, at: "2028-03-01"}, {typ: passed, at: "2028-06-01"}},
			tl: []seg{
				{from: "2026-11-27", status: active, surv: due},
				{from: "2027-11-27", status: suspended, reason: rOverdue, surv: overdue, windowEnd: "2027-11-26"},
				{from: "2028-03-01", status: active, surv: due, windowEnd: "2028-11-26"},
				{from: "2028-06-01", status: active, surv: done, windowEnd: "2028-11-26"},
				{from: "2028-11-27", status: active, surv: none},
				{from: "2029-11-27", status: expired, surv: none},
			},
		},
		{
			// ISO/IEC 17021-1: any suspension longer than 6 months withdraws.
			name: "fail/manual suspension longer than 6 months", from: "2026-11-27",
			events: []ev{{typ: cert.EventSuspended, at: "2027-01-10 09:00:00", reason: "client request"}},
			tl: []seg{
				{from: "2026-11-27", status: active, surv: due},
				{from: "2027-01-10 09:00:00", status: suspended, reason: "client request", surv: due},
				{from: "2027-07-10 09:00:00", status: withdrawn, reason: rLimit, surv: none},
			},
		},
		{
			name: "ok/leap day", from: "2028-02-29",
			events: []ev{{typ: passed, at: "2028-12-01"}, {typ: passed, at: "2029-12-01"}},
			tl: []seg{
				{from: "2028-02-29", status: active, surv: due, windowEnd: "2029-02-28"},
				{from: "2028-12-01", status: active, surv: done, windowEnd: "2029-02-28"},
				{from: "2029-03-01", status: active, surv: due, windowEnd: "2030-02-28"},
				{from: "2029-12-01", status: active, surv: done, windowEnd: "2030-02-28"},
				{from: "2030-03-01", status: active, surv: none},
				{from: "2031-03-01", status: expired, surv: none},
			},
		},
	} {
		sc.scheme = iso
		t.Run(sc.name, func(t *testing.T) { runScenario(t, sc) })
	}
}

// A window that ends at midnight Beijing time: one second before, the
// audit is still due; at midnight the certificate is suspended. now is given
// in UTC, as a server in another zone would.
func TestStatusAtMidnightBeijing(t *testing.T) {
	itss := builtin(t, "itss")
	c := newCert(t, itss, beijing, "2026-11-27")
	for _, tc := range []struct {
		name   string
		now    string // UTC
		status cert.Status
		surv   cert.SurveillanceState
	}{
		{"ok/window not open one second before midnight", "2027-08-26T15:59:59Z", active, notDue},
		{"ok/window opens at midnight", "2027-08-26T16:00:00Z", active, due},
		{"ok/last second of the window", "2027-11-26T15:59:59Z", active, due},
		{"fail/window closed at midnight", "2027-11-26T16:00:00Z", suspended, overdue},
		{"fail/cancelled at midnight three months later", "2028-02-26T16:00:00Z", cancelled, none},
		{"fail/still suspended one second before", "2028-02-26T15:59:59Z", suspended, overdue},
	} {
		t.Run(tc.name, func(t *testing.T) {
			now, err := time.Parse(time.RFC3339, tc.now)
			if err != nil {
				t.Fatal(err)
			}
			got := cert.StatusAt(c, itss, now)
			if got.Status != tc.status || got.Surveillance.State != tc.surv {
				t.Errorf("StatusAt(%s) = %s/%s, want %s/%s", tc.now, got.Status, got.Surveillance.State, tc.status, tc.surv)
			}
		})
	}
	t.Run("ok/expiry at midnight Beijing", func(t *testing.T) {
		c := newCert(t, itss, beijing, "2026-11-27", itssAudits...)
		last := time.Date(2029, 11, 26, 15, 59, 59, 0, time.UTC)
		if got := cert.StatusAt(c, itss, last); got.Status != active {
			t.Errorf("one second before expiry: status = %s, want active", got.Status)
		}
		if got := cert.StatusAt(c, itss, last.Add(time.Second)); got.Status != expired {
			t.Errorf("at expiry: status = %s, want expired", got.Status)
		}
	})
	// Windows are whole local days even across a daylight-saving change.
	t.Run("ok/windows at local midnight across DST", func(t *testing.T) {
		c := newCert(t, itss, "America/New_York", "2026-03-08")
		closeAt := time.Date(2027, 3, 8, 5, 0, 0, 0, time.UTC) // 00:00 EST
		if got := cert.StatusAt(c, itss, closeAt.Add(-time.Second)); got.Status != active {
			t.Errorf("before close: status = %s, want active", got.Status)
		}
		if got := cert.StatusAt(c, itss, closeAt); got.Status != suspended {
			t.Errorf("at close: status = %s, want suspended", got.Status)
		}
	})
}

func TestValidityPeriodLeapDay(t *testing.T) {
	loc := mustLoc(t, beijing)
	from, until := cert.ValidityPeriod(time.Date(2028, 2, 29, 15, 0, 0, 0, loc), loc, 36)
	if want := time.Date(2028, 2, 29, 0, 0, 0, 0, loc); !from.Equal(want) {
		t.Errorf("from = %s, want %s", from, want)
	}
	if want := time.Date(2031, 3, 1, 0, 0, 0, 0, loc); !until.Equal(want) {
		t.Errorf("until = %s, want %s", until, want)
	}
	c := &cert.Certificate{ValidFrom: from, ValidUntil: until, TimeZone: beijing}
	if got := c.ValidUntilInclusive().Format(cert.DateLayout); got != "2031-02-28" {
		t.Errorf("printed last day = %s, want 2031-02-28", got)
	}
}

// StatusAt is pure: the same inputs give the same answer, and it does not
// change the certificate.
func TestStatusAtIsPure(t *testing.T) {
	itss := builtin(t, "itss")
	c := newCert(t, itss, beijing, "2026-11-27", ev{typ: passed, at: "2028-09-20"}, ev{typ: passed, at: "2027-09-15"})
	before := fmt.Sprint(c.Events)
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	a, b := cert.StatusAt(c, itss, now), cert.StatusAt(c, itss, now)
	if !reflect.DeepEqual(a, b) {
		t.Errorf("two calls differ:\n%v\n%v", a, b)
	}
	if after := fmt.Sprint(c.Events); after != before {
		t.Errorf("events changed by StatusAt:\n%s\nwant\n%s", after, before)
	}
}

// Rules are data: a scheme from a schemes file changes what StatusAt
// derives, with no code path tied to a scheme id.
func TestStatusAtCustomRules(t *testing.T) {
	strict := &cert.Scheme{
		ID: "strict", Name: "Strict", ValidityMonths: 24,
		Surveillance: []cert.Window{{Open: 10, Close: 12}},
		MissedWindow: cert.StatusWithdrawn,
	}
	unlimitedSusp := &cert.Scheme{
		ID: "calm", Name: "Calm", ValidityMonths: 24,
		Surveillance: []cert.Window{{Open: 10, Close: 12}},
	}
	allCauses := &cert.Scheme{
		ID: "all", Name: "All", ValidityMonths: 24,
		MaxSuspensionMonths: 2, AfterSuspension: cert.StatusCancelled,
		MaxSuspensionCauses: []cert.SuspensionCause{cert.CauseAction},
	}
	for _, sc := range []scenario{
		{
			name: "fail/missed window withdraws at once", scheme: strict, from: "2026-01-15",
			tl: []seg{
				{from: "2026-01-15", status: active, surv: notDue, windowEnd: "2027-01-14"},
				{from: "2026-11-15", status: active, surv: due, windowEnd: "2027-01-14"},
				{from: "2027-01-15", status: withdrawn, reason: rOverdue, surv: none},
			},
			changes: []string{"2027-01-15 withdrawn surveillance_overdue derived"},
		},
		{
			name: "ok/no suspension limit: suspended until expiry", scheme: unlimitedSusp, from: "2026-01-15",
			tl: []seg{
				{from: "2026-01-15", status: active, surv: notDue},
				{from: "2026-11-15", status: active, surv: due},
				{from: "2027-01-15", status: suspended, reason: rOverdue, surv: overdue, windowEnd: "2027-01-14"},
				{from: "2028-01-15", status: expired, reason: cert.ReasonExpired, surv: none},
			},
		},
		{
			// The end date ends the CB's suspension, not the missed audit.
			name: "fail/end date of a suspension over a missed window", scheme: unlimitedSusp, from: "2026-01-15",
			events: []ev{{typ: cert.EventSuspended, at: "2026-12-01", reason: "client request", until: "2027-02-01"}, {typ: passed, at: "2027-03-01"}},
			tl: []seg{
				{from: "2026-01-15", status: active, surv: notDue},
				{from: "2026-11-15", status: active, surv: due},
				{from: "2026-12-01", status: suspended, reason: "client request", surv: due},
				{from: "2027-01-15", status: suspended, reason: rOverdue, surv: overdue},
				{from: "2027-03-01", status: active, reason: cert.ReasonSurveillancePassed, surv: none},
				{from: "2028-01-15", status: expired, surv: none},
			},
		},
		{
			name: "fail/limit counts the CB's suspensions only", scheme: allCauses, from: "2026-01-15",
			events: []ev{{typ: failed, at: "2026-03-01"}, {typ: passed, at: "2026-07-01"}, {typ: cert.EventSuspended, at: "2026-09-01", reason: "misuse"}},
			tl: []seg{
				{from: "2026-01-15", status: active, surv: none},
				{from: "2026-03-01", status: suspended, reason: cert.ReasonSurveillanceFailed, surv: none},
				{from: "2026-07-01", status: active, surv: none},
				{from: "2026-09-01", status: suspended, reason: "misuse", surv: none},
				{from: "2026-11-01", status: cancelled, reason: rLimit, surv: none},
			},
		},
	} {
		t.Run(sc.name, func(t *testing.T) { runScenario(t, sc) })
	}
}

// Recorded derivations (EventStatusChanged) are not inputs: a stale or
// even a wrong record does not change the status.
func TestStatusAtIgnoresRecordedDerivations(t *testing.T) {
	itss := builtin(t, "itss")
	c := newCert(t, itss, beijing, "2026-11-27", itssAudits...)
	loc := mustLoc(t, beijing)
	for _, e := range []cert.Event{
		{Type: cert.EventStatusChanged, At: at(t, loc, "2027-11-27"), Actor: cert.SystemActor, Status: suspended, Reason: rOverdue},
		{Type: cert.EventStatusChanged, At: at(t, loc, "2028-02-27"), Actor: cert.SystemActor, Status: cancelled, Reason: rLimit},
	} {
		c.Append(e)
	}
	for _, day := range []string{"2027-12-01", "2028-03-01", "2029-01-01"} {
		if got := cert.StatusAt(c, itss, at(t, loc, day)); got.Status != active {
			t.Errorf("at %s: status = %s (%s), want active", day, got.Status, got.Reason)
		}
	}
}

// The surveillance object names the last audit in the certificate's zone.
func TestStatusAtLastAudit(t *testing.T) {
	itss := builtin(t, "itss")
	c := newCert(t, itss, beijing, "2026-11-27", itssAudits...)
	got := cert.StatusAt(c, itss, time.Date(2028, 1, 1, 0, 0, 0, 0, time.UTC))
	if got.Surveillance.LastAudit == nil || *got.Surveillance.LastAudit != "2027-09-15" {
		t.Errorf("lastAudit = %v, want 2027-09-15", got.Surveillance.LastAudit)
	}
	if got.Surveillance.WindowStart != "2028-08-27" {
		t.Errorf("windowStart = %s, want 2028-08-27", got.Surveillance.WindowStart)
	}
}

// Until is reported only while the suspension it ends is the only cause.
func TestStatusAtUntil(t *testing.T) {
	itss := builtin(t, "itss")
	loc := mustLoc(t, beijing)
	c := newCert(t, itss, beijing, "2026-11-27", ev{typ: cert.EventSuspended, at: "2027-03-01", reason: "client request", until: "2027-04-01"})
	got := cert.StatusAt(c, itss, at(t, loc, "2027-03-15"))
	if got.Until == nil || !got.Until.Equal(at(t, loc, "2027-04-01")) {
		t.Errorf("until = %v, want 2027-04-01", got.Until)
	}
	if got := cert.StatusAt(c, itss, at(t, loc, "2027-04-02")); got.Until != nil {
		t.Errorf("after the end: until = %v, want nil", got.Until)
	}
}

// Causes lists everything that holds a suspended certificate.
func TestStatusAtCauses(t *testing.T) {
	itss := builtin(t, "itss")
	loc := mustLoc(t, beijing)
	c := newCert(t, itss, beijing, "2026-11-27",
		ev{typ: cert.EventSuspended, at: "2027-08-01", reason: "client request"},
		ev{typ: failed, at: "2027-09-01"})
	for _, tc := range []struct {
		at   string
		want []cert.SuspensionCause
	}{
		{"2027-07-31", nil},
		{"2027-08-01", []cert.SuspensionCause{cert.CauseAction}},
		{"2027-09-01", []cert.SuspensionCause{cert.CauseAction, cert.CauseSurveillanceFailed}},
		{"2027-11-27", []cert.SuspensionCause{cert.CauseAction, cert.CauseSurveillanceFailed, cert.CauseSurveillanceOverdue}},
	} {
		got := cert.StatusAt(c, itss, at(t, loc, tc.at))
		if !reflect.DeepEqual(got.Causes, tc.want) {
			t.Errorf("at %s: causes = %v, want %v", tc.at, got.Causes, tc.want)
		}
	}
}
