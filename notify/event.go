package notify

import (
	"context"
	"strconv"
	"time"

	"github.com/certd/certd/cert"
)

// Event is one thing certd tells the people who care: a certificate event
// taken from the outbox (Event set) or a reminder (Reminder set).
type Event struct {
	// ID is unique and stable: the same change or reminder always has the
	// same ID, on every instance and after a restart, so that a sink
	// derives the same delivery ids from it and enqueues nothing twice.
	// Certificate events use "<certificate id>/<event seq>"; reminders
	// "<certificate id>/reminder/<occasion>".
	ID string
	// Type is one of cert.WebhookEventTypes.
	Type        string
	Certificate *cert.Certificate
	// Event is the certificate event (nil for a reminder).
	Event *cert.Event
	// Reminder is the reminder (nil for a certificate event).
	Reminder *Reminder
	// At is when the change took effect, or the reminder's day.
	At time.Time
	// RecordedAt is when the change was recorded (or the reminder
	// computed); a subscription made after it does not receive it.
	RecordedAt time.Time
}

// Reminder is an occasion computed from the scheme rules: a surveillance
// window opening or about to close, a suspension for an overdue audit, an
// approaching expiry.
type Reminder struct {
	// Occasion names it, unique per certificate: "surveillance-open-1",
	// "surveillance-close-1-30d", "overdue-suspension", "expiry-90d".
	Occasion string `json:"occasion"`
	// Due is the instant the reminder is about (the window's end, the
	// expiry, the date the certificate will be cancelled or withdrawn).
	Due time.Time `json:"due"`
	// DaysBefore is how many days before Due it is sent (0 when the
	// reminder is about something that already happened).
	DaysBefore int `json:"daysBefore,omitempty"`
}

// Sink turns an event into deliveries (webhook posts, e-mails) in the
// store. Enqueue must be idempotent: the same Event enqueued twice, after
// a crash or by two instances, stores each delivery once (delivery ids
// derived from Event.ID and the recipient).
type Sink interface {
	Enqueue(ctx context.Context, ev Event, now time.Time) error
}

// SinkFunc adapts a function to Sink.
type SinkFunc func(ctx context.Context, ev Event, now time.Time) error

// Enqueue calls f.
func (f SinkFunc) Enqueue(ctx context.Context, ev Event, now time.Time) error { return f(ctx, ev, now) }

// Mailer sends the e-mail of a ChannelEmail delivery (composing it from
// the delivery's payload). An error wrapped in Permanent fails the
// delivery at once; other errors are retried on the webhook schedule.
type Mailer interface {
	Send(ctx context.Context, d *cert.Delivery) error
}

// PermanentError marks an error that retrying cannot cure (an address the
// server refuses for good, a certificate that no longer exists).
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// Permanent wraps err as a PermanentError.
func Permanent(err error) error { return &PermanentError{Err: err} }

// ErrMailNotConfigured is what the outbox records for an e-mail when certd
// runs without --smtp-url: the message is not sent, and the delivery says
// so instead of disappearing.
const ErrMailNotConfigured = "e-mail is not configured (--smtp-url): not sent"

// Kinds of e-mail (MailJob.Kind).
const (
	// MailCertificateEvent tells the certified organization of an event
	// of its certificate (issuance with the PDF attached, status changes).
	MailCertificateEvent = "certificate-event"
	// MailReminder tells the organization of a reminder.
	MailReminder = "reminder"
	// MailWatchConfirm asks a watcher to confirm a subscription.
	MailWatchConfirm = "watch-confirm"
	// MailWatchEvent tells a confirmed watcher of a status change.
	MailWatchEvent = "watch-event"
	// MailStaffAlert tells an issuer's staff of a failure that needs
	// them (a webhook disabled).
	MailStaffAlert = "staff-alert"
)

// MailJob is the payload of a ChannelEmail delivery: what the mailer needs
// to compose the message when it sends it (the certificate is read then,
// so the mail shows its status at that moment and the PDF is rendered only
// when needed).
type MailJob struct {
	Kind string `json:"kind"`
	// Certificate is the id of the certificate the mail is about.
	Certificate string `json:"certificate,omitempty"`
	// Type is the event type (cert.WebhookEventTypes) and Seq the event's
	// sequence number, for certificate events and watch events.
	Type string `json:"type,omitempty"`
	Seq  int    `json:"seq,omitempty"`
	// Reminder is set for MailReminder.
	Reminder *Reminder `json:"reminder,omitempty"`
	// AttachPDF attaches the certificate's PDF (issuance).
	AttachPDF bool `json:"attachPdf,omitempty"`
	// ConfirmURL (MailWatchConfirm) and UnsubscribeURL (MailWatchEvent,
	// also sent as RFC 8058 List-Unsubscribe) are absolute links.
	ConfirmURL     string `json:"confirmUrl,omitempty"`
	UnsubscribeURL string `json:"unsubscribeUrl,omitempty"`
	// Subject and Text are the message of a MailStaffAlert.
	Subject string `json:"subject,omitempty"`
	Text    string `json:"text,omitempty"`
}

// EventType maps a certificate event to the webhook event type it is
// announced as; ok is false for an event that is not announced (a derived
// record that changes nothing a subscriber cares about).
func EventType(e *cert.Event) (typ string, ok bool) {
	switch e.Type {
	case cert.EventIssued:
		return cert.WebhookCertificateIssued, true
	case cert.EventSurveillancePassed, cert.EventSurveillanceFailed:
		return cert.WebhookCertificateSurveillanceRecorded, true
	case cert.EventSuspended:
		return cert.WebhookCertificateSuspended, true
	case cert.EventReinstated:
		return cert.WebhookCertificateReinstated, true
	case cert.EventWithdrawn:
		return cert.WebhookCertificateWithdrawn, true
	case cert.EventCancelled:
		return cert.WebhookCertificateCancelled, true
	case cert.EventRenewed:
		return cert.WebhookCertificateRenewed, true
	case cert.EventRevised:
		return cert.WebhookCertificateRevised, true
	case cert.EventStatusChanged:
		switch e.Status {
		case cert.StatusSuspended:
			return cert.WebhookCertificateSuspended, true
		case cert.StatusWithdrawn:
			return cert.WebhookCertificateWithdrawn, true
		case cert.StatusCancelled:
			return cert.WebhookCertificateCancelled, true
		case cert.StatusExpired:
			return cert.WebhookCertificateExpired, true
		case cert.StatusActive:
			return cert.WebhookCertificateReinstated, true
		}
	}
	return "", false
}

// CertificateEventID is the Event.ID of a certificate's event.
func CertificateEventID(certID string, seq int) string {
	return certID + "/" + strconv.Itoa(seq)
}

// ReminderEventID is the Event.ID of a reminder.
func ReminderEventID(certID, occasion string) string {
	return certID + "/reminder/" + occasion
}
