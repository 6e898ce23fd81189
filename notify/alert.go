package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/store"
)

// StaffStore is what StaffAlerts needs of the store: the outbox, the
// issuer's audit trail and its console users.
type StaffStore interface {
	store.Webhooks
	Issuer(ctx context.Context, id string) (*cert.Issuer, error)
	UpdateIssuer(ctx context.Context, is *cert.Issuer) error
	Users(ctx context.Context, issuer string) ([]*cert.User, error)
}

// StaffAlerts tells an issuer's administrators of a failure that needs
// them: a webhook certd disabled.
type StaffAlerts struct {
	Store StaffStore
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// MailStaffAlert deliveries carry this EventType in the outbox.
const staffAlertType = "webhook.disabled"

// maxIssuerWrites bounds the retries of the issuer's audit trail write
// against concurrent profile changes.
const maxIssuerWrites = 5

func (a *StaffAlerts) now() time.Time { return stamp(a.Now) }

// WebhookDisabled records a webhook_disabled event in the issuer's audit
// trail and enqueues one staff-alert e-mail to every active admin user
// of the issuer who has an e-mail address. hook is a webhook certd
// disabled (DisabledAt set): the event names that moment and the
// e-mails' ids derive from the id and that moment, so calling it again
// for the same disabling records and enqueues nothing new. Both steps are
// attempted even when one fails.
func (a *StaffAlerts) WebhookDisabled(ctx context.Context, hook *cert.Webhook) error {
	if hook.Issuer == "" {
		return nil // a watcher's endpoint: no issuer's staff to tell
	}
	if hook.DisabledAt == nil {
		return fmt.Errorf("webhook %s was not disabled by certd", hook.ID)
	}
	zh, en := disabledReason(hook.DisabledReason)
	host := hostOf(hook.URL)
	// The detail names the webhook by id, not by its URL, which may
	// change while it stays disabled: the same disabling, the same text.
	detail := fmt.Sprintf("webhook %s disabled at %s: %s", hook.ID, hook.DisabledAt.UTC().Format(time.RFC3339Nano), en)
	errTrail := a.record(ctx, hook.Issuer, detail)
	errMail := a.mail(ctx, hook, host, zh, en)
	return errors.Join(errTrail, errMail)
}

// Resume tells the admins of every webhook that certd disabled and that
// is still disabled (WebhookDisabled, which does nothing twice), so that
// an instance that stopped between disabling a webhook and telling the
// admins loses nothing: certd calls it at start. It returns how many
// disabled webhooks it looked at.
func (a *StaffAlerts) Resume(ctx context.Context) (int, error) {
	hooks, err := a.Store.Webhooks(ctx, "")
	if err != nil {
		return 0, fmt.Errorf("list webhooks: %w", err)
	}
	n := 0
	var errs []error
	for _, w := range hooks {
		if w.Active || w.DisabledAt == nil {
			continue
		}
		n++
		if err := a.WebhookDisabled(ctx, w); err != nil {
			errs = append(errs, err)
		}
	}
	return n, errors.Join(errs...)
}

func (a *StaffAlerts) record(ctx context.Context, issuer, detail string) error {
	for range maxIssuerWrites {
		is, err := a.Store.Issuer(ctx, issuer)
		if err != nil {
			return fmt.Errorf("issuer %s: %w", issuer, err)
		}
		if slices.ContainsFunc(is.Events, func(e cert.IssuerEvent) bool {
			return e.Type == cert.IssuerWebhookDisabled && e.Detail == detail
		}) {
			return nil // recorded before
		}
		is.AppendEvent(cert.IssuerEvent{Type: cert.IssuerWebhookDisabled, At: a.now(), Actor: cert.SystemActor, Detail: detail})
		err = a.Store.UpdateIssuer(ctx, is)
		if !errors.Is(err, store.ErrConflict) {
			if err != nil {
				return fmt.Errorf("record webhook_disabled for issuer %s: %w", issuer, err)
			}
			return nil
		}
	}
	return fmt.Errorf("record webhook_disabled for issuer %s: %w", issuer, store.ErrConflict)
}

func (a *StaffAlerts) mail(ctx context.Context, hook *cert.Webhook, host, zh, en string) error {
	subject := fmt.Sprintf("[certd] Webhook 已停用 / Webhook disabled: %s", host)
	text := fmt.Sprintf("certd 已停用签发机构 %s 的 Webhook %s（%s）：%s。\n"+
		"请在控制台的 Webhook 页面查看投递记录，修复接收端后重新启用。\n\n"+
		"certd disabled the webhook %s (%s) of issuer %s: %s.\n"+
		"See its delivery log on the console's Webhooks page, fix the receiver and enable it again.\n",
		hook.Issuer, hook.ID, host, zh, hook.ID, host, hook.Issuer, en)
	event := "webhook-disabled/" + hook.ID + "/" + strconv.FormatInt(hook.DisabledAt.UnixNano(), 10)
	return a.alert(ctx, hook.Issuer, event, staffAlertType, subject, text)
}

// OrganizationMailFailed tells the issuer's admins that an e-mail to a
// certified organization (its certificate, a status change, a reminder)
// could not be delivered for good, so that a clerk can check the
// certificate's organization.email. d is the failed delivery; the
// address is the organization's, which the issuer's staff entered
// themselves (a watcher's address is never named: watch mails are not
// reported). Once per delivery.
func (a *StaffAlerts) OrganizationMailFailed(ctx context.Context, d *cert.Delivery, job MailJob) error {
	if job.Kind != MailCertificateEvent && job.Kind != MailReminder {
		return nil
	}
	subject := "[certd] 邮件无法送达 / E-mail not delivered: " + job.Certificate
	text := fmt.Sprintf("发给证书 %s 所属组织的邮件（%s）无法送达：%s。\n"+
		"请在控制台核对该证书的组织邮箱（organization.email）。\n\n"+
		"The e-mail to the organization of certificate %s (%s) could not be delivered: %s.\n"+
		"Check the certificate's organization e-mail (organization.email) in the console.\n",
		job.Certificate, d.To, d.LastError, job.Certificate, d.To, d.LastError)
	return a.alert(ctx, d.Issuer, "mail-failed/"+d.ID, "mail.failed", subject, text)
}

// alert enqueues one staff-alert e-mail to every active admin user of the
// issuer with an e-mail address, with ids from event and the user.
func (a *StaffAlerts) alert(ctx context.Context, issuer, event, eventType, subject, text string) error {
	users, err := a.Store.Users(ctx, issuer)
	if err != nil {
		return fmt.Errorf("users of %s: %w", issuer, err)
	}
	payload, err := json.Marshal(MailJob{Kind: MailStaffAlert, Subject: subject, Text: text})
	if err != nil {
		return err
	}
	now := a.now()
	var errs []error
	for _, u := range users {
		if u.Role != cert.RoleAdmin || u.Disabled || u.Email == "" {
			continue
		}
		d := &cert.Delivery{
			ID: DeliveryID(event, "user:"+u.ID), Channel: cert.ChannelEmail, To: u.Email, Issuer: issuer,
			EventType: eventType, Payload: payload, Status: cert.DeliveryPending, NextAttemptAt: now, CreatedAt: now,
		}
		if err := a.Store.EnqueueDelivery(ctx, d); err != nil && !errors.Is(err, store.ErrAlreadyExists) {
			errs = append(errs, fmt.Errorf("enqueue the staff alert for user %s: %w", u.ID, err))
		}
	}
	return errors.Join(errs...)
}

// disabledReason says why a webhook was disabled, in Chinese and English.
func disabledReason(reason string) (zh, en string) {
	switch reason {
	case "gone":
		return "接收端返回 410 Gone", "the receiver answered 410 Gone"
	case "failing":
		return "投递连续失败 3 天", "its deliveries failed for 3 days"
	}
	return reason, reason
}

// hostOf is the host of a webhook URL: what alerts name, since the path
// or query may carry the receiver's token.
func hostOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "?"
	}
	return u.Host
}
