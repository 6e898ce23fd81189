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

// Webhook is an issuer's (or a watcher's) endpoint that receives its events.
type Webhook struct {
	ID     string `json:"id"`
	Issuer string `json:"issuer"`
	// Watcher, set instead of Issuer, is the API key id of the watcher
	// that owns the endpoint: it receives the status changes of the
	// certificates on the watcher's watchlist.
	Watcher string `json:"watcher,omitempty"`
	URL     string `json:"url"`
	// Events the endpoint receives; empty means all.
	Events []string `json:"events,omitempty"`
	Active bool     `json:"active"`
	// Secret signs the deliveries ("whsec_..."); it is shown to the
	// client once, when the webhook is created. Stores hold it only in
	// records written before secrets were sealed (moved into SealedSecret
	// at start); otherwise it is the opened SealedSecret, in memory.
	Secret string `json:"-"`
	// SealedSecret is the secret sealed under the deployment's KEK, bound
	// to the webhook's id: what the stores keep.
	SealedSecret []byte `json:"-"`
	// DisabledReason says why certd turned Active off ("gone": the
	// receiver answered 410; "failing": deliveries failed for 3 days).
	DisabledReason string `json:"disabledReason,omitempty"`
	// DisabledAt is when certd turned Active off (nil otherwise); it
	// names that disabling, so its staff alerts are sent once.
	DisabledAt *time.Time `json:"disabledAt,omitempty"`
	CreatedAt  time.Time  `json:"createdAt"`
	UpdatedAt  time.Time  `json:"updatedAt"`
	Version    int64      `json:"-"`
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
	// Seq is the place of the message's event among the certificate's
	// events (cert.Event.Seq); 0 for messages that are not about one
	// event (reminders, confirmations) and for deliveries stored before
	// it was kept. Deliveries of one group go in (CreatedAt, Seq) order.
	Seq       int    `json:"-"`
	Issuer    string `json:"issuer"`
	EventType string `json:"type"`
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
	// RedeliveredAt is when an admin last asked for the delivery again;
	// its retries then run for another 3 days from that moment.
	RedeliveredAt *time.Time `json:"redeliveredAt,omitempty"`
}

// RetryOrigin is when the current series of retries began: the manual
// redelivery, or else the creation.
func (d *Delivery) RetryOrigin() time.Time {
	if d.RedeliveredAt != nil {
		return *d.RedeliveredAt
	}
	return d.CreatedAt
}

// Group is the key of the deliveries that go one after the other: to one
// receiver (webhook or address) about one certificate. It is "" for a
// delivery about no certificate, which waits for no other.
func (d *Delivery) Group() string {
	if d.Certificate == "" {
		return ""
	}
	if d.IsEmail() {
		return ChannelEmail + "\x00" + d.To + "\x00" + d.Certificate
	}
	return ChannelWebhook + "\x00" + d.Webhook + "\x00" + d.Certificate
}

// Before reports whether d goes before e in their group: earlier
// CreatedAt, then lower Seq, then lower ID (a total order, so that every
// instance agrees).
func (d *Delivery) Before(e *Delivery) bool {
	if c := d.CreatedAt.Compare(e.CreatedAt); c != 0 {
		return c < 0
	}
	if d.Seq != e.Seq {
		return d.Seq < e.Seq
	}
	return d.ID < e.ID
}

// IsEmail reports whether the delivery is an e-mail.
func (d *Delivery) IsEmail() bool { return d.Channel == ChannelEmail }
