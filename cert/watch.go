package cert

import "time"

// RoleWatcher is the role of a verifier's API key: it reads public data,
// keeps a watchlist of certificates and receives their status changes by
// webhook; it issues and manages nothing. A watcher key belongs to no
// issuer.
const RoleWatcher Role = "watcher"

// WatchStatus is where a watch stands.
type WatchStatus string

// Watch statuses. An e-mail subscription is pending until its address
// confirms it (double opt-in); an API watch is confirmed when made.
const (
	WatchPending   WatchStatus = "pending"
	WatchConfirmed WatchStatus = "confirmed"
)

// MaxUnsubscribeTokens bounds the unsubscribe tokens a watch keeps: every
// notification carries a fresh one, and the links of the oldest mails
// stop working after this many.
const MaxUnsubscribeTokens = 16

// Watch is one subscription to the status changes of a certificate (and
// of its successors after a renewal) or, for an API watcher, of every
// certificate of an organization (USCC).
//
// An e-mail subscription has Email set and Watcher empty; an API watch has
// Watcher (the watcher's API key id) set and Email empty. The address is
// stored to send mail and never answered: its JSON field is hidden, as are
// the token hashes and the client key.
type Watch struct {
	ID string `json:"id"`
	// Watcher is the API key id of an API watch.
	Watcher string `json:"-"`
	// Email is the confirmed or pending address of an e-mail
	// subscription (normalized: trimmed, domain in lower case).
	Email string `json:"-"`
	// Certificate is the watched certificate's id (unless USCC is set).
	Certificate string `json:"certificate,omitempty"`
	// Issuer and Number are the printed number an API watch was made by
	// (Certificate holds the id it named then).
	Issuer string `json:"issuer,omitempty"`
	Number string `json:"number,omitempty"`
	// USCC, for an API watch, covers every certificate of the
	// organization, present and future.
	USCC   string      `json:"uscc,omitempty"`
	Status WatchStatus `json:"status"`
	// ConfirmHash is the hex SHA-256 of the pending confirmation token;
	// UnsubscribeHashes those of the live unsubscribe tokens, oldest
	// first, at most MaxUnsubscribeTokens.
	ConfirmHash       string   `json:"-"`
	UnsubscribeHashes []string `json:"-"`
	// ClientKey is the hex SHA-256 of the client network (api.ClientKey)
	// that asked for the subscription, for the per-client limit; SentAt
	// is when its last confirmation mail was enqueued.
	ClientKey string    `json:"-"`
	SentAt    time.Time `json:"-"`
	CreatedAt time.Time `json:"createdAt"`
	// ExpiresAt ends a pending subscription (zero once confirmed).
	ExpiresAt   time.Time  `json:"-"`
	ConfirmedAt *time.Time `json:"confirmedAt,omitempty"`
	Version     int64      `json:"-"`
}

// Live reports whether a pending watch has not expired, or the watch is
// confirmed.
func (w *Watch) Live(now time.Time) bool {
	return w.Status == WatchConfirmed || now.Before(w.ExpiresAt)
}

// ConfirmedBefore reports whether the watch was confirmed before t: an
// event recorded before the confirmation is not sent to it.
func (w *Watch) ConfirmedBefore(t time.Time) bool {
	return w.Status == WatchConfirmed && w.ConfirmedAt != nil && w.ConfirmedAt.Before(t)
}
