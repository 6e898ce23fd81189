package report

import (
	"cmp"
	"slices"
	"time"

	"github.com/certd/certd/cert"
)

// Entry is one row's worth of facts: a certificate and, for a change, what
// changed.
type Entry struct {
	Cert   *cert.Certificate
	Scheme *cert.Scheme
	// Change is "issued", "revised", a status reached (suspended,
	// reinstated for a return to active, withdrawn, cancelled, expired,
	// superseded), "surveillance" for a surveillance audit, or "audit"
	// for the audit recorded with an issue or a renewal.
	Change string
	At     time.Time
	// Status is the status after the change (changes) or at the end of
	// the period (certificates).
	Status cert.Status
	Code   *cert.ReasonCode
	// Audit is the surveillance event of a surveillance row.
	Audit *cert.Event
	// Record is the audit record of an audit row (the event's or the
	// certificate's); nil when none was recorded.
	Record *cert.Audit
	// ReportedAt places the entry in a period when it differs from At: a
	// surveillance audit recorded after the report of its month was
	// submitted is reported in the month it was recorded in.
	ReportedAt time.Time
}

// Reported is when the entry counts for the reports: ReportedAt, else At.
func (e *Entry) Reported() time.Time {
	if !e.ReportedAt.IsZero() {
		return e.ReportedAt
	}
	return e.At
}

// Submitted maps a month ("2026-11") to when its report was first marked
// submitted.
type Submitted map[string]time.Time

// SubmittedOf returns the months of subs with their first submission.
func SubmittedOf(subs []*cert.Submission) Submitted {
	out := Submitted{}
	for _, s := range subs {
		if t, ok := out[s.Period]; !ok || s.SubmittedAt.Before(t) {
			out[s.Period] = s.SubmittedAt
		}
	}
	return out
}

// reportedAt is when an audit dated at and recorded at recorded counts: its
// date, unless the report of its month was submitted before it was
// recorded; then the time it was recorded, so that it is outstanding in
// the next report rather than in one already submitted.
func (s Submitted) reportedAt(at, recorded time.Time, loc *time.Location) time.Time {
	if t, ok := s[PeriodOf(at, loc).Month]; ok && recorded.After(t) {
		return recorded
	}
	return at
}

// record is the audit record a row's audit fields come from: the row's
// own (audit rows), else the latest the certificate holds (the last
// surveillance audit with a record, else the certificate's).
func (e *Entry) record() *cert.Audit {
	if e.Record != nil || e.Audit != nil || e.Change == "audit" {
		return e.Record
	}
	for i := len(e.Cert.Events) - 1; i >= 0; i-- {
		if a := e.Cert.Events[i].Audit; a != nil {
			return a
		}
	}
	return e.Cert.Audit
}

// Key identifies an entry across reports: certificate id, change and time.
func (e *Entry) Key() string {
	return e.Cert.ID + "/" + e.Change + "/" + e.At.UTC().Format(time.RFC3339Nano)
}

// Changes returns one entry per certificate and change in the period,
// ordered by time and number: the issue of a certificate (by the day it
// was recorded) and every change of its status, recorded or derived, up
// to the end of the period.
func Changes(certs []*cert.Certificate, schemes cert.Schemes, p Period) []Entry {
	var out []Entry
	for _, c := range certs {
		out = appendChanges(out, c, schemes[c.Scheme], p)
	}
	sortEntries(out)
	return out
}

func appendChanges(out []Entry, c *cert.Certificate, s *cert.Scheme, p Period) []Entry {
	if p.Contains(c.CreatedAt) {
		change := "issued"
		if c.Revision > 0 {
			change = "revised"
		}
		out = append(out, Entry{Cert: c, Scheme: s, Change: change, At: c.CreatedAt, Status: cert.StatusActive, Code: issueCode(c, s)})
	}
	if c.ValidUntil.Before(p.Start) || c.CreatedAt.After(p.End) {
		return out // over before the period, or created after it
	}
	st := cert.StatusAt(c, s, p.End.Add(-time.Nanosecond))
	for _, ch := range st.Changes {
		if !p.Contains(ch.At) {
			continue
		}
		change := string(ch.Status)
		if ch.Status == cert.StatusActive {
			change = "reinstated"
		}
		out = append(out, Entry{Cert: c, Scheme: s, Change: change, At: ch.At, Status: ch.Status, Code: ch.Code})
	}
	return out
}

// issueCode is the type of change a revision recorded.
func issueCode(c *cert.Certificate, s *cert.Scheme) *cert.ReasonCode {
	if len(c.Events) > 0 && c.Events[0].Type == cert.EventIssued && c.Events[0].ReasonCode != "" {
		return s.Reason(cert.StatusActive, c.Events[0].ReasonCode)
	}
	return nil
}

// Audits returns one entry per audit of the period: every surveillance
// audit dated in it, and the audit recorded with a certificate issued or
// renewed in it (a revision's record is its predecessor's, already
// reported, and is left out). With sub, a surveillance audit recorded
// after the report of its month was submitted counts in the month it was
// recorded in instead (Entry.ReportedAt).
func Audits(certs []*cert.Certificate, schemes cert.Schemes, p Period, sub Submitted) []Entry {
	loc := p.Start.Location()
	var out []Entry
	for _, c := range certs {
		if c.Audit != nil && c.Revision == 0 && p.Contains(c.CreatedAt) {
			out = append(out, Entry{Cert: c, Scheme: schemes[c.Scheme], Change: "audit", At: c.CreatedAt, Record: c.Audit})
		}
		for i := range c.Events {
			e := &c.Events[i]
			if e.Type != cert.EventSurveillancePassed && e.Type != cert.EventSurveillanceFailed || e.Related != "" {
				continue
			}
			entry := Entry{Cert: c, Scheme: schemes[c.Scheme], Change: "surveillance", At: e.At, Audit: e, Record: e.Audit}
			if r := sub.reportedAt(e.At, e.RecordedAt, loc); !r.Equal(e.At) {
				entry.ReportedAt = r
			}
			if p.Contains(entry.Reported()) {
				out = append(out, entry)
			}
		}
	}
	sortEntries(out)
	return out
}

// Current returns one entry per certificate issued or changed in the
// period, with its status at the end of the period; confidential
// certificates are left out (IAF CertSearch shows only what the client
// agreed to publish).
func Current(certs []*cert.Certificate, schemes cert.Schemes, p Period) []Entry {
	var out []Entry
	for _, c := range certs {
		if c.Confidential {
			continue
		}
		s := schemes[c.Scheme]
		if len(appendChanges(nil, c, s, p)) == 0 {
			continue
		}
		st := cert.StatusAt(c, s, p.End.Add(-time.Nanosecond))
		e := Entry{Cert: c, Scheme: s, Change: string(st.Status), At: st.Since, Status: st.Status}
		if n := len(st.Changes); n > 0 {
			e.Code = st.Changes[n-1].Code
		}
		out = append(out, e)
	}
	sortEntries(out)
	return out
}

func sortEntries(es []Entry) {
	slices.SortStableFunc(es, func(a, b Entry) int {
		return cmp.Or(a.Reported().Compare(b.Reported()), a.At.Compare(b.At), cmp.Compare(a.Cert.Number, b.Cert.Number))
	})
}
