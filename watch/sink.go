package watch

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/notify"
	"github.com/certd/certd/store"
)

// StatusTypes are the event types watchers are told of: status changes,
// not issuance, surveillance records or reminders.
var StatusTypes = []string{
	cert.WebhookCertificateSuspended, cert.WebhookCertificateReinstated, cert.WebhookCertificateWithdrawn,
	cert.WebhookCertificateCancelled, cert.WebhookCertificateExpired, cert.WebhookCertificateRenewed,
	cert.WebhookCertificateRevised,
}

// MaxPredecessors is how far back a change looks for watches: a watch on
// a certificate carries to its successors over this many renewals or
// revisions.
const MaxPredecessors = 10

// Sink is the notify.Sink of watchlists: for a status change of a
// certificate it enqueues one e-mail per confirmed subscription of the
// certificate or of a predecessor, and one webhook delivery per active
// webhook of every watcher that watches it (by id, number, USCC or a
// predecessor). Subscriptions confirmed after the change was recorded get
// nothing of it. Delivery ids derive from the event and the recipient, so
// enqueueing an event twice stores nothing new.
type Sink struct {
	Store Store
	// PublicURL is the base of the verification and unsubscribe links.
	PublicURL string
	// Schemes derive the status in webhook data; nil leaves it out.
	Schemes cert.Schemes
	// Organizations tells which organizations their issuer keeps
	// confidential: a watch by USCC does not see their certificates (nor
	// any certificate marked confidential), as public search does not;
	// watches by id or number still do. Nil: only the certificates' own
	// flags count.
	Organizations store.Organizations
}

var _ notify.Sink = (*Sink)(nil)

// Enqueue implements notify.Sink.
func (s *Sink) Enqueue(ctx context.Context, ev notify.Event, now time.Time) error {
	if ev.Event == nil || ev.Certificate == nil || !slices.Contains(StatusTypes, ev.Type) {
		return nil
	}
	c := ev.Certificate
	chain, err := s.chain(ctx, c)
	if err != nil {
		return err
	}
	watches, err := s.watchesOf(ctx, chain)
	if err != nil {
		return err
	}
	now = now.UTC().Truncate(time.Millisecond)
	watchers := map[string]bool{}
	var order []string
	for _, w := range watches {
		if !w.ConfirmedBefore(ev.RecordedAt) {
			continue
		}
		if w.Watcher != "" {
			if !watchers[w.Watcher] {
				watchers[w.Watcher] = true
				order = append(order, w.Watcher)
			}
			continue
		}
		if w.Email == "" {
			continue
		}
		if err := s.mail(ctx, ev, w, now); err != nil {
			return err
		}
	}
	if len(order) == 0 {
		return nil
	}
	m := notify.Message{Type: ev.Type, Timestamp: ev.At.UTC(), Data: s.public(c, ev, now)}
	for _, watcher := range order {
		// A revoked watcher key's watches and endpoints stay for the
		// record but receive nothing.
		k, err := s.Store.APIKey(ctx, watcher)
		if errors.Is(err, store.ErrNotFound) || err == nil && k.RevokedAt != nil {
			continue
		} else if err != nil {
			return fmt.Errorf("watcher key: %w", err)
		}
		hooks, err := s.Store.WatcherWebhooks(ctx, watcher)
		if err != nil {
			return fmt.Errorf("webhooks of a watcher: %w", err)
		}
		for _, h := range hooks {
			if !h.Active || !h.Wants(ev.Type) {
				continue
			}
			d, err := notify.NewDelivery(h, ev.ID, m, now)
			if err != nil {
				return err
			}
			d.Certificate = c.ID
			if err := s.Store.EnqueueDelivery(ctx, d); err != nil && !errors.Is(err, store.ErrAlreadyExists) {
				return fmt.Errorf("enqueue %s for webhook %s: %w", ev.ID, h.ID, err)
			}
		}
	}
	return nil
}

// chain returns c and its predecessors, newest first, at most
// MaxPredecessors of them.
func (s *Sink) chain(ctx context.Context, c *cert.Certificate) ([]*cert.Certificate, error) {
	out := []*cert.Certificate{c}
	seen := map[string]bool{c.ID: true}
	for prev := c.Supersedes; prev != "" && len(out) <= MaxPredecessors && !seen[prev]; {
		p, err := s.Store.Certificate(ctx, prev)
		if errors.Is(err, store.ErrNotFound) {
			break
		} else if err != nil {
			return nil, fmt.Errorf("predecessor %s: %w", prev, err)
		}
		seen[prev] = true
		out = append(out, p)
		prev = p.Supersedes
	}
	return out, nil
}

// watchesOf collects the watches of the certificates and of their
// organizations, each once.
func (s *Sink) watchesOf(ctx context.Context, chain []*cert.Certificate) ([]*cert.Watch, error) {
	var out []*cert.Watch
	seen := map[string]bool{}
	add := func(ws []*cert.Watch) {
		for _, w := range ws {
			if !seen[w.ID] {
				seen[w.ID] = true
				out = append(out, w)
			}
		}
	}
	usccs := map[string]bool{}
	for _, c := range chain {
		ws, err := s.Store.WatchesOfCertificate(ctx, c.ID)
		if err != nil {
			return nil, fmt.Errorf("watches of %s: %w", c.ID, err)
		}
		add(ws)
		hidden, err := s.hidden(ctx, c)
		if err != nil {
			return nil, err
		}
		if u := c.Organization.USCC; u != "" && !usccs[u] && !hidden {
			usccs[u] = true
			ws, err := s.Store.WatchesOfUSCC(ctx, u)
			if err != nil {
				return nil, fmt.Errorf("watches of an organization: %w", err)
			}
			add(ws)
		}
	}
	return out, nil
}

// hidden reports whether c is kept from searches by organization: its own
// confidential flag, or its organization's at its issuer.
func (s *Sink) hidden(ctx context.Context, c *cert.Certificate) (bool, error) {
	if c.Confidential {
		return true, nil
	}
	if s.Organizations == nil || c.Organization.USCC == "" {
		return false, nil
	}
	orgs, err := s.Organizations.ConfidentialOrganizations(ctx, c.Issuer)
	if err != nil {
		return false, fmt.Errorf("confidential organizations of %s: %w", c.Issuer, err)
	}
	return slices.Contains(orgs, c.Organization.USCC), nil
}

// mail enqueues the notification of ev to an e-mail subscription, with a
// fresh unsubscribe token whose hash the watch keeps.
func (s *Sink) mail(ctx context.Context, ev notify.Event, w *cert.Watch, now time.Time) error {
	id := notify.DeliveryID(ev.ID, "watch:"+w.ID)
	if _, err := s.Store.Delivery(ctx, id); err == nil {
		return nil // enqueued before (a crash, another instance)
	} else if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	token, hash := newToken()
	for attempt := 0; ; attempt++ {
		w.UnsubscribeHashes = append(w.UnsubscribeHashes, hash)
		if n := len(w.UnsubscribeHashes); n > cert.MaxUnsubscribeTokens {
			w.UnsubscribeHashes = w.UnsubscribeHashes[n-cert.MaxUnsubscribeTokens:]
		}
		err := s.Store.UpdateWatch(ctx, w)
		if errors.Is(err, store.ErrNotFound) {
			return nil // unsubscribed meanwhile
		}
		if !errors.Is(err, store.ErrConflict) || attempt == 3 {
			if err != nil {
				return fmt.Errorf("store unsubscribe token: %w", err)
			}
			break
		}
		fresh, err := s.Store.Watch(ctx, w.ID)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		} else if err != nil {
			return err
		}
		*w = *fresh
	}
	seq := 0
	if ev.Event != nil {
		seq = ev.Event.Seq
	}
	job := notify.MailJob{
		Kind: notify.MailWatchEvent, Certificate: ev.Certificate.ID, Type: ev.Type, Seq: seq,
		UnsubscribeURL: UnsubscribeURL(s.PublicURL, token),
	}
	d, err := mailDelivery(id, w.Email, ev.Certificate, ev.Type, job, now)
	if err != nil {
		return err
	}
	if err := s.Store.EnqueueDelivery(ctx, d); err != nil && !errors.Is(err, store.ErrAlreadyExists) {
		return fmt.Errorf("enqueue a watch notification: %w", err)
	}
	return nil
}

// Public is the data of a watcher's webhook delivery: what the public
// verification page shows of the certificate, never its internal fields
// (the organization's contact address, the credential's status position).
type Public struct {
	Certificate PublicCertificate `json:"certificate"`
	Event       PublicEvent       `json:"event"`
}

// PublicCertificate is the public part of a certificate.
type PublicCertificate struct {
	ID           string             `json:"id"`
	Number       string             `json:"number"`
	Issuer       string             `json:"issuer"`
	Scheme       string             `json:"scheme"`
	Standard     string             `json:"standard,omitempty"`
	Category     string             `json:"category,omitempty"`
	Level        int                `json:"level,omitempty"`
	Scope        string             `json:"scope,omitempty"`
	ScopeEn      string             `json:"scopeEn,omitempty"`
	Organization PublicOrganization `json:"organization"`
	Status       cert.Status        `json:"status,omitempty"`
	ValidFrom    time.Time          `json:"validFrom"`
	ValidUntil   time.Time          `json:"validUntil"`
	Supersedes   string             `json:"supersedes,omitempty"`
	SupersededBy string             `json:"supersededBy,omitempty"`
	VerifyURL    string             `json:"verifyUrl"`
}

// PublicOrganization is the public part of the certified organization.
type PublicOrganization struct {
	Name    string `json:"name"`
	NameEn  string `json:"nameEn,omitempty"`
	USCC    string `json:"uscc"`
	Country string `json:"country,omitempty"`
}

// PublicEvent is the change the delivery announces.
type PublicEvent struct {
	Type string    `json:"type"`
	At   time.Time `json:"at"`
	// Related is the successor of a renewal or revision.
	Related string `json:"related,omitempty"`
}

func (s *Sink) public(c *cert.Certificate, ev notify.Event, now time.Time) Public {
	p := Public{
		Certificate: PublicCertificate{
			ID: c.ID, Number: c.Number, Issuer: c.Issuer, Scheme: c.Scheme, Standard: c.Standard, Category: c.Category,
			Level: c.Level, Scope: c.Scope, ScopeEn: c.ScopeEn,
			Organization: PublicOrganization{Name: c.Organization.Name, NameEn: c.Organization.NameEn, USCC: c.Organization.USCC, Country: c.Organization.Country},
			ValidFrom:    c.ValidFrom.UTC(), ValidUntil: c.ValidUntil.UTC(), Supersedes: c.Supersedes, SupersededBy: c.SupersededBy,
			VerifyURL: s.PublicURL + "/v/" + c.ID,
		},
		Event: PublicEvent{Type: ev.Type, At: ev.At.UTC(), Related: ev.Event.Related},
	}
	if sc := s.Schemes[c.Scheme]; sc != nil {
		p.Certificate.Status = cert.StatusAt(c, sc, now).Status
	}
	return p
}
