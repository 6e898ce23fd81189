package cert

import "time"

// Webhook event types (DESIGN section 12).
const (
	WebhookCertificateIssued               = "certificate.issued"
	WebhookCertificateSurveillanceRecorded = "certificate.surveillance_recorded"
	WebhookCertificateSuspended            = "certificate.suspended"
	WebhookCertificateReinstated           = "certificate.reinstated"
	WebhookCertificateWithdrawn            = "certificate.withdrawn"
	WebhookCertificateCancelled            = "certificate.cancelled"
	WebhookCertificateExpired              = "certificate.expired"
	WebhookCertificateRenewed              = "certificate.renewed"
	WebhookCertificateRevised              = "certificate.revised"
	WebhookReminderSurveillance            = "reminder.surveillance"
	WebhookReminderExpiry                  = "reminder.expiry"
)

// WebhookEventTypes lists every event type a webhook may subscribe to.
var WebhookEventTypes = []string{
	WebhookCertificateIssued, WebhookCertificateSurveillanceRecorded,
	WebhookCertificateSuspended, WebhookCertificateReinstated,
	WebhookCertificateWithdrawn, WebhookCertificateCancelled,
	WebhookCertificateExpired, WebhookCertificateRenewed,
	WebhookCertificateRevised, WebhookReminderSurveillance, WebhookReminderExpiry,
}

// Webhook is an issuer's endpoint that receives its events.
type Webhook struct {
	ID     string `json:"id"`
	Issuer string `json:"issuer"`
	URL    string `json:"url"`
	// Events the endpoint receives; empty means all.
	Events []string `json:"events,omitempty"`
	Active bool     `json:"active"`
	// Secret signs the deliveries ("whsec_..."); it is shown to the
	// client once, when the webhook is created.
	Secret string `json:"-"`
	// DisabledReason says why certd turned Active off ("gone": the
	// receiver answered 410; "failing": deliveries failed for 3 days).
	DisabledReason string    `json:"disabledReason,omitempty"`
	CreatedAt      time.Time `json:"createdAt"`
	UpdatedAt      time.Time `json:"updatedAt"`
	Version        int64     `json:"-"`
}

// Wants reports whether the webhook subscribes to the event type.
func (w *Webhook) Wants(eventType string) bool {
	if len(w.Events) == 0 {
		return true
	}
	for _, e := range w.Events {
		if e == eventType {
			return true
		}
	}
	return false
}

// DeliveryStatus is where a delivery stands.
type DeliveryStatus string

// Delivery statuses.
const (
	DeliveryPending   DeliveryStatus = "pending"
	DeliveryDelivered DeliveryStatus = "delivered"
	// DeliveryFailed: retries ran out, the endpoint is gone or disabled.
	DeliveryFailed DeliveryStatus = "failed"
)

// Delivery channels.
const (
	// ChannelWebhook posts the payload to a webhook (deliveries stored
	// before e-mail existed have an empty channel, which means the same).
	ChannelWebhook = "webhook"
	// ChannelEmail sends an e-mail; the payload says what to write.
	ChannelEmail = "email"
)

// Delivery is one message to one webhook or one e-mail address, attempted
// until it succeeds or gives up (the outbox of DESIGN section 12). Its ID is
// the webhook-id the receiver sees on every attempt.
type Delivery struct {
	ID string `json:"id"`
	// Channel is ChannelWebhook ("" in older deliveries) or ChannelEmail.
	Channel string `json:"channel,omitempty"`
	// Webhook is the endpoint of a ChannelWebhook delivery.
	Webhook string `json:"webhook,omitempty"`
	// To is the recipient of a ChannelEmail delivery; it is never
	// answered (watchers' addresses stay private).
	To string `json:"-"`
	// Certificate is the id of the certificate the message is about.
	Certificate string `json:"certificate,omitempty"`
	Issuer      string `json:"issuer"`
	EventType   string `json:"type"`
	// Payload is the JSON body sent on every attempt (ChannelWebhook), or
	// what the mailer needs to compose the e-mail (ChannelEmail).
	Payload       []byte         `json:"-"`
	Status        DeliveryStatus `json:"status"`
	Attempts      int            `json:"attempts"`
	NextAttemptAt time.Time      `json:"nextAttemptAt"`
	// LeaseOwner holds the delivery until LeaseUntil; another instance
	// may take it only after that.
	LeaseOwner     string     `json:"-"`
	LeaseUntil     time.Time  `json:"-"`
	LastAttemptAt  *time.Time `json:"lastAttemptAt,omitempty"`
	LastStatusCode int        `json:"lastStatusCode,omitempty"`
	LastError      string     `json:"lastError,omitempty"`
	CreatedAt      time.Time  `json:"createdAt"`
}

// IsEmail reports whether the delivery is an e-mail.
func (d *Delivery) IsEmail() bool { return d.Channel == ChannelEmail }
