package notify

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/cert/certtest"
	"github.com/certd/certd/store"
	"github.com/certd/certd/store/bolt"
)

// alertFixture is a bolt store with two issuers and their users, a
// webhook of cesa-itss at a receiver that answers with answer, and a
// worker that alerts.
type alertFixture struct {
	st     *bolt.Store
	clock  *clock
	hook   *cert.Webhook
	worker *Worker
	alerts *StaffAlerts
}

func newAlertFixture(t *testing.T, answer int) *alertFixture {
	t.Helper()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "certd.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	clk := certtest.NewClock(time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC))
	ctx := t.Context()
	for _, id := range []string{"cesa-itss", "other"} {
		if err := st.CreateIssuer(ctx, &cert.Issuer{ID: id, Name: id, CreatedAt: clk.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	for _, u := range []*cert.User{
		{ID: "u-admin", Issuer: "cesa-itss", Email: "admin@cesa.example.cn", Role: cert.RoleAdmin},
		{ID: "u-admin2", Issuer: "cesa-itss", Email: "ops@cesa.example.cn", Role: cert.RoleAdmin},
		{ID: "u-gone", Issuer: "cesa-itss", Email: "left@cesa.example.cn", Role: cert.RoleAdmin, Disabled: true},
		{ID: "u-issuer", Issuer: "cesa-itss", Email: "clerk@cesa.example.cn", Role: cert.RoleIssuer},
		{ID: "u-viewer", Issuer: "cesa-itss", Email: "reader@cesa.example.cn", Role: cert.RoleViewer},
		{ID: "u-other", Issuer: "other", Email: "admin@other.example.cn", Role: cert.RoleAdmin},
	} {
		u.CreatedAt, u.UpdatedAt = clk.Now(), clk.Now()
		if err := st.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(answer) }))
	t.Cleanup(srv.Close)
	secret, _ := NewSecret()
	hook := &cert.Webhook{ID: "wh1", Issuer: "cesa-itss", URL: srv.URL + "/hooks/tok_secret", Active: true, Secret: secret, CreatedAt: clk.Now(), UpdatedAt: clk.Now()}
	if err := st.CreateWebhook(ctx, hook); err != nil {
		t.Fatal(err)
	}
	alerts := &StaffAlerts{Store: st, Now: clk.Now}
	w := &Worker{Store: st, Owner: "i1", Now: clk.Now, Jitter: func() float64 { return 0 }, Alerts: alerts,
		Client: NewClient(ClientOptions{AllowHTTP: true, AllowPrivate: true})}
	return &alertFixture{st: st, clock: clk, hook: hook, worker: w, alerts: alerts}
}

// runUntilDisabled enqueues one event and runs the worker along the
// retry schedule until the webhook is disabled.
func (f *alertFixture) runUntilDisabled(t *testing.T) *cert.Webhook {
	t.Helper()
	d, err := NewDelivery(f.hook, "evt-1", Message{Type: cert.WebhookCertificateIssued, Timestamp: f.clock.Now(), Data: map[string]string{}}, f.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := f.st.EnqueueDelivery(t.Context(), d); err != nil {
		t.Fatal(err)
	}
	for range 40 {
		if _, err := f.worker.RunOnce(t.Context()); err != nil {
			t.Fatal(err)
		}
		hook, err := f.st.Webhook(t.Context(), "wh1")
		if err != nil {
			t.Fatal(err)
		}
		if !hook.Active {
			return hook
		}
		got, _ := f.st.Delivery(t.Context(), d.ID)
		f.clock.Set(got.NextAttemptAt)
	}
	t.Fatal("the webhook was never disabled")
	return nil
}

// staffMails returns the pending e-mail deliveries of the store.
func (f *alertFixture) staffMails(t *testing.T) []*cert.Delivery {
	t.Helper()
	ds, err := f.st.LeaseDeliveries(t.Context(), "reader-"+f.clock.Now().String(), f.clock.Now(), f.clock.Now(), 100)
	if err != nil {
		t.Fatal(err)
	}
	var out []*cert.Delivery
	for _, d := range ds {
		if d.IsEmail() {
			out = append(out, d)
		}
	}
	return out
}

func TestDisabledWebhookTellsAdmins(t *testing.T) {
	for _, tc := range []struct {
		name, reason, text string
		answer             int
	}{
		{"gone", "gone", "410 Gone", http.StatusGone},
		{"failing-3-days", "failing", "failed for 3 days", http.StatusInternalServerError},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newAlertFixture(t, tc.answer)
			hook := f.runUntilDisabled(t)
			if hook.DisabledReason != tc.reason {
				t.Errorf("reason %q, want %q", hook.DisabledReason, tc.reason)
			}
			is, err := f.st.Issuer(t.Context(), "cesa-itss")
			if err != nil {
				t.Fatal(err)
			}
			var events []cert.IssuerEvent
			for _, e := range is.Events {
				if e.Type == cert.IssuerWebhookDisabled {
					events = append(events, e)
				}
			}
			if len(events) != 1 || !strings.Contains(events[0].Detail, "wh1") || !strings.Contains(events[0].Detail, tc.text) || events[0].Actor != cert.SystemActor {
				t.Fatalf("issuer events %+v, want one webhook_disabled naming wh1 and %q", is.Events, tc.text)
			}
			if strings.Contains(events[0].Detail, "tok_secret") {
				t.Errorf("the audit trail shows the URL's path: %q", events[0].Detail)
			}
			if other, _ := f.st.Issuer(t.Context(), "other"); len(other.Events) != 0 {
				t.Errorf("another issuer's trail changed: %+v", other.Events)
			}

			mails := f.staffMails(t)
			to := map[string]bool{}
			for _, d := range mails {
				to[d.To] = true
				var job MailJob
				if err := json.Unmarshal(d.Payload, &job); err != nil || job.Kind != MailStaffAlert || !strings.Contains(job.Text, "wh1") ||
					!strings.Contains(job.Text, tc.text) || !strings.Contains(job.Subject, "Webhook") || d.Issuer != "cesa-itss" {
					t.Errorf("staff alert %s: %+v (%v)", d.ID, job, err)
				}
				if strings.Contains(job.Text, "tok_secret") {
					t.Errorf("the alert shows the URL's path: %q", job.Text)
				}
			}
			if len(mails) != 2 || !to["admin@cesa.example.cn"] || !to["ops@cesa.example.cn"] {
				t.Errorf("staff alerts to %v, want the two active admins of cesa-itss", to)
			}

			// The same disabling told again enqueues nothing new.
			if err := f.alerts.mail(t.Context(), hook, "h", "zh", "en"); err != nil {
				t.Fatal(err)
			}
			for _, u := range []string{"u-admin", "u-admin2"} {
				id := DeliveryID(alertEvent(hook), "user:"+u)
				if _, err := f.st.Delivery(t.Context(), id); err != nil {
					t.Errorf("delivery %s: %v", id, err)
				}
			}
			f.clock.Set(f.clock.Now().Add(time.Hour))
			if again := f.staffMails(t); len(again) != 2 {
				t.Errorf("%d staff alerts after telling again, want the same 2", len(again))
			}
			_, err = f.st.Delivery(t.Context(), DeliveryID(alertEvent(hook), "user:u-gone"))
			if !errors.Is(err, store.ErrNotFound) {
				t.Errorf("a disabled admin got an alert: %v", err)
			}
		})
	}
}

// TestDisabledAlertMailWithoutSMTP: without a mailer the staff alert is
// failed with the reason, not dropped.
func TestDisabledAlertMailWithoutSMTP(t *testing.T) {
	f := newAlertFixture(t, http.StatusGone)
	hook := f.runUntilDisabled(t)
	f.clock.Set(f.clock.Now().Add(2 * time.Minute)) // past the lease staffMails would take
	if _, err := f.worker.RunOnce(t.Context()); err != nil {
		t.Fatal(err)
	}
	d, err := f.st.Delivery(t.Context(), DeliveryID(alertEvent(hook), "user:u-admin"))
	if err != nil {
		t.Fatal(err)
	}
	if d.Status != cert.DeliveryFailed || d.LastError != ErrMailNotConfigured {
		t.Errorf("staff alert without SMTP: status %s, error %q", d.Status, d.LastError)
	}
}

// alertEvent is the event id the staff alerts of a disabling derive from.
func alertEvent(hook *cert.Webhook) string {
	return "webhook-disabled/" + hook.ID + "/" + strconv.FormatInt(hook.DisabledAt.UnixNano(), 10)
}

// TestResumeTellsAdminsAfterACrash: a webhook disabled by an instance
// that stopped before telling the admins is told at the next start, once;
// later edits of the still disabled webhook tell nothing again.
func TestResumeTellsAdminsAfterACrash(t *testing.T) {
	f := newAlertFixture(t, http.StatusGone)
	ctx := t.Context()
	w, _ := f.st.Webhook(ctx, "wh1")
	at := f.clock.Now()
	w.Active, w.DisabledReason, w.DisabledAt = false, "gone", &at
	if err := f.st.UpdateWebhook(ctx, w); err != nil { // the disabling write, then the crash
		t.Fatal(err)
	}
	count := func() (events, mails int) {
		t.Helper()
		is, _ := f.st.Issuer(ctx, "cesa-itss")
		for _, e := range is.Events {
			if e.Type == cert.IssuerWebhookDisabled {
				events++
			}
		}
		for _, u := range []string{"u-admin", "u-admin2", "u-gone", "u-issuer", "u-viewer"} {
			if _, err := f.st.Delivery(ctx, DeliveryID(alertEvent(w), "user:"+u)); err == nil {
				mails++
			}
		}
		return events, mails
	}
	if e, m := count(); e != 0 || m != 0 {
		t.Fatalf("before resuming: %d events, %d mails", e, m)
	}
	for round := range 2 {
		n, err := f.alerts.Resume(ctx)
		if err != nil || n != 1 {
			t.Fatalf("Resume = %d, %v", n, err)
		}
		if e, m := count(); e != 1 || m != 2 {
			t.Errorf("after resume %d: %d events, %d mails; want 1, 2", round+1, e, m)
		}
	}
	// An admin changes the URL but leaves it disabled: nothing new.
	uc := &Webhooks{Store: f.st, Now: f.clock.Now}
	u := "https://crm.example.cn/v2"
	if _, err := uc.Update(ctx, cert.Principal{Role: cert.RoleAdmin, Issuer: "cesa-itss"}, "wh1", WebhookPatch{URL: &u}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.alerts.Resume(ctx); err != nil {
		t.Fatal(err)
	}
	if e, m := count(); e != 1 || m != 2 {
		t.Errorf("after an edit: %d events, %d mails; want 1, 2", e, m)
	}
	// Enabled again, nothing is left to tell.
	on := true
	if got, err := uc.Update(ctx, cert.Principal{Role: cert.RoleAdmin, Issuer: "cesa-itss"}, "wh1", WebhookPatch{Active: &on}); err != nil || got.DisabledAt != nil || got.DisabledReason != "" {
		t.Fatalf("enable: %+v, %v", got, err)
	}
	if n, err := f.alerts.Resume(ctx); err != nil || n != 0 {
		t.Errorf("Resume after enabling = %d, %v; want 0", n, err)
	}
}

// bouncer is a Mailer that refuses every address for good.
type bouncer struct{}

func (bouncer) Send(context.Context, *cert.Delivery) error {
	return Permanent(errors.New("550 5.1.1 no such mailbox"))
}

// TestOrganizationMailFailedTellsAdmins: an e-mail to a certified
// organization that bounces for good tells the issuer's admins (once per
// delivery, naming the certificate); a bounced watch mail tells nobody.
func TestOrganizationMailFailedTellsAdmins(t *testing.T) {
	f := newAlertFixture(t, http.StatusNoContent)
	f.worker.Mailer = bouncer{}
	ctx := t.Context()
	now := f.clock.Now()
	enqueue := func(id string, job MailJob) {
		payload, _ := json.Marshal(job)
		d := &cert.Delivery{ID: id, Channel: cert.ChannelEmail, To: "wrong@org.example.cn", Issuer: "cesa-itss",
			Certificate: job.Certificate, EventType: cert.WebhookCertificateIssued, Payload: payload,
			Status: cert.DeliveryPending, NextAttemptAt: now, CreatedAt: now}
		if err := f.st.EnqueueDelivery(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	enqueue("msg_org", MailJob{Kind: MailCertificateEvent, Certificate: "CERT1", Type: cert.WebhookCertificateIssued, Seq: 1})
	enqueue("msg_watch", MailJob{Kind: MailWatchEvent, Certificate: "CERT1", Type: cert.WebhookCertificateSuspended, Seq: 2})
	if _, err := f.worker.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{"u-admin", "u-admin2"} {
		d, err := f.st.Delivery(ctx, DeliveryID("mail-failed/msg_org", "user:"+u))
		if err != nil {
			t.Fatalf("staff alert for %s: %v", u, err)
		}
		var job MailJob
		_ = json.Unmarshal(d.Payload, &job)
		if job.Kind != MailStaffAlert || !strings.Contains(job.Text, "CERT1") || !strings.Contains(job.Text, "550") {
			t.Errorf("staff alert: %+v", job)
		}
	}
	for _, u := range []string{"u-gone", "u-issuer", "u-viewer", "u-other"} {
		if _, err := f.st.Delivery(ctx, DeliveryID("mail-failed/msg_org", "user:"+u)); err == nil {
			t.Errorf("user %s was told", u)
		}
	}
	if _, err := f.st.Delivery(ctx, DeliveryID("mail-failed/msg_watch", "user:u-admin")); err == nil {
		t.Error("a bounced watch mail was reported to the issuer (it would reveal the watcher)")
	}
}
