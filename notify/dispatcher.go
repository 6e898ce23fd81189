package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/store"
)

// Dispatcher takes certificates from the store's outbox and hands each
// event that was not handed before to every sink, which enqueue the
// deliveries. Any number of dispatchers, in one process or many, may share
// a store: the outbox's leases keep two of them off the same certificate,
// and the sinks' idempotent delivery ids make a repeat after a crash or an
// expired lease harmless.
type Dispatcher struct {
	Store store.Outbox
	Sinks []Sink
	// Owner names this dispatcher in leases; unique per instance.
	Owner string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Lease is how long a leased certificate is held; 0 means 15 seconds
	// (a round enqueues deliveries, it does not wait for receivers).
	Lease time.Duration
	// Batch is how many certificates one round leases; 0 means 500.
	Batch int
	// Dispatched, when set, is called after a round that enqueued
	// something (to wake the delivery worker).
	Dispatched func()
	Log        *slog.Logger

	waker
}

func (d *Dispatcher) now() time.Time { return stamp(d.Now) }

func (d *Dispatcher) log() *slog.Logger { return orDiscard(d.Log) }

// Events returns the events of c from index from on that are announced
// (EventType), as notify Events.
func Events(c *cert.Certificate, from int) []Event {
	var out []Event
	for i := max(from, 0); i < len(c.Events); i++ {
		e := &c.Events[i]
		typ, ok := EventType(e)
		if !ok {
			continue
		}
		out = append(out, Event{
			ID: CertificateEventID(c.ID, e.Seq), Type: typ, Certificate: c, Event: e,
			At: e.At, RecordedAt: e.RecordedAt,
		})
	}
	return out
}

// RunOnce leases the marked certificates and dispatches their new events;
// it returns how many certificates it finished.
func (d *Dispatcher) RunOnce(ctx context.Context) (int, error) {
	lease, batch := d.Lease, d.Batch
	if lease <= 0 {
		lease = 15 * time.Second
	}
	if batch <= 0 {
		batch = 500
	}
	now := d.now()
	entries, err := d.Store.LeaseOutbox(ctx, d.Owner, now, now.Add(lease), batch)
	if err != nil {
		return 0, fmt.Errorf("lease outbox: %w", err)
	}
	// Certificates are dispatched in parallel (a certificate's own events
	// in order), so that the sinks' writes share commits.
	results := make([]error, len(entries))
	var wg sync.WaitGroup
	next := make(chan int)
	for range min(dispatchParallel, len(entries)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				results[i] = d.dispatch(ctx, entries[i], now)
			}
		}()
	}
	for i := range entries {
		next <- i
	}
	close(next)
	wg.Wait()
	var errs []error
	var finished []*store.OutboxEntry
	for i, e := range entries {
		if results[i] != nil {
			// The entry stays leased; when the lease ends it is taken
			// again and its events handed to the sinks again.
			errs = append(errs, results[i])
			continue
		}
		finished = append(finished, e)
	}
	if len(finished) > 0 {
		// A conflict means the lease ended and another instance took
		// the certificate; it hands the events over again, harmlessly.
		if _, err := d.Store.FinishOutbox(ctx, d.Owner, finished); err != nil {
			errs = append(errs, fmt.Errorf("finish outbox: %w", err))
		}
		if d.Dispatched != nil {
			d.Dispatched()
		}
	}
	return len(finished), errors.Join(errs...)
}

func (d *Dispatcher) dispatch(ctx context.Context, e *store.OutboxEntry, now time.Time) error {
	c := e.Certificate
	for _, ev := range Events(c, e.Dispatched) {
		for _, s := range d.Sinks {
			if err := s.Enqueue(ctx, ev, now); err != nil {
				return fmt.Errorf("dispatch %s (%s): %w", ev.ID, ev.Type, err)
			}
		}
	}
	e.Dispatched = len(c.Events)
	return nil
}

// dispatchParallel is how many certificates one dispatcher hands to the
// sinks at once.
const dispatchParallel = 16

// Run calls RunOnce every interval, at once again after a round that
// found work, and when woken, until ctx is done.
func (d *Dispatcher) Run(ctx context.Context, interval time.Duration) {
	wake := d.ch()
	t := time.NewTicker(interval)
	defer t.Stop()
	// A round runs to its end even when ctx is cancelled meanwhile: it
	// only enqueues, and a round cut short would leave its certificates
	// leased to a stopped instance until the leases end.
	round := context.WithoutCancel(ctx)
	for {
		if ctx.Err() != nil {
			return
		}
		n, err := d.RunOnce(round)
		if err != nil {
			d.log().LogAttrs(ctx, slog.LevelWarn, "notification outbox", slog.String("error", err.Error()))
		}
		if n > 0 && err == nil {
			continue
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-wake:
		}
	}
}

// WebhookSink enqueues an event to every active webhook of the
// certificate's issuer that subscribes to its type and existed when the
// event was recorded (a webhook registered today does not receive
// yesterday's events).
type WebhookSink struct {
	Store store.Webhooks
	// Data returns the message's data for the event: the certificate
	// resource as the API shows it.
	Data func(ev Event) any
}

// Enqueue implements Sink.
func (s *WebhookSink) Enqueue(ctx context.Context, ev Event, now time.Time) error {
	hooks, err := s.Store.Webhooks(ctx, ev.Certificate.Issuer)
	if err != nil {
		return fmt.Errorf("webhooks of %s: %w", ev.Certificate.Issuer, err)
	}
	var m *Message
	for _, w := range hooks {
		if !w.Active || !w.Wants(ev.Type) || w.CreatedAt.After(ev.RecordedAt) {
			continue
		}
		if m == nil {
			m = &Message{Type: ev.Type, Timestamp: ev.RecordedAt.UTC(), Data: s.data(ev)}
		}
		dl, err := NewDelivery(w, ev.ID, *m, now)
		if err != nil {
			return err
		}
		dl.Certificate = ev.Certificate.ID
		if ev.Event != nil {
			dl.Seq = ev.Event.Seq
		}
		switch err := s.Store.EnqueueDelivery(ctx, dl); {
		case errors.Is(err, store.ErrAlreadyExists):
		case err != nil:
			return fmt.Errorf("enqueue %s for webhook %s: %w", ev.ID, w.ID, err)
		}
	}
	return nil
}

func (s *WebhookSink) data(ev Event) any {
	if s.Data != nil {
		return s.Data(ev)
	}
	return ev.Certificate
}
