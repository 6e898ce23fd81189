package store

import (
	"context"
	"time"

	"github.com/certd/certd/cert"
)

// Watches stores watchlists: e-mail subscriptions of the public page and
// the API watches of watcher keys (cert.Watch). Every method is atomic on
// one document. Addresses and token hashes are stored as given; the store
// never logs them.
type Watches interface {
	// CreateWatch stores a new watch with Version 1 (set on w);
	// ErrAlreadyExists, storing nothing, when the id is taken (e-mail
	// subscriptions derive their id from the address and the certificate,
	// so two concurrent subscriptions of one address store one).
	CreateWatch(ctx context.Context, w *cert.Watch) error
	// Watch returns the watch with the id, or ErrNotFound.
	Watch(ctx context.Context, id string) (*cert.Watch, error)
	// UpdateWatch replaces the watch whose stored version is w.Version,
	// storing w with Version+1 (set on w): ErrConflict when the stored
	// version differs, ErrNotFound when there is none. Id, watcher,
	// address and certificate never change.
	UpdateWatch(ctx context.Context, w *cert.Watch) error
	// DeleteWatch removes the watch; ErrNotFound when there is none.
	DeleteWatch(ctx context.Context, id string) error
	// WatchByToken returns the watch whose ConfirmHash (confirm true) or
	// one of whose UnsubscribeHashes (confirm false) is hash, or
	// ErrNotFound.
	WatchByToken(ctx context.Context, hash string, confirm bool) (*cert.Watch, error)
	// WatchesOfCertificate lists every watch (e-mail and API, pending
	// included) whose Certificate is id, in id order.
	WatchesOfCertificate(ctx context.Context, id string) ([]*cert.Watch, error)
	// WatchesOfUSCC lists every watch whose USCC is uscc, in id order.
	WatchesOfUSCC(ctx context.Context, uscc string) ([]*cert.Watch, error)
	// WatchesOfEmail lists the e-mail subscriptions of an address, in id
	// order.
	WatchesOfEmail(ctx context.Context, email string) ([]*cert.Watch, error)
	// WatchesOfWatcher returns one page of a watcher's watches in id
	// order, after the id after ("" for the first page), at most limit
	// (1-1000; 0 means 100).
	WatchesOfWatcher(ctx context.Context, watcher, after string, limit int) ([]*cert.Watch, error)
	// CountWatches counts a watcher's watches.
	CountWatches(ctx context.Context, watcher string) (int, error)
	// CountWatchesSentSince counts the e-mail subscriptions whose
	// ClientKey is client and whose SentAt is not before since.
	CountWatchesSentSince(ctx context.Context, client string, since time.Time) (int, error)
	// DeleteExpiredWatches removes the pending watches whose ExpiresAt is
	// not after now (their addresses with them) and returns how many.
	DeleteExpiredWatches(ctx context.Context, now time.Time) (int, error)
	// WatcherWebhooks lists the webhooks whose Watcher is watcher, in id
	// order.
	WatcherWebhooks(ctx context.Context, watcher string) ([]*cert.Webhook, error)
}
