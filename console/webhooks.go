package console

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/notify"
)

// Webhooks is what the console needs of the webhook use cases
// (notify.Webhooks); the console passes the signed-in admin's principal,
// so the tenant rules are the API's.
type Webhooks interface {
	Create(ctx context.Context, p cert.Principal, req notify.WebhookRequest) (*cert.Webhook, string, error)
	Get(ctx context.Context, p cert.Principal, id string) (*cert.Webhook, error)
	List(ctx context.Context, p cert.Principal, issuer string) ([]*cert.Webhook, error)
	Update(ctx context.Context, p cert.Principal, id string, patch notify.WebhookPatch) (*cert.Webhook, error)
	Delete(ctx context.Context, p cert.Principal, id string) error
	Deliveries(ctx context.Context, p cert.Principal, id string, limit int) ([]*cert.Delivery, error)
	Redeliver(ctx context.Context, p cert.Principal, id, deliveryID string) error
}

// hookRow is one webhook in the list, with its newest delivery.
type hookRow struct {
	W    *cert.Webhook
	Last *cert.Delivery
}

// deliveryLogSize is how many deliveries an endpoint's page shows.
const deliveryLogSize = 50

var errWebhookAdmins = errors.Join(errors.New("only administrators manage webhooks"), cert.ErrForbidden)

func (c *Console) canHooks(q *request) error {
	if q.user.Role != cert.RoleAdmin || c.hooks == nil {
		return errWebhookAdmins
	}
	return nil
}

func (c *Console) webhooksPage(q *request, status int, extra map[string]any) error {
	if err := c.canHooks(q); err != nil {
		return err
	}
	ctx, p := q.r.Context(), q.principal()
	hooks, err := c.hooks.List(ctx, p, q.user.Issuer)
	if err != nil {
		return err
	}
	rows := make([]hookRow, 0, len(hooks))
	for _, w := range hooks {
		r := hookRow{W: w}
		last, err := c.hooks.Deliveries(ctx, p, w.ID, 1)
		if err != nil {
			return err
		}
		if len(last) > 0 {
			r.Last = last[0]
		}
		rows = append(rows, r)
	}
	data := map[string]any{"Hooks": rows, "EventTypes": cert.WebhookEventTypes, "Form": hookForm{Active: true}}
	for k, v := range extra {
		data[k] = v
	}
	return c.page(q, status, "webhooks", data)
}

func (c *Console) webhooks(q *request) error { return c.webhooksPage(q, http.StatusOK, nil) }

// hookForm is what the create and edit forms hold.
type hookForm struct {
	URL    string
	Events []string
	Active bool
}

func (f hookForm) Has(event string) bool { return slices.Contains(f.Events, event) }

func readHookForm(q *request) hookForm {
	_ = q.r.ParseForm()
	return hookForm{URL: q.r.PostFormValue("url"), Events: q.r.PostForm["events"], Active: q.r.PostFormValue("active") == "yes"}
}

// createWebhook registers an endpoint and shows its secret once.
func (c *Console) createWebhook(q *request) error {
	if err := c.canHooks(q); err != nil {
		return err
	}
	f := readHookForm(q)
	active := f.Active
	w, secret, err := c.hooks.Create(q.r.Context(), q.principal(), notify.WebhookRequest{Issuer: q.user.Issuer, URL: f.URL, Events: f.Events, Active: &active})
	var v *cert.ValidationError
	switch {
	case errors.As(err, &v):
		return c.webhooksPage(q, http.StatusUnprocessableEntity, map[string]any{"Errors": v.Fields, "Form": f})
	case err != nil:
		return err
	}
	c.log.Info("console: webhook created", "webhook", w.ID, "issuer", w.Issuer, "user", q.user.ID)
	return c.webhooksPage(q, http.StatusCreated, map[string]any{"Created": w, "Secret": secret})
}

func (c *Console) webhookPage(q *request, status int, id string, extra map[string]any) error {
	if err := c.canHooks(q); err != nil {
		return err
	}
	ctx, p := q.r.Context(), q.principal()
	w, err := c.hooks.Get(ctx, p, id)
	if err != nil {
		return err
	}
	log, err := c.hooks.Deliveries(ctx, p, id, deliveryLogSize)
	if err != nil {
		return err
	}
	data := map[string]any{"W": w, "Log": log, "EventTypes": cert.WebhookEventTypes,
		"Form": hookForm{URL: w.URL, Events: w.Events, Active: w.Active}}
	for k, v := range extra {
		data[k] = v
	}
	return c.page(q, status, "webhook", data)
}

func (c *Console) webhook(q *request) error {
	var extra map[string]any
	// After POST/redirect/GET, a note of what was done (a closed set).
	if done := q.r.URL.Query().Get("done"); done == "saved" || done == "redelivered" {
		extra = map[string]any{"Done": "webhooks." + done}
	}
	return c.webhookPage(q, http.StatusOK, q.r.PathValue("id"), extra)
}

// webhookPost handles an endpoint's forms by their "do" field: update
// (URL, events, active), delete (with the confirmation box) and
// redeliver (one delivery of the log).
func (c *Console) webhookPost(q *request) error {
	if err := c.canHooks(q); err != nil {
		return err
	}
	ctx, p, id := q.r.Context(), q.principal(), q.r.PathValue("id")
	var (
		err  error
		form *hookForm
		done string
	)
	switch do := q.r.PostFormValue("do"); do {
	case "update":
		f := readHookForm(q)
		form = &f
		events := f.Events
		if events == nil {
			events = []string{}
		}
		_, err = c.hooks.Update(ctx, p, id, notify.WebhookPatch{URL: &f.URL, Events: &events, Active: &f.Active})
		done = "saved"
	case "delete":
		if q.r.PostFormValue("confirm") != "yes" {
			err = cert.Invalid("confirm", tr(messages, q.lang, "confirm.irreversible"))
			break
		}
		if err = c.hooks.Delete(ctx, p, id); err == nil {
			c.log.Info("console: webhook deleted", "webhook", id, "user", q.user.ID)
			return seeOther(q.w, q.r, prefix+"/settings/webhooks")
		}
	case "redeliver":
		err = c.hooks.Redeliver(ctx, p, id, q.r.PostFormValue("delivery"))
		done = "redelivered"
	default:
		err = cert.Invalid("do", "must be update, delete or redeliver")
	}
	extra := map[string]any{}
	if form != nil {
		extra["Form"] = *form
	}
	var v *cert.ValidationError
	switch {
	case errors.As(err, &v):
		extra["Errors"] = v.Fields
		return c.webhookPage(q, http.StatusUnprocessableEntity, id, extra)
	case errors.Is(err, cert.ErrConflict):
		extra["Errors"] = []cert.FieldError{{Field: "delivery", Message: tr(messages, q.lang, "webhooks.inflight")}}
		return c.webhookPage(q, http.StatusConflict, id, extra)
	case err != nil:
		return err
	}
	return seeOther(q.w, q.r, prefix+"/settings/webhooks/"+url.PathEscape(id)+"?done="+done)
}

// disabledHooks lists the issuer's webhooks that certd turned off, for
// the dashboard of an admin (nil for other roles).
func (c *Console) disabledHooks(q *request) ([]*cert.Webhook, error) {
	if c.canHooks(q) != nil {
		return nil, nil
	}
	hooks, err := c.hooks.List(q.r.Context(), q.principal(), q.user.Issuer)
	if err != nil {
		return nil, err
	}
	var out []*cert.Webhook
	for _, w := range hooks {
		if !w.Active && w.DisabledReason != "" {
			out = append(out, w)
		}
	}
	return out, nil
}
