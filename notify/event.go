package notify

import (
	"context"
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
