package notify

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/store"
)

// WebhookStore is what the webhook use cases need of the store.
type WebhookStore interface {
	store.Webhooks
	Issuer(ctx context.Context, id string) (*cert.Issuer, error)
	// WatcherWebhooks lists a watcher's own endpoints (store.Watches).
	WatcherWebhooks(ctx context.Context, watcher string) ([]*cert.Webhook, error)
}

// Webhooks is the use case behind /api/v1/webhooks: an issuer's admins
// register, change and remove the endpoints that receive its events and
// read their delivery logs.
type Webhooks struct {
	Store WebhookStore
	// Secrets seals the signing secrets before they are stored (the
	// deployment's KEK); without it Create fails rather than store a
	// secret in plaintext.
	Secrets SecretBox
	// AllowHTTP accepts http:// endpoints (--allow-http-webhooks).
	AllowHTTP bool
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

func (s *Webhooks) now() time.Time { return stamp(s.Now) }

// WebhookRequest creates a webhook.
type WebhookRequest struct {
	Issuer string   `json:"issuer"`
	URL    string   `json:"url"`
	Events []string `json:"events"`
	// Active defaults to true.
	Active *bool `json:"active"`
}

// WebhookPatch changes a webhook; absent fields stay.
type WebhookPatch struct {
	URL    *string   `json:"url"`
	Events *[]string `json:"events"`
	Active *bool     `json:"active"`
}

// maxEvents bounds the events filter (the known types, no duplicates).
var maxEvents = len(cert.WebhookEventTypes)

func checkEvents(events []string) ([]string, error) {
	if len(events) > maxEvents {
		return nil, cert.Invalid("events", fmt.Sprintf("must list at most %d event types", maxEvents))
	}
	var out []string
	for i, e := range events {
		if !slices.Contains(cert.WebhookEventTypes, e) {
			return nil, cert.Invalid(fmt.Sprintf("events[%d]", i), fmt.Sprintf("must be one of %v", cert.WebhookEventTypes))
		}
		if !slices.Contains(out, e) {
			out = append(out, e)
		}
	}
	return out, nil
}

// allowed returns ErrForbidden unless p is an admin of the issuer (or of
// the deployment).
func allowed(p cert.Principal, issuer string) error {
	if p.Role != cert.RoleAdmin || !p.CanRead(issuer) {
		return fmt.Errorf("webhooks need an admin key of the issuer: %w", cert.ErrForbidden)
	}
	return nil
}

// ownWatcherHook reports whether w is an endpoint of the watcher key p.
func ownWatcherHook(p cert.Principal, w *cert.Webhook) bool {
	return p.Role == cert.RoleWatcher && p.KeyID != "" && w.Watcher == p.KeyID
}

// Create registers a webhook and returns it with its signing secret,
// which is never shown again. A watcher key registers its own endpoint,
// which receives the changes of the certificates it watches.
func (s *Webhooks) Create(ctx context.Context, p cert.Principal, req WebhookRequest) (*cert.Webhook, string, error) {
	if p.Role == cert.RoleWatcher {
		return s.createForWatcher(ctx, p, req)
	}
	if req.Issuer == "" && !p.DeploymentAdmin() {
		req.Issuer = p.Issuer
	}
	if req.Issuer == "" {
		return nil, "", cert.Invalid("issuer", "is required: the id of the issuer whose events the webhook receives")
	}
	if err := allowed(p, req.Issuer); err != nil {
		return nil, "", err
	}
	if _, err := s.Store.Issuer(ctx, req.Issuer); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, "", cert.Invalid("issuer", "must be the id of an existing issuer")
		}
		return nil, "", err
	}
	return s.create(ctx, req, &cert.Webhook{Issuer: req.Issuer})
}

func (s *Webhooks) createForWatcher(ctx context.Context, p cert.Principal, req WebhookRequest) (*cert.Webhook, string, error) {
	if req.Issuer != "" {
		return nil, "", cert.Invalid("issuer", "must be empty with a watcher key: the endpoint receives the changes of the watchlist")
	}
	mine, err := s.Store.WatcherWebhooks(ctx, p.KeyID)
	if err != nil {
		return nil, "", err
	}
	if len(mine) >= MaxWatcherWebhooks {
		return nil, "", cert.Invalid("url", fmt.Sprintf("a watcher key may register at most %d endpoints; delete one first", MaxWatcherWebhooks))
	}
	return s.create(ctx, req, &cert.Webhook{Watcher: p.KeyID})
}

// create checks the URL and events of req and stores them as w (whose
// owner, an issuer or a watcher, the caller set) with a new signing
// secret, sealed: the store never holds it in clear.
func (s *Webhooks) create(ctx context.Context, req WebhookRequest, w *cert.Webhook) (*cert.Webhook, string, error) {
	if err := CheckURL(req.URL, s.AllowHTTP); err != nil {
		return nil, "", err
	}
	events, err := checkEvents(req.Events)
	if err != nil {
		return nil, "", err
	}
	secret, err := NewSecret()
	if err != nil {
		return nil, "", err
	}
	now := s.now()
	w.ID, w.URL, w.Events = "wh_"+cert.NewID(), req.URL, events
	w.Active, w.Secret, w.CreatedAt, w.UpdatedAt = req.Active == nil || *req.Active, secret, now, now
	if err := seal(s.Secrets, w); err != nil {
		return nil, "", err
	}
	if err := s.Store.CreateWebhook(ctx, w); err != nil {
		return nil, "", err
	}
	return w, secret, nil
}

// MaxWatcherWebhooks bounds the endpoints of one watcher key: each change
// of a watched certificate is one delivery per endpoint.
const MaxWatcherWebhooks = 10

// Get returns a webhook the principal may see.
func (s *Webhooks) Get(ctx context.Context, p cert.Principal, id string) (*cert.Webhook, error) {
	w, err := s.Store.Webhook(ctx, id)
	if err != nil {
		return nil, err
	}
	if ownWatcherHook(p, w) {
		return w, nil
	}
	if w.Watcher != "" && !p.DeploymentAdmin() || allowed(p, w.Issuer) != nil {
		// Another issuer's webhook does not exist for this caller.
		return nil, fmt.Errorf("webhook %s: %w", id, cert.ErrNotFound)
	}
	return w, nil
}

// List returns the webhooks of an issuer ("" for the caller's own, or
// every issuer's for a deployment admin).
func (s *Webhooks) List(ctx context.Context, p cert.Principal, issuer string) ([]*cert.Webhook, error) {
	if p.Role == cert.RoleWatcher {
		if issuer != "" {
			return nil, nil
		}
		return s.Store.WatcherWebhooks(ctx, p.KeyID)
	}
	if issuer == "" && !p.DeploymentAdmin() {
		issuer = p.Issuer
	}
	if issuer == "" {
		if p.Role != cert.RoleAdmin {
			return nil, fmt.Errorf("webhooks need an admin key: %w", cert.ErrForbidden)
		}
	} else if err := allowed(p, issuer); err != nil {
		return nil, err
	}
	return s.Store.Webhooks(ctx, issuer)
}

// Update changes a webhook; re-activating one that certd disabled clears
// the reason. The patch is applied to the stored webhook again when a
// concurrent write (a worker disabling it) wins the race.
func (s *Webhooks) Update(ctx context.Context, p cert.Principal, id string, patch WebhookPatch) (*cert.Webhook, error) {
	for attempt := 1; ; attempt++ {
		w, err := s.update(ctx, p, id, patch)
		if !errors.Is(err, store.ErrConflict) || attempt == 3 {
			return w, err
		}
	}
}

func (s *Webhooks) update(ctx context.Context, p cert.Principal, id string, patch WebhookPatch) (*cert.Webhook, error) {
	w, err := s.Get(ctx, p, id)
	if err != nil {
		return nil, err
	}
	if patch.URL != nil {
		if err := CheckURL(*patch.URL, s.AllowHTTP); err != nil {
			return nil, err
		}
		w.URL = *patch.URL
	}
	if patch.Events != nil {
		events, err := checkEvents(*patch.Events)
		if err != nil {
			return nil, err
		}
		w.Events = events
	}
	if patch.Active != nil {
		w.Active = *patch.Active
		if w.Active {
			w.DisabledReason, w.DisabledAt = "", nil
		}
	}
	w.UpdatedAt = s.now()
	if err := s.Store.UpdateWebhook(ctx, w); err != nil {
		return nil, err
	}
	return w, nil
}

// Delete removes a webhook.
func (s *Webhooks) Delete(ctx context.Context, p cert.Principal, id string) error {
	if _, err := s.Get(ctx, p, id); err != nil {
		return err
	}
	return s.Store.DeleteWebhook(ctx, id)
}

// Deliveries returns the newest deliveries of a webhook.
func (s *Webhooks) Deliveries(ctx context.Context, p cert.Principal, id string, limit int) ([]*cert.Delivery, error) {
	if _, err := s.Get(ctx, p, id); err != nil {
		return nil, err
	}
	return s.Store.Deliveries(ctx, id, limit)
}

// Redeliver makes a delivery of the webhook due now again, with the same
// id and payload. A disabled webhook must be enabled first; a delivery
// being attempted right now gives ErrConflict.
func (s *Webhooks) Redeliver(ctx context.Context, p cert.Principal, id, deliveryID string) error {
	w, err := s.Get(ctx, p, id)
	if err != nil {
		return err
	}
	if !w.Active {
		return cert.Invalid("active", "the webhook is not active: enable it (PATCH {\"active\": true}) before redelivering")
	}
	d, err := s.Store.Delivery(ctx, deliveryID)
	if err != nil {
		return err
	}
	if d.Webhook != id {
		return fmt.Errorf("delivery %s of webhook %s: %w", deliveryID, id, cert.ErrNotFound)
	}
	return s.Store.RetryDelivery(ctx, deliveryID, s.now())
}
