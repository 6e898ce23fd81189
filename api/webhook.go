package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v5"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/notify"
)

// Webhooks is the use case behind /api/v1/webhooks (notify.Webhooks).
type Webhooks interface {
	Create(ctx context.Context, p cert.Principal, req notify.WebhookRequest) (*cert.Webhook, string, error)
	Get(ctx context.Context, p cert.Principal, id string) (*cert.Webhook, error)
	List(ctx context.Context, p cert.Principal, issuer string) ([]*cert.Webhook, error)
	Update(ctx context.Context, p cert.Principal, id string, patch notify.WebhookPatch) (*cert.Webhook, error)
	Delete(ctx context.Context, p cert.Principal, id string) error
	Deliveries(ctx context.Context, p cert.Principal, id string, limit int) ([]*cert.Delivery, error)
	Redeliver(ctx context.Context, p cert.Principal, id, deliveryID string) error
}

func (s *Server) webhooks() (Webhooks, error) {
	if s.cfg.Webhooks == nil {
		return nil, fmt.Errorf("webhooks are not configured: %w", cert.ErrUnavailable)
	}
	return s.cfg.Webhooks, nil
}

func (s *Server) createWebhook(c *echo.Context) error {
	wh, err := s.webhooks()
	if err != nil {
		return err
	}
	var req notify.WebhookRequest
	if err := decodeJSON(c, &req, maxBody); err != nil {
		return err
	}
	w, secret, err := wh.Create(c.Request().Context(), principal(c), req)
	if err != nil {
		return err
	}
	s.log.Info("webhook created", "request_id", requestID(c), "webhook", w.ID, "issuer", w.Issuer, "actor", principal(c).Actor())
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusCreated, struct {
		*cert.Webhook
		// Secret is answered once, here.
		Secret string `json:"secret"`
	}{w, secret})
}

func (s *Server) listWebhooks(c *echo.Context) error {
	wh, err := s.webhooks()
	if err != nil {
		return err
	}
	all, err := wh.List(c.Request().Context(), principal(c), c.QueryParam("issuer"))
	if err != nil {
		return err
	}
	if all == nil {
		all = []*cert.Webhook{}
	}
	return c.JSON(http.StatusOK, struct {
		Items []*cert.Webhook `json:"items"`
	}{all})
}

func (s *Server) getWebhook(c *echo.Context) error {
	wh, err := s.webhooks()
	if err != nil {
		return err
	}
	w, err := wh.Get(c.Request().Context(), principal(c), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, w)
}

func (s *Server) patchWebhook(c *echo.Context) error {
	wh, err := s.webhooks()
	if err != nil {
		return err
	}
	patch, err := decodeWebhookPatch(c)
	if err != nil {
		return err
	}
	w, err := wh.Update(c.Request().Context(), principal(c), c.Param("id"), patch)
	if err != nil {
		return err
	}
	s.log.Info("webhook changed", "request_id", requestID(c), "webhook", w.ID, "actor", principal(c).Actor())
	return c.JSON(http.StatusOK, w)
}

func (s *Server) deleteWebhook(c *echo.Context) error {
	wh, err := s.webhooks()
	if err != nil {
		return err
	}
	if err := wh.Delete(c.Request().Context(), principal(c), c.Param("id")); err != nil {
		return err
	}
	s.log.Info("webhook deleted", "request_id", requestID(c), "webhook", c.Param("id"), "actor", principal(c).Actor())
	return c.NoContent(http.StatusNoContent)
}

func (s *Server) webhookDeliveries(c *echo.Context) error {
	wh, err := s.webhooks()
	if err != nil {
		return err
	}
	limit := 0
	if v := c.QueryParam("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return cert.Invalid("limit", "must be a whole number from 1 to 1000")
		}
		limit = n
	}
	ds, err := wh.Deliveries(c.Request().Context(), principal(c), c.Param("id"), limit)
	if err != nil {
		return err
	}
	if ds == nil {
		ds = []*cert.Delivery{}
	}
	return c.JSON(http.StatusOK, struct {
		Items []*cert.Delivery `json:"items"`
	}{ds})
}

func (s *Server) redeliverWebhook(c *echo.Context) error {
	wh, err := s.webhooks()
	if err != nil {
		return err
	}
	if err := wh.Redeliver(c.Request().Context(), principal(c), c.Param("id"), c.Param("delivery")); err != nil {
		return err
	}
	return c.NoContent(http.StatusAccepted)
}

// webhookData is the data of a webhook message: the certificate as the
// API shows it, with the event or the reminder the message is about.
type webhookData struct {
	Certificate certificateResource `json:"certificate"`
	Event       *cert.Event         `json:"event,omitempty"`
	Reminder    *notify.Reminder    `json:"reminder,omitempty"`
}

// WebhookData is the data of the webhook message for ev (notify.WebhookSink).
// The organization's confidential flag is read as the message is made; a
// store that cannot answer leaves it false (the certificate's own flag and
// the effective value still show the certificate's).
func (s *Server) WebhookData(ev notify.Event) any {
	orgs, _ := s.cfg.Issuing.ConfidentialOrganizations(context.Background(), ev.Certificate.Issuer)
	return webhookData{Certificate: s.resource(ev.Certificate, orgs), Event: ev.Event, Reminder: ev.Reminder}
}

// decodeWebhookPatch reads the body of PATCH /api/v1/webhooks/{id}: a JSON
// merge patch (RFC 7396; application/merge-patch+json or
// application/json) of url, events and active. An absent member stays;
// "events": null removes the filter (all events, as when it was
// omitted at creation); url and active cannot be removed.
func decodeWebhookPatch(c *echo.Context) (notify.WebhookPatch, error) {
	r := c.Request()
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/merge-patch+json") {
		// The same document; decodeJSON checks the type of plain JSON.
		r.Header.Set("Content-Type", "application/json")
	}
	var raw struct {
		URL    json.RawMessage `json:"url"`
		Events json.RawMessage `json:"events"`
		Active json.RawMessage `json:"active"`
	}
	if err := decodeJSON(c, &raw, maxBody); err != nil {
		return notify.WebhookPatch{}, err
	}
	var p notify.WebhookPatch
	isNull := func(m json.RawMessage) bool { return string(m) == "null" }
	if raw.URL != nil {
		if isNull(raw.URL) || json.Unmarshal(raw.URL, &p.URL) != nil {
			return p, cert.Invalid("url", "must be the endpoint's URL as a string; it cannot be removed")
		}
	}
	if raw.Events != nil {
		events := []string{}
		if !isNull(raw.Events) && json.Unmarshal(raw.Events, &events) != nil {
			return p, cert.Invalid("events", "must be a list of event types, or null or [] for all")
		}
		p.Events = &events
	}
	if raw.Active != nil {
		if isNull(raw.Active) || json.Unmarshal(raw.Active, &p.Active) != nil {
			return p, cert.Invalid("active", "must be true or false")
		}
	}
	return p, nil
}
