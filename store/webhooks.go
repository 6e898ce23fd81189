package store

import (
	"context"
	"time"

	"github.com/certd/certd/cert"
)

// Webhooks stores webhook endpoints and their deliveries (the outbox of
// DESIGN section 12). Every method is atomic on one document; leases are
// the database's guarantee, never a lock in the process, so any number of
// instances may call LeaseDeliveries at once.
type Webhooks interface {
	// CreateWebhook stores a new webhook with Version 1 (set on w), its
	// Secret and SealedSecret as given; ErrAlreadyExists when the id is
	// taken.
	CreateWebhook(ctx context.Context, w *cert.Webhook) error
	// Webhook returns the webhook with the id, Secret and SealedSecret as
	// stored, or ErrNotFound.
	Webhook(ctx context.Context, id string) (*cert.Webhook, error)
	// Webhooks lists an issuer's webhooks (all when issuer is "") in id
	// order.
	Webhooks(ctx context.Context, issuer string) ([]*cert.Webhook, error)
	// UpdateWebhook replaces the webhook whose stored version is
	// w.Version, storing w with Version+1 (set on w): ErrConflict when the
	// stored version differs, ErrNotFound when there is no such webhook.
	// Id, issuer, Secret and SealedSecret never change here.
	UpdateWebhook(ctx context.Context, w *cert.Webhook) error
	// SealWebhookSecret replaces the plaintext Secret plain of a webhook
	// stored before secrets were sealed by its sealed form: one write,
	// conditional on the stored Secret being plain, that stores sealed
	// as SealedSecret and removes Secret, leaving the version alone.
	// ErrConflict (nothing stored) when the stored Secret is not plain
	// (another instance sealed it first), ErrNotFound when there is no
	// such webhook.
	SealWebhookSecret(ctx context.Context, id, plain string, sealed []byte) error
	// DeleteWebhook removes the webhook; ErrNotFound when there is none.
	// Its deliveries stay for the log; pending ones fail when leased.
	DeleteWebhook(ctx context.Context, id string) error

	// EnqueueDelivery stores a new delivery; ErrAlreadyExists, storing
	// nothing, when the id is taken (so enqueueing the same event for the
	// same webhook twice is harmless).
	EnqueueDelivery(ctx context.Context, d *cert.Delivery) error
	// Delivery returns the delivery with the id, or ErrNotFound.
	Delivery(ctx context.Context, id string) (*cert.Delivery, error)
	// Deliveries lists the deliveries of a webhook, newest first (by
	// CreatedAt, then id), at most limit (1-1000; 0 means 100).
	Deliveries(ctx context.Context, webhook string, limit int) ([]*cert.Delivery, error)
	// LeaseDeliveries takes up to max pending deliveries whose
	// NextAttemptAt is not after now and whose lease has expired
	// (LeaseUntil before now), earliest NextAttemptAt first, and sets
	// their LeaseOwner to owner and LeaseUntil to until. Each delivery is
	// taken by one atomic conditional write: of concurrent callers on any
	// number of instances, at most one gets a given delivery until its
	// lease expires.
	LeaseDeliveries(ctx context.Context, owner string, now, until time.Time, max int) ([]*cert.Delivery, error)
	// FinishAttempt stores the result of an attempt (Status, Attempts,
	// NextAttemptAt, LastAttemptAt, LastStatusCode, LastError of d) and
	// releases the lease, provided the stored delivery is still leased
	// by owner; otherwise ErrConflict (the lease expired and another
	// instance took it) and nothing is stored. ErrNotFound when there is
	// no such delivery.
	FinishAttempt(ctx context.Context, d *cert.Delivery, owner string) error
	// RetryDelivery makes a delivery pending again, due at now, with
	// RedeliveredAt now, without touching its attempts (a manual
	// redelivery); ErrNotFound. A
	// delivery whose lease is live at now (an attempt in flight) is left
	// alone with ErrConflict, in the same atomic write, so that no two
	// workers ever attempt it at once.
	RetryDelivery(ctx context.Context, id string, now time.Time) error
}
