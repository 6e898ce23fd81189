package remind

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/notify"
	"github.com/certd/certd/store"
)

// DefaultCatchUp is how far back a sweep looks for reminders it has not
// sent: a reminder missed by a longer downtime is not sent late (a week
// late it would mislead more than help; the next occasion follows).
const DefaultCatchUp = 7 * 24 * time.Hour

// pageSize is how many certificates a sweep reads at once.
const pageSize = 500

// maxErrors stops a sweep whose sinks keep failing.
const maxErrors = 10

// Store is what the Sweeper reads.
type Store interface {
	// ListCertificates is store.Certificates.ListCertificates.
	ListCertificates(ctx context.Context, q store.Query) ([]*cert.Certificate, string, error)
	// Issuers is store.Issuers.Issuers.
	Issuers(ctx context.Context) ([]*cert.Issuer, error)
}

// Sweeper finds the reminders that are due and hands them to the sinks.
// It keeps no state: sinks derive delivery ids from Event.ID, so running
// Sweep often, after a restart or on several instances at once enqueues
// each reminder once. A sink that fails is retried by the next sweep, as
// long as the reminder is within CatchUp.
type Sweeper struct {
	Store   Store
	Schemes cert.Schemes
	Sinks   []notify.Sink
	// CatchUp is DefaultCatchUp when zero.
	CatchUp time.Duration
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// Sweep pages through the certificates that may have a reminder whose
// instant lies in (now-CatchUp, now] and hands each such reminder to every
// sink: with a store.ValidityIndex, those whose validity dates put a
// reminder instant near that span; otherwise every certificate. It
// returns how many events it handed on (counting each event once,
// whatever the number of sinks). An error of one sink on one event does not stop the sweep; the
// errors are returned together (the sweep stops after 10).
func (s *Sweeper) Sweep(ctx context.Context) (int, error) {
	now := time.Now()
	if s.Now != nil {
		now = s.Now()
	}
	catchUp := s.CatchUp
	if catchUp <= 0 {
		catchUp = DefaultCatchUp
	}
	issuers, err := s.Store.Issuers(ctx)
	if err != nil {
		return 0, fmt.Errorf("list issuers: %w", err)
	}
	leads := make(map[string]cert.Reminders, len(issuers))
	for _, is := range issuers {
		leads[is.ID] = is.RemindersOf()
	}
	w := &sweep{s: s, leads: leads, now: now, from: now.Add(-catchUp)}
	if idx, ok := s.Store.(store.ValidityIndex); ok {
		return w.byValidity(ctx, idx, issuers, catchUp)
	}
	return w.all(ctx)
}

// sweep is one run of Sweep.
type sweep struct {
	s         *Sweeper
	leads     map[string]cert.Reminders
	now, from time.Time
	errs      []error
	sent      int
}

// all reads every certificate.
func (w *sweep) all(ctx context.Context) (int, error) {
	q := store.Query{Limit: pageSize}
	for {
		page, next, err := w.s.Store.ListCertificates(ctx, q)
		if err != nil {
			return w.sent, errors.Join(append(w.errs, fmt.Errorf("list certificates: %w", err))...)
		}
		for _, c := range page {
			if err := w.certificate(ctx, c); err != nil {
				return w.sent, err
			}
		}
		if next == "" {
			return w.sent, errors.Join(w.errs...)
		}
		q.Cursor = next
	}
}

// byValidity reads, issuer by issuer, the certificates whose validity
// dates put one of their reminder instants near (now-CatchUp, now]
// (validityRanges); Occasions then decides as for every certificate.
func (w *sweep) byValidity(ctx context.Context, idx store.ValidityIndex, issuers []*cert.Issuer, catchUp time.Duration) (int, error) {
	for _, is := range issuers {
		seen := map[string]bool{}
		for _, q := range validityRanges(w.s.Schemes, w.leads[is.ID], w.now, catchUp) {
			q.Issuer, q.Limit = is.ID, pageSize
			for {
				page, next, err := idx.CertificatesByValidity(ctx, q)
				if err != nil {
					return w.sent, errors.Join(append(w.errs, fmt.Errorf("certificates of %s by validity: %w", is.ID, err))...)
				}
				for _, c := range page {
					if seen[c.ID] {
						continue
					}
					seen[c.ID] = true
					if err := w.certificate(ctx, c); err != nil {
						return w.sent, err
					}
				}
				if next == "" {
					break
				}
				q.Cursor = next
			}
		}
	}
	return w.sent, errors.Join(w.errs...)
}

// certificate hands the reminders of c to the sinks; a non-nil error ends
// the sweep (and carries every error so far).
func (w *sweep) certificate(ctx context.Context, c *cert.Certificate) error {
	r, ok := w.leads[c.Issuer]
	if !ok {
		r = cert.DefaultReminders()
	}
	for _, o := range Occasions(c, w.s.Schemes[c.Scheme], r, w.from, w.now) {
		if err := ctx.Err(); err != nil {
			return errors.Join(append(w.errs, err)...)
		}
		ev := Event(c, o, w.now)
		failed := false
		for _, sink := range w.s.Sinks {
			if err := sink.Enqueue(ctx, ev, w.now); err != nil {
				failed = true
				w.errs = append(w.errs, fmt.Errorf("reminder %s: %w", ev.ID, err))
			}
		}
		if !failed {
			w.sent++
		}
		if len(w.errs) >= maxErrors {
			return errors.Join(append(w.errs, errors.New("stopped after 10 errors"))...)
		}
	}
	return nil
}

// Margins of validityRanges: the send hour (SendHour on the day of the
// instant, in the certificate's time zone) lies up to 15 hours before or 9
// hours after the instant, and a daylight saving change moves a date by
// an hour (sendMargin); adding months to a date moves it up to three days
// past a short month's end, and the month ends of time zones differ by up
// to a day (monthMargin).
const (
	sendMargin  = 26 * time.Hour
	monthMargin = 4 * 24 * time.Hour
)

// validityRanges are the ranges of validity dates of the certificates
// that may have a reminder instant in (now-catchUp, now] with lead times
// r: for each scheme's windows, those whose window opens (when r says so)
// or closes (on the day itself, or lead days later) in that span, as
// ranges of ValidFrom; for each expiry lead, ValidUntil. Overlapping
// ranges are merged.
func validityRanges(schemes cert.Schemes, r cert.Reminders, now time.Time, catchUp time.Duration) []store.ValidityQuery {
	var out []store.ValidityQuery
	// anchor adds the range of dates whose instant (the date plus months,
	// less lead days) falls in the span.
	anchor := func(until bool, months, lead int) {
		shift := time.Duration(lead) * 24 * time.Hour
		lo, hi := now.Add(-catchUp+shift-sendMargin), now.Add(shift+sendMargin)
		if months != 0 {
			lo, hi = lo.AddDate(0, -months, 0).Add(-monthMargin), hi.AddDate(0, -months, 0).Add(monthMargin)
		}
		out = append(out, store.ValidityQuery{Until: until, From: lo, To: hi})
	}
	for _, s := range schemes {
		for _, win := range s.Surveillance {
			if r.SurveillanceOpen {
				anchor(false, win.Open, 0)
			}
			anchor(false, win.Close, 0)
			for _, d := range r.SurveillanceCloseDays {
				anchor(false, win.Close, d)
			}
		}
	}
	for _, d := range r.ExpiryDays {
		anchor(true, 0, d)
	}
	slices.SortFunc(out, func(a, b store.ValidityQuery) int {
		if a.Until != b.Until {
			if a.Until {
				return 1
			}
			return -1
		}
		return a.From.Compare(b.From)
	})
	merged := out[:0]
	for _, q := range out {
		if n := len(merged); n > 0 && merged[n-1].Until == q.Until && !q.From.After(merged[n-1].To) {
			if q.To.After(merged[n-1].To) {
				merged[n-1].To = q.To
			}
			continue
		}
		merged = append(merged, q)
	}
	return merged
}

// Event is the notify.Event of an occasion of c, computed at now.
func Event(c *cert.Certificate, o Occasion, now time.Time) notify.Event {
	return notify.Event{
		ID:          notify.ReminderEventID(c.ID, o.Name),
		Type:        o.Type,
		Certificate: c,
		Reminder:    &notify.Reminder{Occasion: o.Name, Due: o.Due, DaysBefore: o.DaysBefore},
		At:          o.SendAt,
		RecordedAt:  now,
	}
}
