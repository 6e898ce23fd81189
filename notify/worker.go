package notify

import (
	"context"
	"crypto/sha256"
	"encoding/base32"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/store"
)

// DeliveryID is the webhook-id of the delivery of one event to one
// webhook: the same event and webhook always give the same id, so a
// dispatcher that enqueues an event twice (after a crash, on two
// instances) stores one delivery (store.ErrAlreadyExists the second time).
func DeliveryID(eventID, webhookID string) string {
	sum := sha256.Sum256([]byte(eventID + "\x00" + webhookID))
	return "msg_" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(sum[:16]))
}

// Message is the JSON body of a delivery.
type Message struct {
	Type      string    `json:"type"`
	Timestamp time.Time `json:"timestamp"`
	Data      any       `json:"data"`
}

// NewDelivery returns the pending delivery of an event to a webhook, due
// at now.
func NewDelivery(w *cert.Webhook, eventID string, m Message, now time.Time) (*cert.Delivery, error) {
	body, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("encode %s message: %w", m.Type, err)
	}
	now = now.UTC().Truncate(time.Millisecond)
	return &cert.Delivery{
		ID: DeliveryID(eventID, w.ID), Webhook: w.ID, Issuer: w.Issuer, EventType: m.Type,
		Payload: body, Status: cert.DeliveryPending, NextAttemptAt: now, CreatedAt: now,
	}, nil
}

// Worker leases due deliveries and attempts them. Any number of workers,
// in one process or many, may share a store: the store's leases keep two
// of them off the same delivery.
type Worker struct {
	Store  store.Webhooks
	Client *Client
	// Secrets opens the webhooks' sealed signing secrets.
	Secrets SecretBox
	// Alerts tells the issuer's admins when this worker disables a
	// webhook (nil: only the webhook records it).
	Alerts *StaffAlerts
	// Mailer sends e-mail deliveries; nil fails them with
	// ErrMailNotConfigured (recorded, not dropped).
	Mailer Mailer
	// Owner names this worker in leases; unique per instance.
	Owner string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Lease is how long a leased delivery is held; 0 means 2 minutes. It
	// must exceed attemptBudget (a delivery whose lease cannot cover one
	// more attempt waits for the next round).
	Lease time.Duration
	// Batch is how many deliveries one round leases; 0 means 20.
	Batch int
	// Jitter returns a number in [0, 1); nil means math/rand.
	Jitter func() float64
	Log    *slog.Logger

	waker
}

func (w *Worker) now() time.Time { return stamp(w.Now) }

func (w *Worker) log() *slog.Logger { return orDiscard(w.Log) }

// RunOnce leases the deliveries due now and attempts each; it returns how
// many it attempted.
func (w *Worker) RunOnce(ctx context.Context) (int, error) {
	lease, batch := w.Lease, w.Batch
	if lease <= 0 {
		lease = 2 * time.Minute
	}
	if batch <= 0 {
		batch = 20
	}
	now := w.now()
	ds, err := w.Store.LeaseDeliveries(ctx, w.Owner, now, now.Add(lease), batch)
	if err != nil {
		return 0, fmt.Errorf("lease deliveries: %w", err)
	}
	// Deliveries to one receiver about one certificate go in the order
	// of the certificate's events, one after the other, and one that
	// fails holds the later ones of its group (the store does not lease
	// them before it either); the others go in parallel, so that one slow
	// receiver does not hold the rest of the round.
	var groups [][]*cert.Delivery
	index := map[string]int{}
	for _, d := range ds {
		k := d.Group()
		if k == "" {
			k = "\x01" + d.Channel + "\x00" + d.Webhook + "\x00" + d.To
		}
		i, ok := index[k]
		if !ok {
			i = len(groups)
			index[k] = i
			groups = append(groups, nil)
		}
		groups[i] = append(groups[i], d)
	}
	var wg sync.WaitGroup
	for _, g := range groups {
		slices.SortFunc(g, func(a, b *cert.Delivery) int {
			switch {
			case a.Before(b):
				return -1
			case b.Before(a):
				return 1
			}
			return 0
		})
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i, d := range g {
				// The lease covers the whole round; an attempt that may
				// outlive it is left for the next round (another
				// instance may take the delivery once the lease ends,
				// and must not find it being attempted here too).
				if w.now().Add(attemptBudget).After(d.LeaseUntil) {
					return
				}
				w.attempt(ctx, d)
				if d.Status == cert.DeliveryPending && d.Group() != "" {
					// The later ones wait for this one's retry: they are
					// released untouched, and the store does not lease
					// them again while this one is pending.
					for _, later := range g[i+1:] {
						w.finish(ctx, later, cert.DeliveryPending, later.LastStatusCode, later.LastError)
					}
					return
				}
			}
		}()
	}
	wg.Wait()
	return len(ds), nil
}

// Run calls RunOnce every interval, and at once again after a round that
// found work, until ctx is done.
func (w *Worker) Run(ctx context.Context, interval time.Duration) {
	wake := w.ch()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		n, err := w.RunOnce(ctx)
		if err != nil && ctx.Err() == nil {
			w.log().LogAttrs(ctx, slog.LevelWarn, "webhook deliveries", slog.String("error", err.Error()))
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

// attempt posts one leased delivery and stores the result.
func (w *Worker) attempt(ctx context.Context, d *cert.Delivery) {
	if d.IsEmail() {
		w.mail(ctx, d)
		return
	}
	hook, err := w.Store.Webhook(ctx, d.Webhook)
	switch {
	case errors.Is(err, store.ErrNotFound):
		w.finish(ctx, d, cert.DeliveryFailed, 0, "the webhook was deleted")
		return
	case err != nil:
		w.log().LogAttrs(ctx, slog.LevelWarn, "webhook delivery", slog.String("delivery", d.ID), slog.String("error", err.Error()))
		return // the lease expires and the delivery is taken again
	case !hook.Active:
		w.finish(ctx, d, cert.DeliveryFailed, 0, "the webhook is not active")
		return
	}
	now := w.now()
	secret, err := OpenSecret(w.Secrets, hook)
	if err != nil {
		w.finish(ctx, d, cert.DeliveryFailed, 0, "the signing secret cannot be opened: "+err.Error())
		return
	}
	h, err := SignedHeaders(secret, d.ID, now, d.Payload)
	if err != nil {
		w.finish(ctx, d, cert.DeliveryFailed, 0, "signing: "+err.Error())
		return
	}
	resp, err := w.Client.Post(ctx, hook.URL, h, d.Payload)
	d.Attempts++
	d.LastAttemptAt = &now
	code, msg := 0, ""
	if resp != nil {
		code = resp.Status
	}
	if err != nil {
		msg = attemptError(err)
	}
	switch Classify(resp, err) {
	case Delivered:
		w.finish(ctx, d, cert.DeliveryDelivered, code, msg)
	case Gone:
		w.finish(ctx, d, cert.DeliveryFailed, code, "the receiver answered 410 Gone")
		w.disable(ctx, hook.ID, "gone")
	default:
		jitter := w.Jitter
		if jitter == nil {
			jitter = rand.Float64
		}
		next, ok := NextAttempt(d.RetryOrigin(), now, d.Attempts, jitter())
		if !ok {
			w.finish(ctx, d, cert.DeliveryFailed, code, msg)
			w.disable(ctx, hook.ID, "failing")
			return
		}
		d.NextAttemptAt = next.UTC().Truncate(time.Millisecond)
		w.finish(ctx, d, cert.DeliveryPending, code, msg)
	}
}

// mail sends one leased e-mail delivery and stores the result, with the
// retry schedule of webhooks.
func (w *Worker) mail(ctx context.Context, d *cert.Delivery) {
	if w.Mailer == nil {
		w.finish(ctx, d, cert.DeliveryFailed, 0, ErrMailNotConfigured)
		return
	}
	now := w.now()
	err := w.Mailer.Send(ctx, d)
	d.Attempts++
	d.LastAttemptAt = &now
	var perm *PermanentError
	switch {
	case err == nil:
		w.finish(ctx, d, cert.DeliveryDelivered, 0, "")
	case errors.As(err, &perm):
		w.finish(ctx, d, cert.DeliveryFailed, 0, attemptError(err))
		w.mailFailed(ctx, d)
	default:
		jitter := w.Jitter
		if jitter == nil {
			jitter = rand.Float64
		}
		next, ok := NextAttempt(d.RetryOrigin(), now, d.Attempts, jitter())
		if !ok {
			w.finish(ctx, d, cert.DeliveryFailed, 0, attemptError(err))
			w.mailFailed(ctx, d)
			return
		}
		d.NextAttemptAt = next.UTC().Truncate(time.Millisecond)
		w.finish(ctx, d, cert.DeliveryPending, 0, attemptError(err))
	}
}

// mailFailed tells the issuer's admins of an organization's e-mail that
// failed for good (a staff alert that fails is not reported again).
func (w *Worker) mailFailed(ctx context.Context, d *cert.Delivery) {
	if w.Alerts == nil {
		return
	}
	var job MailJob
	if json.Unmarshal(d.Payload, &job) != nil {
		return
	}
	if err := w.Alerts.OrganizationMailFailed(context.WithoutCancel(ctx), d, job); err != nil {
		w.log().LogAttrs(ctx, slog.LevelWarn, "staff alert of a failed e-mail", slog.String("delivery", d.ID), slog.String("error", err.Error()))
	}
}

// attemptError is what the delivery log keeps of a failed attempt: the
// cause without the URL (which may carry a receiver's token).
func attemptError(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	s := err.Error()
	if len(s) > 300 {
		s = s[:300]
	}
	return s
}

func (w *Worker) finish(ctx context.Context, d *cert.Delivery, status cert.DeliveryStatus, code int, msg string) {
	d.Status, d.LastStatusCode, d.LastError = status, code, msg
	// The result is stored even when the worker is stopping: an attempt
	// that reached the receiver must not be made again for want of it.
	if err := w.Store.FinishAttempt(context.WithoutCancel(ctx), d, w.Owner); err != nil {
		// ErrConflict: the lease ran out and another worker took the
		// delivery; its result stands.
		w.log().LogAttrs(ctx, slog.LevelWarn, "webhook delivery result not stored",
			slog.String("delivery", d.ID), slog.String("error", err.Error()))
	}
}

// disable turns a webhook off with the reason, retrying a concurrent
// update a few times; the worker whose write disabled it tells the
// issuer's admins (one write wins, so they are told once).
func (w *Worker) disable(ctx context.Context, id, reason string) {
	for range 3 {
		hook, err := w.Store.Webhook(ctx, id)
		if err != nil || !hook.Active {
			return
		}
		now := w.now()
		hook.Active, hook.DisabledReason, hook.DisabledAt, hook.UpdatedAt = false, reason, &now, now
		err = w.Store.UpdateWebhook(ctx, hook)
		if errors.Is(err, store.ErrConflict) {
			continue
		}
		if err != nil {
			w.log().LogAttrs(ctx, slog.LevelWarn, "disable webhook", slog.String("webhook", id), slog.String("error", err.Error()))
			return
		}
		w.log().LogAttrs(ctx, slog.LevelWarn, "webhook disabled", slog.String("webhook", id), slog.String("issuer", hook.Issuer), slog.String("reason", reason))
		if w.Alerts != nil {
			if err := w.Alerts.WebhookDisabled(ctx, hook); err != nil {
				w.log().LogAttrs(ctx, slog.LevelWarn, "tell the admins of a disabled webhook", slog.String("webhook", id), slog.String("error", err.Error()))
			}
		}
		return
	}
}

// attemptBudget bounds one attempt: a webhook post times out after 10 s,
// an e-mail after its SMTP timeout and the rendering of its PDF.
const attemptBudget = 45 * time.Second
