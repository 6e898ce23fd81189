package watch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/notify"
	"github.com/certd/certd/store"
)

// Store is what the watchlists need of the store.
type Store interface {
	store.Watches
	EnqueueDelivery(ctx context.Context, d *cert.Delivery) error
	Delivery(ctx context.Context, id string) (*cert.Delivery, error)
	Certificate(ctx context.Context, id string) (*cert.Certificate, error)
	CertificateByNumber(ctx context.Context, issuer, number string) (*cert.Certificate, error)
	APIKey(ctx context.Context, id string) (*cert.APIKey, error)
}

// Limits of the public subscription.
const (
	// MaxPendingPerAddress is how many unconfirmed subscriptions one
	// address may have at once.
	MaxPendingPerAddress = 3
	// MaxPerClientHour is how many confirmation mails one client network
	// may cause per hour.
	MaxPerClientHour = 10
	// PendingFor is how long a confirmation link works.
	PendingFor = 48 * time.Hour
	// resendAfter is how long a pending subscription waits before the
	// same request sends its confirmation again.
	resendAfter = time.Hour
)

// Outcome says what a subscription request did; the page answers the same
// for every outcome (no oracle), the metrics count them.
type Outcome string

// Outcomes of Subscribe.
const (
	// Sent: a confirmation mail was enqueued.
	Sent Outcome = "sent"
	// Unchanged: the address already watches the certificate, or its
	// confirmation was sent less than an hour ago.
	Unchanged Outcome = "unchanged"
	// LimitedAddress and LimitedClient: refused by a limit.
	LimitedAddress Outcome = "limited_address"
	LimitedClient  Outcome = "limited_client"
)

// Service is the use case of watchlists: public subscriptions and API
// watches.
type Service struct {
	Store Store
	// PublicURL is the base of the links in mails, without trailing
	// slash.
	PublicURL string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// MaxPerWatcher bounds a watcher's watches; 0 means MaxPerWatcher.
	MaxPerWatcher int

	// subscribing makes the limits' counts and the write that follows
	// them one step for the requests this instance serves (a burst of
	// concurrent requests from one client cannot all pass the count).
	subscribing sync.Mutex
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC().Truncate(time.Millisecond)
	}
	return time.Now().UTC().Truncate(time.Millisecond)
}

// ConfirmURL is the link of a confirmation mail.
func ConfirmURL(publicURL, token string) string {
	return strings.TrimRight(publicURL, "/") + "/watch/confirm?token=" + url.QueryEscape(token)
}

// UnsubscribeURL is the one-click unsubscribe link of a notification.
func UnsubscribeURL(publicURL, token string) string {
	return strings.TrimRight(publicURL, "/") + "/watch/unsubscribe?token=" + url.QueryEscape(token)
}

// Subscribe asks for notifications of a certificate's changes to an
// address: it stores a pending subscription and enqueues the mail with
// the confirmation link, unless the address already watches it or a limit
// is reached. client is the requester's network (api.ClientKey), counted
// for the per-client limit and stored only hashed. Errors: an invalid
// address (cert.ErrInvalid, field "email"), an unknown certificate
// (ErrNotFound), the store.
func (s *Service) Subscribe(ctx context.Context, certID, email, client string) (Outcome, error) {
	addr, err := NormalizeEmail(email)
	if err != nil {
		return "", err
	}
	id, ok := cert.NormalizeID(certID)
	if !ok {
		return "", fmt.Errorf("certificate: %w", cert.ErrNotFound)
	}
	c, err := s.Store.Certificate(ctx, id)
	if err != nil {
		return "", fmt.Errorf("certificate %s: %w", id, err)
	}
	s.subscribing.Lock()
	defer s.subscribing.Unlock()
	now := s.now()
	ck := clientHash(client)
	n, err := s.Store.CountWatchesSentSince(ctx, ck, now.Add(-time.Hour))
	if err != nil {
		return "", err
	}
	if n >= MaxPerClientHour {
		return LimitedClient, nil
	}
	mine, err := s.Store.WatchesOfEmail(ctx, addr)
	if err != nil {
		return "", err
	}
	wid := hashID("ws_", "email", addr, c.ID)
	var existing *cert.Watch
	pending := 0
	for _, w := range mine {
		if w.ID == wid {
			existing = w
		} else if w.Status == cert.WatchPending && w.Live(now) {
			pending++
		}
	}
	switch {
	case existing != nil && existing.Status == cert.WatchConfirmed:
		return Unchanged, nil
	case existing != nil && existing.Live(now) && now.Sub(existing.SentAt) < resendAfter:
		return Unchanged, nil
	case pending >= MaxPendingPerAddress:
		return LimitedAddress, nil
	}
	token, hash := newToken()
	if existing != nil {
		existing.ConfirmHash, existing.ClientKey, existing.SentAt, existing.ExpiresAt = hash, ck, now, now.Add(PendingFor)
		if err := s.Store.UpdateWatch(ctx, existing); errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrNotFound) {
			return Unchanged, nil // a concurrent request of the same address won
		} else if err != nil {
			return "", err
		}
	} else {
		w := &cert.Watch{
			ID: wid, Email: addr, Certificate: c.ID, Status: cert.WatchPending, ConfirmHash: hash,
			ClientKey: ck, SentAt: now, CreatedAt: now, ExpiresAt: now.Add(PendingFor),
		}
		if err := s.Store.CreateWatch(ctx, w); errors.Is(err, store.ErrAlreadyExists) {
			return Unchanged, nil
		} else if err != nil {
			return "", err
		}
	}
	job := notify.MailJob{Kind: notify.MailWatchConfirm, Certificate: c.ID, ConfirmURL: ConfirmURL(s.PublicURL, token)}
	d, err := mailDelivery(notify.DeliveryID("watch-confirm/"+hash, "watch:"+wid), addr, c, "watch.confirm", job, now)
	if err != nil {
		return "", err
	}
	if err := s.Store.EnqueueDelivery(ctx, d); err != nil && !errors.Is(err, store.ErrAlreadyExists) {
		return "", fmt.Errorf("enqueue confirmation: %w", err)
	}
	return Sent, nil
}

// mailDelivery is a pending e-mail delivery of a job to an address.
func mailDelivery(id, to string, c *cert.Certificate, eventType string, job notify.MailJob, now time.Time) (*cert.Delivery, error) {
	body, err := json.Marshal(job)
	if err != nil {
		return nil, fmt.Errorf("encode %s mail: %w", job.Kind, err)
	}
	return &cert.Delivery{
		ID: id, Channel: cert.ChannelEmail, To: to, Certificate: c.ID, Issuer: c.Issuer, EventType: eventType,
		Payload: body, Status: cert.DeliveryPending, NextAttemptAt: now, CreatedAt: now,
	}, nil
}

// ErrTokenInvalid is the cause of a confirmation link that is unknown,
// used or expired.
var ErrTokenInvalid = fmt.Errorf("the link is unknown, used or expired: %w", cert.ErrNotFound)

// Confirm confirms the pending subscription of a confirmation token; from
// then on the address receives the certificate's changes. An unknown,
// used or expired token gives ErrTokenInvalid.
func (s *Service) Confirm(ctx context.Context, token string) error {
	hash := hashToken(token)
	if hash == "" {
		return ErrTokenInvalid
	}
	for range 3 {
		w, err := s.Store.WatchByToken(ctx, hash, true)
		if errors.Is(err, store.ErrNotFound) {
			return ErrTokenInvalid
		} else if err != nil {
			return err
		}
		now := s.now()
		if w.Status != cert.WatchPending || !w.Live(now) {
			return ErrTokenInvalid
		}
		w.Status, w.ConfirmHash, w.ConfirmedAt, w.ExpiresAt = cert.WatchConfirmed, "", &now, time.Time{}
		err = s.Store.UpdateWatch(ctx, w)
		if !errors.Is(err, store.ErrConflict) {
			return err
		}
	}
	return fmt.Errorf("confirm: %w", store.ErrConflict)
}

// Unsubscribe removes the subscription of an unsubscribe token. An
// unknown token is not an error: the answer is the same either way.
func (s *Service) Unsubscribe(ctx context.Context, token string) error {
	hash := hashToken(token)
	if hash == "" {
		return nil
	}
	w, err := s.Store.WatchByToken(ctx, hash, false)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	if err := s.Store.DeleteWatch(ctx, w.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	return nil
}

// Purge deletes the pending subscriptions whose 48 hours have passed,
// with their addresses; certd calls it on its periodic sweep.
func (s *Service) Purge(ctx context.Context) (int, error) {
	return s.Store.DeleteExpiredWatches(ctx, s.now())
}
