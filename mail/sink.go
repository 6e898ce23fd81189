package mail

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/notify"
)

// DefaultMaxAge is how old an event may be and still be mailed: a
// certificate stored before e-mail existed, or one that gains an address
// in a revision, must not mail its history.
const DefaultMaxAge = 7 * 24 * time.Hour

// Outbox stores deliveries (store.Webhooks has this method).
type Outbox interface {
	// EnqueueDelivery stores a new delivery, or fails with an error
	// matching cert.ErrAlreadyExists, storing nothing, when the id is
	// taken.
	EnqueueDelivery(ctx context.Context, d *cert.Delivery) error
}

// OrganizationSink mails the certified organization (the certificate's
// organization.email) its certificate events and every reminder: one
// ChannelEmail delivery per event, with the id
// notify.DeliveryID(ev.ID, "mailto:"+address), so enqueueing an event
// again stores nothing new. The issuance mail attaches the PDF.
type OrganizationSink struct {
	Outbox Outbox
	// MaxAge skips events recorded longer ago than this before now (0:
	// DefaultMaxAge).
	MaxAge time.Duration
}

var _ notify.Sink = (*OrganizationSink)(nil)

// organizationTypes are the certificate events mailed to the organization.
var organizationTypes = map[string]bool{
	cert.WebhookCertificateIssued: true, cert.WebhookCertificateSurveillanceRecorded: true,
	cert.WebhookCertificateSuspended: true, cert.WebhookCertificateReinstated: true,
	cert.WebhookCertificateWithdrawn: true, cert.WebhookCertificateCancelled: true,
	cert.WebhookCertificateExpired: true, cert.WebhookCertificateRenewed: true,
	cert.WebhookCertificateRevised: true,
}

// Enqueue stores the e-mail delivery of ev, if the certificate has an
// address and the event is one the organization is told of and recent
// enough. It returns nil when there is nothing to send or the delivery is
// already stored.
func (s *OrganizationSink) Enqueue(ctx context.Context, ev notify.Event, now time.Time) error {
	d, err := s.delivery(ev, now)
	if err != nil || d == nil {
		return err
	}
	switch err := s.Outbox.EnqueueDelivery(ctx, d); {
	case errors.Is(err, cert.ErrAlreadyExists):
		return nil
	case err != nil:
		return fmt.Errorf("enqueue the e-mail of %s: %w", ev.ID, err)
	}
	return nil
}

// delivery is the delivery of ev, or nil when ev is not mailed.
func (s *OrganizationSink) delivery(ev notify.Event, now time.Time) (*cert.Delivery, error) {
	c := ev.Certificate
	if c == nil || c.Organization.Email == "" {
		return nil, nil
	}
	maxAge := s.MaxAge
	if maxAge <= 0 {
		maxAge = DefaultMaxAge
	}
	recorded := ev.RecordedAt
	if recorded.IsZero() && ev.Event != nil {
		recorded = ev.Event.RecordedAt
	}
	if recorded.Before(now.Add(-maxAge)) {
		return nil, nil
	}
	job := notify.MailJob{Certificate: c.ID, Type: ev.Type}
	switch {
	case ev.Reminder != nil:
		job.Kind, job.Reminder = notify.MailReminder, ev.Reminder
	case ev.Event != nil && organizationTypes[ev.Type]:
		job.Kind, job.Seq = notify.MailCertificateEvent, ev.Event.Seq
		job.AttachPDF = ev.Type == cert.WebhookCertificateIssued
	default:
		return nil, nil
	}
	payload, err := json.Marshal(job)
	if err != nil {
		return nil, fmt.Errorf("encode the mail job of %s: %w", ev.ID, err)
	}
	at := now.UTC().Truncate(time.Millisecond)
	return &cert.Delivery{
		ID: notify.DeliveryID(ev.ID, "mailto:"+c.Organization.Email), Channel: cert.ChannelEmail,
		To: c.Organization.Email, Certificate: c.ID, Issuer: c.Issuer, EventType: ev.Type,
		Seq: job.Seq, Payload: payload, Status: cert.DeliveryPending, NextAttemptAt: at, CreatedAt: at,
	}, nil
}
