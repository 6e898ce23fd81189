package store

import (
	"context"
	"time"

	"github.com/certd/certd/cert"
)

// Outbox is the notification outbox of DESIGN section 12. Every certificate
// write (create or update) marks the certificate as having events not yet
// handed to the notification sinks, in the same transaction (bbolt) or the
// same document write (MongoDB) as the certificate itself, so that a change
// and its notifications are never separated by a crash. A dispatcher leases
// marked certificates, hands their new events to the sinks (which enqueue
// deliveries idempotently), and finishes the entry.
//
// Leases are the database's guarantee, never a lock in the process: any
// number of instances may lease at once, and a certificate is held by one
// of them until its lease ends. A dispatcher that dies holding a lease
// loses it when the lease ends; the certificate is then leased again and
// its events handed to the sinks again (at-least-once; the sinks'
// idempotent delivery ids make the repeat harmless).
type Outbox interface {
	// LeaseOutbox takes up to max marked certificates whose lease has
	// ended (or that were never leased) and holds them for owner until
	// until. Of concurrent callers on any number of instances, at most one
	// gets a given certificate until its lease ends.
	LeaseOutbox(ctx context.Context, owner string, now, until time.Time, max int) ([]*OutboxEntry, error)
	// FinishOutbox finishes leased entries, each on its own terms (errs[i]
	// is the result for es[i]; a backend groups the writes where it can):
	// it records that the first es[i].Dispatched events of the
	// certificate were handed to the sinks (a stored count never goes
	// down), releases owner's lease, and clears the mark when no write
	// came after the version that was leased (es[i].Certificate.Version);
	// a later write keeps the certificate marked for the next round.
	// errs[i] is ErrConflict when owner no longer holds the lease (the
	// count is still recorded), ErrNotFound when there is no such
	// certificate. err is for the call as a whole (unavailable).
	FinishOutbox(ctx context.Context, owner string, es []*OutboxEntry) (errs []error, err error)
}

// OutboxEntry is a leased certificate of the outbox.
type OutboxEntry struct {
	// Certificate is the certificate as stored when it was leased.
	Certificate *cert.Certificate
	// Dispatched is how many of its events (Events[:Dispatched]) were
	// handed to the sinks before; the dispatcher sets it to how many it
	// handed before calling FinishOutbox.
	Dispatched int
}
