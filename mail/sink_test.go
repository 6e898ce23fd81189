package mail

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/mail/mailtest"
	"github.com/certd/certd/notify"
)

func pending(t *testing.T, f *fixture) []*cert.Delivery {
	t.Helper()
	far := f.clock.Now().Add(24 * time.Hour)
	ds, err := f.store.LeaseDeliveries(t.Context(), "inspector", far, far, 100)
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

// TestOrganizationSinkIdempotent: the same event enqueued twice (after a
// crash, by two instances) stores one delivery, with the recipient, the
// certificate and a mail job that attaches the PDF on issuance.
func TestOrganizationSinkIdempotent(t *testing.T) {
	f := newFixture(t, mailtest.Options{})
	sink := &OrganizationSink{Outbox: f.store}
	ev := f.event(1)
	for range 3 {
		if err := sink.Enqueue(t.Context(), ev, f.clock.Now()); err != nil {
			t.Fatalf("Enqueue: %v", err)
		}
	}
	ds := pending(t, f)
	if len(ds) != 1 {
		t.Fatalf("%d deliveries, want 1", len(ds))
	}
	d := ds[0]
	if d.ID != notify.DeliveryID(ev.ID, "mailto:"+orgEmail) || d.Channel != cert.ChannelEmail || d.To != orgEmail ||
		d.Certificate != f.cert.ID || d.Issuer != "default" || d.EventType != cert.WebhookCertificateIssued || d.Webhook != "" {
		t.Errorf("delivery %+v", d)
	}
	var job notify.MailJob
	if err := json.Unmarshal(d.Payload, &job); err != nil {
		t.Fatal(err)
	}
	want := notify.MailJob{Kind: notify.MailCertificateEvent, Certificate: f.cert.ID, Type: cert.WebhookCertificateIssued, Seq: 1, AttachPDF: true}
	if job != want {
		t.Errorf("job %+v, want %+v", job, want)
	}
}

// TestOrganizationSinkSelects: which events are mailed, and the 7-day rule.
func TestOrganizationSinkSelects(t *testing.T) {
	now := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
	c := newCertificate(t, now.AddDate(0, 0, -30))
	suspendedAt := now.Add(-time.Hour)
	c.Append(cert.Event{Type: cert.EventSuspended, At: suspendedAt, RecordedAt: suspendedAt, Actor: "k"})
	derived := now.Add(-2 * time.Hour)
	c.Append(cert.Event{Type: cert.EventStatusChanged, At: derived, RecordedAt: derived, Actor: cert.SystemActor, Status: cert.StatusExpired, Reason: cert.ReasonExpired})
	ev := func(seq int, recorded time.Time) notify.Event {
		e := c.Events[seq-1]
		e.RecordedAt = recorded
		typ, _ := notify.EventType(&e)
		return notify.Event{ID: notify.CertificateEventID(c.ID, seq), Type: typ, Certificate: c, Event: &e, At: e.At, RecordedAt: recorded}
	}
	reminder := notify.Event{ID: notify.ReminderEventID(c.ID, "expiry-90d"), Type: cert.WebhookReminderExpiry, Certificate: c,
		Reminder: &notify.Reminder{Occasion: "expiry-90d", Due: c.ValidUntil, DaysBefore: 90}, At: now, RecordedAt: now}
	noEmail := *c
	noEmail.Organization.Email = ""
	withoutEmail := ev(2, suspendedAt)
	withoutEmail.Certificate = &noEmail
	unannounced := ev(2, suspendedAt)
	unannounced.Type = ""
	cases := []struct {
		name string
		ev   notify.Event
		kind string
	}{
		{"ok/suspended", ev(2, suspendedAt), notify.MailCertificateEvent},
		{"ok/derived expiry", ev(3, derived), notify.MailCertificateEvent},
		{"ok/reminder", reminder, notify.MailReminder},
		{"ok/6 days old", ev(2, now.Add(-6*24*time.Hour)), notify.MailCertificateEvent},
		{"skip/8 days old", ev(2, now.Add(-8*24*time.Hour)), ""},
		{"skip/issued 30 days ago", ev(1, c.Events[0].RecordedAt), ""},
		{"skip/no e-mail", withoutEmail, ""},
		{"skip/not announced", unannounced, ""},
		{"skip/no certificate", notify.Event{ID: "x/1", Type: cert.WebhookCertificateIssued}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d, err := (&OrganizationSink{}).delivery(tc.ev, now)
			if err != nil {
				t.Fatal(err)
			}
			if tc.kind == "" {
				if d != nil {
					t.Errorf("delivery %+v, want none", d)
				}
				return
			}
			if d == nil {
				t.Fatal("no delivery")
			}
			var job notify.MailJob
			if err := json.Unmarshal(d.Payload, &job); err != nil {
				t.Fatal(err)
			}
			if job.Kind != tc.kind || job.AttachPDF || job.Certificate != c.ID || d.EventType != tc.ev.Type {
				t.Errorf("job %+v, delivery type %q", job, d.EventType)
			}
			if tc.kind == notify.MailReminder && (job.Reminder == nil || job.Reminder.Occasion != "expiry-90d") {
				t.Errorf("reminder job %+v", job)
			}
		})
	}
}
