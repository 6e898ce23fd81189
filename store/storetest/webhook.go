package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/store"
)

var webhookTests = []test{
	{"webhooks/create-get-list", testWebhookCreateGetList},
	{"webhooks/update-delete", testWebhookUpdateDelete},
	{"webhooks/delivery-enqueue-once", testDeliveryEnqueueOnce},
	{"webhooks/email-delivery-without-webhook", testEmailDeliveryEnqueue},
	{"webhooks/delivery-list", testDeliveryList},
	{"webhooks/lease-due-only", testLeaseDueOnly},
	{"webhooks/lease-holds-group", testLeaseHoldsGroup},
	{"webhooks/lease-expires", testLeaseExpires},
	{"webhooks/finish-needs-lease", testFinishNeedsLease},
	{"webhooks/retry-delivery", testRetryDelivery},
	{"webhooks/lease-concurrent", testLeaseConcurrent},
	{"webhooks/sealed-secret", testWebhookSealedSecret},
	{"webhooks/seal-plaintext-secret", testSealWebhookSecret},
	{"webhooks/email-delivery", testEmailDelivery},
}

// webhookTime is a time as notify makes them: UTC, whole milliseconds.
var webhookTime = time.Date(2026, 12, 3, 9, 15, 30, 250_000_000, time.UTC)

func newWebhook(id, issuer string) *cert.Webhook {
	return &cert.Webhook{
		ID: id, Issuer: issuer, URL: "https://crm.example.cn/hooks/" + id,
		Events: []string{cert.WebhookCertificateIssued, cert.WebhookCertificateWithdrawn},
		Active: true, Secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
		CreatedAt: webhookTime, UpdatedAt: webhookTime,
	}
}

func newDelivery(id, webhook string, created time.Time) *cert.Delivery {
	return &cert.Delivery{
		ID: id, Webhook: webhook, Issuer: "cesa-itss", EventType: cert.WebhookCertificateIssued,
		Payload:       []byte(`{"type":"certificate.issued","data":{"number":"证书-1"}}`),
		Status:        cert.DeliveryPending,
		NextAttemptAt: created, CreatedAt: created,
	}
}

func sameWebhook(t testing.TB, what string, got, want *cert.Webhook) {
	t.Helper()
	if d := fieldDiff(*got, *want); d != "" {
		t.Errorf("%s: webhook differs (got, want):\n%s", what, d)
	}
}

func sameDelivery(t testing.TB, what string, got, want *cert.Delivery) {
	t.Helper()
	if d := fieldDiff(*got, *want); d != "" {
		t.Errorf("%s: delivery differs (got, want):\n%s", what, d)
	}
}

func testWebhookCreateGetList(t *testing.T, s store.Store) {
	ctx := t.Context()
	w := newWebhook("wh2", "cesa-itss")
	if err := s.CreateWebhook(ctx, w); err != nil {
		t.Fatalf("CreateWebhook: %v", err)
	}
	if w.Version != 1 {
		t.Errorf("Version = %d, want 1", w.Version)
	}
	got, err := s.Webhook(ctx, "wh2")
	if err != nil {
		t.Fatalf("Webhook: %v", err)
	}
	sameWebhook(t, "Webhook", got, w)
	if err := s.CreateWebhook(ctx, newWebhook("wh2", "other")); !errors.Is(err, store.ErrAlreadyExists) {
		t.Errorf("same id: %v, want ErrAlreadyExists", err)
	}
	all := newWebhook("wh1", "cesa-itss")
	all.Events = nil
	for _, w := range []*cert.Webhook{all, newWebhook("wh3", "other")} {
		if err := s.CreateWebhook(ctx, w); err != nil {
			t.Fatal(err)
		}
	}
	list, err := s.Webhooks(ctx, "cesa-itss")
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].ID != "wh1" || list[1].ID != "wh2" {
		t.Fatalf("Webhooks(cesa-itss) = %v, want wh1, wh2", webhookIDs(list))
	}
	if len(list[0].Events) != 0 {
		t.Errorf("events of a webhook for all events = %v, want none", list[0].Events)
	}
	if list, _ := s.Webhooks(ctx, ""); len(list) != 3 {
		t.Errorf("Webhooks(all) = %v, want 3", webhookIDs(list))
	}
	if _, err := s.Webhook(ctx, "absent"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Webhook(absent) = %v, want ErrNotFound", err)
	}
}

func webhookIDs(ws []*cert.Webhook) []string {
	var ids []string
	for _, w := range ws {
		ids = append(ids, w.ID)
	}
	return ids
}

func testWebhookUpdateDelete(t *testing.T, s store.Store) {
	ctx := t.Context()
	w := newWebhook("wh1", "cesa-itss")
	if err := s.CreateWebhook(ctx, w); err != nil {
		t.Fatal(err)
	}
	stale := *w
	w.Active, w.DisabledReason, w.URL = false, "gone", "https://crm.example.cn/v2"
	w.UpdatedAt = webhookTime.Add(time.Hour)
	if err := s.UpdateWebhook(ctx, w); err != nil {
		t.Fatalf("UpdateWebhook: %v", err)
	}
	if w.Version != 2 {
		t.Errorf("Version = %d, want 2", w.Version)
	}
	got, _ := s.Webhook(ctx, "wh1")
	sameWebhook(t, "after update", got, w)
	if err := s.UpdateWebhook(ctx, &stale); !errors.Is(err, store.ErrConflict) {
		t.Errorf("stale update: %v, want ErrConflict", err)
	}
	if err := s.UpdateWebhook(ctx, newWebhook("absent", "x")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("update absent: %v, want ErrNotFound", err)
	}
	if err := s.DeleteWebhook(ctx, "wh1"); err != nil {
		t.Fatalf("DeleteWebhook: %v", err)
	}
	if _, err := s.Webhook(ctx, "wh1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("after delete: %v, want ErrNotFound", err)
	}
	if err := s.DeleteWebhook(ctx, "wh1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("delete again: %v, want ErrNotFound", err)
	}
}

func testDeliveryEnqueueOnce(t *testing.T, s store.Store) {
	ctx := t.Context()
	d := newDelivery("msg_1", "wh1", webhookTime)
	if err := s.EnqueueDelivery(ctx, d); err != nil {
		t.Fatalf("EnqueueDelivery: %v", err)
	}
	again := newDelivery("msg_1", "wh1", webhookTime.Add(time.Minute))
	again.Payload = []byte(`{}`)
	if err := s.EnqueueDelivery(ctx, again); !errors.Is(err, store.ErrAlreadyExists) {
		t.Errorf("same id: %v, want ErrAlreadyExists", err)
	}
	got, err := s.Delivery(ctx, "msg_1")
	if err != nil {
		t.Fatal(err)
	}
	sameDelivery(t, "Delivery", got, d)
	if _, err := s.Delivery(ctx, "absent"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Delivery(absent) = %v, want ErrNotFound", err)
	}
}

func testDeliveryList(t *testing.T, s store.Store) {
	ctx := t.Context()
	for i := range 5 {
		if err := s.EnqueueDelivery(ctx, newDelivery(fmt.Sprintf("msg_%d", i), "wh1", webhookTime.Add(time.Duration(i)*time.Second))); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.EnqueueDelivery(ctx, newDelivery("msg_other", "wh2", webhookTime)); err != nil {
		t.Fatal(err)
	}
	list, err := s.Deliveries(ctx, "wh1", 3)
	if err != nil {
		t.Fatal(err)
	}
	if got := deliveryIDs(list); fmt.Sprint(got) != "[msg_4 msg_3 msg_2]" {
		t.Errorf("Deliveries(wh1, 3) = %v, want [msg_4 msg_3 msg_2]", got)
	}
	if list, _ := s.Deliveries(ctx, "wh1", 0); len(list) != 5 {
		t.Errorf("Deliveries(wh1, 0) = %v, want 5", deliveryIDs(list))
	}
}

func deliveryIDs(ds []*cert.Delivery) []string {
	var ids []string
	for _, d := range ds {
		ids = append(ids, d.ID)
	}
	return ids
}

func testLeaseDueOnly(t *testing.T, s store.Store) {
	ctx := t.Context()
	now := webhookTime.Add(time.Hour)
	due := newDelivery("msg_due", "wh1", webhookTime)
	later := newDelivery("msg_later", "wh1", webhookTime)
	later.NextAttemptAt = now.Add(time.Second)
	done := newDelivery("msg_done", "wh1", webhookTime)
	done.Status = cert.DeliveryDelivered
	first := newDelivery("msg_first", "wh1", webhookTime.Add(-time.Minute))
	for _, d := range []*cert.Delivery{due, later, done, first} {
		if err := s.EnqueueDelivery(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	until := now.Add(time.Minute)
	got, err := s.LeaseDeliveries(ctx, "a", now, until, 10)
	if err != nil {
		t.Fatalf("LeaseDeliveries: %v", err)
	}
	if ids := deliveryIDs(got); fmt.Sprint(ids) != "[msg_first msg_due]" {
		t.Fatalf("leased %v, want [msg_first msg_due]", ids)
	}
	for _, d := range got {
		if d.LeaseOwner != "a" || !d.LeaseUntil.Equal(until) {
			t.Errorf("%s: lease %q until %v, want a until %v", d.ID, d.LeaseOwner, d.LeaseUntil, until)
		}
		if string(d.Payload) != string(due.Payload) {
			t.Errorf("%s: payload %q", d.ID, d.Payload)
		}
	}
	stored, _ := s.Delivery(ctx, "msg_due")
	if stored.LeaseOwner != "a" {
		t.Errorf("stored lease owner = %q, want a", stored.LeaseOwner)
	}
	if again, _ := s.LeaseDeliveries(ctx, "b", now, until, 10); len(again) != 0 {
		t.Errorf("leased again while held: %v", deliveryIDs(again))
	}
	if one, _ := s.LeaseDeliveries(ctx, "b", later.NextAttemptAt, until, 1); fmt.Sprint(deliveryIDs(one)) != "[msg_later]" {
		t.Errorf("lease at its time = %v, want [msg_later]", deliveryIDs(one))
	}
}

// testLeaseHoldsGroup: a delivery waits while an earlier one of its
// group (same receiver, same certificate; earlier CreatedAt, then Seq) is
// pending, unless the same call has leased that one already; other
// groups and deliveries about no certificate never wait.
func testLeaseHoldsGroup(t *testing.T, s store.Store) {
	ctx := t.Context()
	now := webhookTime.Add(time.Hour)
	event := func(id, webhook, certificate string, seq int, next time.Time) *cert.Delivery {
		d := newDelivery(id, webhook, webhookTime)
		d.Certificate, d.Seq, d.NextAttemptAt = certificate, seq, next
		if err := s.EnqueueDelivery(ctx, d); err != nil {
			t.Fatal(err)
		}
		return d
	}
	lease := func(owner string, at time.Time, max int, want string) []*cert.Delivery {
		t.Helper()
		got, err := s.LeaseDeliveries(ctx, owner, at, at.Add(time.Minute), max)
		if err != nil {
			t.Fatalf("LeaseDeliveries: %v", err)
		}
		if ids := fmt.Sprint(deliveryIDs(got)); ids != want {
			t.Fatalf("%s leased %s at %v, want %s", owner, ids, at.Sub(now), want)
		}
		return got
	}
	// The second event of CERTA sorts first and is due first: it waits
	// for the first all the same.
	first := event("msg_g2", "wh1", "CERTA", 1, webhookTime.Add(time.Second))
	second := event("msg_g1", "wh1", "CERTA", 2, webhookTime)
	event("msg_g3", "wh1", "CERTB", 7, webhookTime)
	event("msg_g4", "wh2", "CERTA", 2, webhookTime)
	event("msg_g5", "wh1", "", 0, webhookTime)
	event("msg_h1", "wh1", "CERTC", 1, webhookTime)
	event("msg_h2", "wh1", "CERTC", 2, webhookTime)
	other := lease("a", now, 1, "[msg_g3]")
	if other[0].Seq != 7 || other[0].Certificate != "CERTB" {
		t.Errorf("leased seq %d of %q, want 7 of CERTB", other[0].Seq, other[0].Certificate)
	}
	got := lease("a", now, 10, "[msg_g4 msg_g5 msg_h1 msg_h2 msg_g2]")
	d := got[len(got)-1]
	for _, o := range append(other, got[:len(got)-1]...) {
		o.Status = cert.DeliveryDelivered
		if err := s.FinishAttempt(ctx, o, "a"); err != nil {
			t.Fatal(err)
		}
	}
	// The first, pending for its retry, still holds the second.
	d.Attempts, d.NextAttemptAt = 1, now.Add(2*time.Minute)
	if err := s.FinishAttempt(ctx, d, "a"); err != nil {
		t.Fatal(err)
	}
	lease("b", now.Add(time.Minute), 10, "[]")
	got = lease("b", d.NextAttemptAt, 10, "["+first.ID+"]")
	got[0].Status = cert.DeliveryDelivered
	if err := s.FinishAttempt(ctx, got[0], "b"); err != nil {
		t.Fatal(err)
	}
	if got := lease("b", d.NextAttemptAt, 10, "["+second.ID+"]"); got[0].Seq != 2 {
		t.Errorf("leased seq %d, want 2", got[0].Seq)
	}
}

func testLeaseExpires(t *testing.T, s store.Store) {
	ctx := t.Context()
	if err := s.EnqueueDelivery(ctx, newDelivery("msg_1", "wh1", webhookTime)); err != nil {
		t.Fatal(err)
	}
	until := webhookTime.Add(30 * time.Second)
	if got, _ := s.LeaseDeliveries(ctx, "a", webhookTime, until, 5); len(got) != 1 {
		t.Fatalf("first lease = %v", deliveryIDs(got))
	}
	if got, _ := s.LeaseDeliveries(ctx, "b", until, until.Add(time.Minute), 5); len(got) != 0 {
		t.Errorf("taken at the lease's last instant: %v", deliveryIDs(got))
	}
	// Instance a died; after its lease b takes the delivery.
	after := until.Add(time.Millisecond)
	got, err := s.LeaseDeliveries(ctx, "b", after, after.Add(time.Minute), 5)
	if err != nil || len(got) != 1 || got[0].LeaseOwner != "b" {
		t.Fatalf("lease after expiry = %v, %v; want msg_1 for b", deliveryIDs(got), err)
	}
	// a's late result is refused: b holds the delivery now.
	d := got[0]
	d.Status, d.Attempts = cert.DeliveryDelivered, 1
	if err := s.FinishAttempt(ctx, d, "a"); !errors.Is(err, store.ErrConflict) {
		t.Errorf("finish by the old owner: %v, want ErrConflict", err)
	}
}

func testFinishNeedsLease(t *testing.T, s store.Store) {
	ctx := t.Context()
	if err := s.EnqueueDelivery(ctx, newDelivery("msg_1", "wh1", webhookTime)); err != nil {
		t.Fatal(err)
	}
	d := newDelivery("msg_1", "wh1", webhookTime)
	if err := s.FinishAttempt(ctx, d, "a"); !errors.Is(err, store.ErrConflict) {
		t.Errorf("finish without a lease: %v, want ErrConflict", err)
	}
	got, _ := s.LeaseDeliveries(ctx, "a", webhookTime, webhookTime.Add(time.Minute), 1)
	if len(got) != 1 {
		t.Fatal("no lease")
	}
	d = got[0]
	at := webhookTime.Add(2 * time.Second)
	d.Attempts, d.LastAttemptAt, d.LastStatusCode, d.LastError = 1, &at, 500, "500 Internal Server Error"
	d.NextAttemptAt = at.Add(5 * time.Second)
	if err := s.FinishAttempt(ctx, d, "a"); err != nil {
		t.Fatalf("FinishAttempt: %v", err)
	}
	stored, _ := s.Delivery(ctx, "msg_1")
	want := *d
	want.LeaseOwner, want.LeaseUntil = "", time.Time{}
	sameDelivery(t, "after finish", stored, &want)
	if err := s.FinishAttempt(ctx, d, "a"); !errors.Is(err, store.ErrConflict) {
		t.Errorf("finish twice: %v, want ErrConflict", err)
	}
	if err := s.FinishAttempt(ctx, newDelivery("absent", "wh1", webhookTime), "a"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("finish absent: %v, want ErrNotFound", err)
	}
	// Due again at its next attempt, not before.
	if got, _ := s.LeaseDeliveries(ctx, "a", at, at.Add(time.Minute), 1); len(got) != 0 {
		t.Errorf("leased before its next attempt: %v", deliveryIDs(got))
	}
	if got, _ := s.LeaseDeliveries(ctx, "a", d.NextAttemptAt, at.Add(time.Minute), 1); len(got) != 1 || got[0].Attempts != 1 {
		t.Errorf("lease at the next attempt = %v", deliveryIDs(got))
	}
}

func testRetryDelivery(t *testing.T, s store.Store) {
	ctx := t.Context()
	d := newDelivery("msg_1", "wh1", webhookTime)
	d.Status, d.Attempts, d.LastStatusCode = cert.DeliveryFailed, 18, 503
	if err := s.EnqueueDelivery(ctx, d); err != nil {
		t.Fatal(err)
	}
	now := webhookTime.Add(80 * time.Hour)
	if err := s.RetryDelivery(ctx, "msg_1", now); err != nil {
		t.Fatalf("RetryDelivery: %v", err)
	}
	got, err := s.LeaseDeliveries(ctx, "a", now, now.Add(time.Minute), 5)
	if err != nil || len(got) != 1 {
		t.Fatalf("lease after retry = %v, %v", deliveryIDs(got), err)
	}
	if got[0].Status != cert.DeliveryPending || got[0].Attempts != 18 || !got[0].NextAttemptAt.Equal(now) {
		t.Errorf("after retry: status %s, attempts %d, next %v", got[0].Status, got[0].Attempts, got[0].NextAttemptAt)
	}
	if got[0].RedeliveredAt == nil || !got[0].RedeliveredAt.Equal(now) || !got[0].RetryOrigin().Equal(now) {
		t.Errorf("after retry: redelivered at %v, want %v", got[0].RedeliveredAt, now)
	}
	if err := s.RetryDelivery(ctx, "absent", now); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("retry absent: %v, want ErrNotFound", err)
	}
	// The delivery is now leased by "a" (an attempt in flight): a retry
	// must not hand it to another worker before the lease ends.
	if err := s.RetryDelivery(ctx, "msg_1", now.Add(time.Second)); !errors.Is(err, store.ErrConflict) {
		t.Errorf("retry of a leased delivery: %v, want ErrConflict", err)
	}
	if again, err := s.LeaseDeliveries(ctx, "b", now.Add(time.Second), now.Add(time.Minute), 5); err != nil || len(again) != 0 {
		t.Errorf("another worker leased %v (%v) while the lease of a was live", deliveryIDs(again), err)
	}
	if err := s.RetryDelivery(ctx, "msg_1", now.Add(2*time.Minute)); err != nil {
		t.Errorf("retry after the lease ended: %v", err)
	}
}

// testLeaseConcurrent: takers racing for the same due deliveries never
// get the same one, and together they get them all.
func testLeaseConcurrent(t *testing.T, s store.Store) {
	ctx := t.Context()
	const n, takers = 40, 6
	for i := range n {
		if err := s.EnqueueDelivery(ctx, newDelivery(fmt.Sprintf("msg_%02d", i), "wh1", webhookTime)); err != nil {
			t.Fatal(err)
		}
	}
	now := webhookTime.Add(time.Second)
	var mu sync.Mutex
	taken := map[string][]string{}
	var wg sync.WaitGroup
	for k := range takers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			owner := fmt.Sprintf("instance-%d", k)
			for range n {
				got, err := s.LeaseDeliveries(ctx, owner, now, now.Add(time.Minute), 3)
				if err != nil {
					t.Errorf("%s: %v", owner, err)
					return
				}
				if len(got) == 0 {
					return
				}
				mu.Lock()
				for _, d := range got {
					if d.LeaseOwner != owner {
						t.Errorf("%s got %s leased to %q", owner, d.ID, d.LeaseOwner)
					}
					taken[d.ID] = append(taken[d.ID], owner)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(taken) != n {
		t.Errorf("%d deliveries leased, want %d", len(taken), n)
	}
	for id, owners := range taken {
		if len(owners) != 1 {
			t.Errorf("%s leased by %v", id, owners)
		}
		stored, err := s.Delivery(ctx, id)
		if err != nil || stored.LeaseOwner != owners[0] {
			t.Errorf("%s: stored owner %q, taker %v", id, stored.LeaseOwner, owners)
		}
	}
}

// testWebhookSealedSecret: a sealed secret is kept as given, and an
// update (which carries no secret) leaves it alone.
func testWebhookSealedSecret(t *testing.T, s store.Store) {
	ctx := t.Context()
	w := newWebhook("wh1", "cesa-itss")
	w.Secret, w.SealedSecret = "", []byte{0, 1, 2, 0xfe, 0xff, 'x'}
	if err := s.CreateWebhook(ctx, w); err != nil {
		t.Fatalf("CreateWebhook: %v", err)
	}
	got, err := s.Webhook(ctx, "wh1")
	if err != nil {
		t.Fatal(err)
	}
	sameWebhook(t, "Webhook", got, w)
	disabledAt := webhookTime.Add(time.Hour)
	got.SealedSecret, got.Active, got.DisabledReason, got.DisabledAt = nil, false, "gone", &disabledAt
	if err := s.UpdateWebhook(ctx, got); err != nil {
		t.Fatalf("UpdateWebhook: %v", err)
	}
	again, err := s.Webhook(ctx, "wh1")
	if err != nil {
		t.Fatal(err)
	}
	if again.DisabledAt == nil || !again.DisabledAt.Equal(disabledAt) || again.DisabledAt.Location() != time.UTC || again.DisabledReason != "gone" {
		t.Errorf("after update: disabled at %v (%q), want %v", again.DisabledAt, again.DisabledReason, disabledAt)
	}
	again.Active, again.DisabledReason, again.DisabledAt = true, "", nil
	if err := s.UpdateWebhook(ctx, again); err != nil {
		t.Fatal(err)
	}
	if on, _ := s.Webhook(ctx, "wh1"); on == nil || on.DisabledAt != nil {
		t.Errorf("enabled again: disabled at %v, want nil", on.DisabledAt)
	}
	again.Active = false
	if string(again.SealedSecret) != string(w.SealedSecret) || again.Secret != "" || again.Active {
		t.Errorf("after update: sealed %x, secret %q, active %v; want %x, \"\", false", again.SealedSecret, again.Secret, again.Active, w.SealedSecret)
	}
}

// testSealWebhookSecret: a plaintext secret is replaced by its sealed
// form once, conditionally, without a new version.
func testSealWebhookSecret(t *testing.T, s store.Store) {
	ctx := t.Context()
	w := newWebhook("wh1", "cesa-itss")
	if err := s.CreateWebhook(ctx, w); err != nil {
		t.Fatalf("CreateWebhook: %v", err)
	}
	sealed := []byte("sealed-form")
	if err := s.SealWebhookSecret(ctx, "wh1", "whsec_another", sealed); !errors.Is(err, store.ErrConflict) {
		t.Errorf("another plaintext: %v, want ErrConflict", err)
	}
	if err := s.SealWebhookSecret(ctx, "nope", w.Secret, sealed); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("missing webhook: %v, want ErrNotFound", err)
	}
	if err := s.SealWebhookSecret(ctx, "wh1", w.Secret, sealed); err != nil {
		t.Fatalf("SealWebhookSecret: %v", err)
	}
	got, err := s.Webhook(ctx, "wh1")
	if err != nil {
		t.Fatal(err)
	}
	if got.Secret != "" || string(got.SealedSecret) != "sealed-form" || got.Version != 1 {
		t.Errorf("after sealing: secret %q, sealed %q, version %d; want \"\", sealed-form, 1", got.Secret, got.SealedSecret, got.Version)
	}
	if err := s.SealWebhookSecret(ctx, "wh1", w.Secret, []byte("second")); !errors.Is(err, store.ErrConflict) {
		t.Errorf("sealing again: %v, want ErrConflict", err)
	}
	if err := s.SealWebhookSecret(ctx, "wh1", "", []byte("second")); !errors.Is(err, store.ErrConflict) {
		t.Errorf("sealing an empty secret: %v, want ErrConflict", err)
	}
	if got, _ := s.Webhook(ctx, "wh1"); got == nil || string(got.SealedSecret) != "sealed-form" {
		t.Errorf("a refused seal changed the record: %+v", got)
	}
}

// testEmailDelivery: an e-mail delivery has no webhook; it is stored with
// its recipient, leased and finished like any other.
func testEmailDelivery(t *testing.T, s store.Store) {
	ctx := t.Context()
	d := newDelivery("msg_mail", "", webhookTime)
	d.Channel, d.To, d.Certificate = cert.ChannelEmail, "cert@example.cn", "CERTID"
	d.Payload = []byte(`{"kind":"certificate-event","certificate":"CERTID"}`)
	if err := s.EnqueueDelivery(ctx, d); err != nil {
		t.Fatalf("EnqueueDelivery(e-mail): %v", err)
	}
	if err := s.EnqueueDelivery(ctx, d); !errors.Is(err, store.ErrAlreadyExists) {
		t.Errorf("same id again: %v, want ErrAlreadyExists", err)
	}
	got, err := s.Delivery(ctx, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	sameDelivery(t, "Delivery", got, d)
	if got.To != d.To || !got.IsEmail() {
		t.Errorf("stored e-mail delivery: to %q, channel %q", got.To, got.Channel)
	}
	leased, err := s.LeaseDeliveries(ctx, "owner-1", webhookTime, webhookTime.Add(time.Minute), 10)
	if err != nil || len(leased) != 1 || leased[0].To != d.To {
		t.Fatalf("LeaseDeliveries = %v, %v", deliveryIDs(leased), err)
	}
	leased[0].Status, leased[0].Attempts = cert.DeliveryDelivered, 1
	if err := s.FinishAttempt(ctx, leased[0], "owner-1"); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Delivery(ctx, d.ID); got == nil || got.Status != cert.DeliveryDelivered || got.LeaseOwner != "" {
		t.Errorf("after FinishAttempt: %+v", got)
	}
}

// An e-mail delivery has a recipient and no webhook: it is stored once
// (by id), kept with its recipient, and leased like any other.
func testEmailDeliveryEnqueue(t *testing.T, s store.Store) {
	ctx := t.Context()
	d := newDelivery("msg_mail", "", webhookTime)
	d.Channel, d.To, d.EventType = cert.ChannelEmail, "admin@cb.example", "staff-alert"
	if err := s.EnqueueDelivery(ctx, d); err != nil {
		t.Fatalf("EnqueueDelivery of an e-mail: %v", err)
	}
	if err := s.EnqueueDelivery(ctx, d); !errors.Is(err, store.ErrAlreadyExists) {
		t.Errorf("same id: %v, want ErrAlreadyExists", err)
	}
	got, err := s.Delivery(ctx, "msg_mail")
	if err != nil {
		t.Fatal(err)
	}
	if got.To != d.To || got.Channel != cert.ChannelEmail || got.Webhook != "" {
		t.Errorf("stored e-mail delivery: to %q channel %q webhook %q", got.To, got.Channel, got.Webhook)
	}
	leased, err := s.LeaseDeliveries(ctx, "w1", webhookTime.Add(time.Second), webhookTime.Add(time.Minute), 10)
	if err != nil || len(leased) != 1 || leased[0].ID != "msg_mail" {
		t.Errorf("lease: %v, %v; want the e-mail", leased, err)
	}
}
