package remind

import (
	"context"
	"errors"
	"fmt"
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

// Sweep pages through every certificate and hands each reminder whose
// instant lies in (now-CatchUp, now] to every sink; it returns how many
// events it handed on (counting each event once, whatever the number of
// sinks). An error of one sink on one event does not stop the sweep; the
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
	var errs []error
	sent := 0
	q := store.Query{Limit: pageSize}
	for {
		page, next, err := s.Store.ListCertificates(ctx, q)
		if err != nil {
			return sent, errors.Join(append(errs, fmt.Errorf("list certificates: %w", err))...)
		}
		for _, c := range page {
			r, ok := leads[c.Issuer]
			if !ok {
				r = cert.DefaultReminders()
			}
			for _, o := range Occasions(c, s.Schemes[c.Scheme], r, now.Add(-catchUp), now) {
				if err := ctx.Err(); err != nil {
					return sent, errors.Join(append(errs, err)...)
				}
				ev := Event(c, o, now)
				failed := false
				for _, sink := range s.Sinks {
					if err := sink.Enqueue(ctx, ev, now); err != nil {
						failed = true
						errs = append(errs, fmt.Errorf("reminder %s: %w", ev.ID, err))
					}
				}
				if !failed {
					sent++
				}
				if len(errs) >= maxErrors {
					return sent, errors.Join(append(errs, errors.New("stopped after 10 errors"))...)
				}
			}
		}
		if next == "" {
			return sent, errors.Join(errs...)
		}
		q.Cursor = next
	}
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
