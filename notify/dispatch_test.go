package notify

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/store/storetest"
)

func TestWebhookSinkOncePerEventAndWebhook(t *testing.T) {
	s := openStore(t)
	ctx := t.Context()
	now := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
	hooks := []*cert.Webhook{
		{ID: "all", Issuer: "cb", URL: "https://a.example/h", Active: true, Secret: vectorSecret, CreatedAt: now.Add(-time.Hour)},
		{ID: "withdrawals", Issuer: "cb", URL: "https://b.example/h", Active: true, Secret: vectorSecret, Events: []string{cert.WebhookCertificateWithdrawn}, CreatedAt: now.Add(-time.Hour)},
		{ID: "issuance", Issuer: "cb", URL: "https://c.example/h", Active: true, Secret: vectorSecret, Events: []string{cert.WebhookCertificateIssued}, CreatedAt: now.Add(-time.Hour)},
		{ID: "off", Issuer: "cb", URL: "https://d.example/h", Active: false, Secret: vectorSecret, CreatedAt: now.Add(-time.Hour)},
		{ID: "other-issuer", Issuer: "other", URL: "https://e.example/h", Active: true, Secret: vectorSecret, CreatedAt: now.Add(-time.Hour)},
		{ID: "newer", Issuer: "cb", URL: "https://f.example/h", Active: true, Secret: vectorSecret, CreatedAt: now.Add(time.Second)},
	}
	for _, w := range hooks {
		if err := s.CreateWebhook(ctx, w); err != nil {
			t.Fatal(err)
		}
	}
	c := &cert.Certificate{ID: "X", Issuer: "cb"}
	ev := Event{ID: "X/3", Type: cert.WebhookCertificateWithdrawn, Certificate: c, At: now, RecordedAt: now}
	sink := &WebhookSink{Store: s, Data: func(ev Event) any { return map[string]string{"id": ev.Certificate.ID} }}
	if err := sink.Enqueue(ctx, ev, now); err != nil {
		t.Fatal(err)
	}
	// Again, as after a crash between the change and the dispatch's end.
	if err := sink.Enqueue(ctx, ev, now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"all", "withdrawals"} {
		got, err := s.Deliveries(ctx, id, 10)
		if err != nil || len(got) != 1 || got[0].ID != DeliveryID("X/3", id) || !got[0].CreatedAt.Equal(now) || got[0].Certificate != "X" {
			t.Errorf("deliveries of %s: %+v, %v", id, got, err)
		}
	}
	for _, id := range []string{"issuance", "off", "other-issuer", "newer"} {
		if got, _ := s.Deliveries(ctx, id, 10); len(got) != 0 {
			t.Errorf("webhook %s got %d deliveries, want 0", id, len(got))
		}
	}
}

// recorder is a sink that records event ids, failing on demand.
type recorder struct {
	mu    sync.Mutex
	seen  []string
	calls int
	fail  func(ev Event) bool
}

func (r *recorder) Enqueue(_ context.Context, ev Event, _ time.Time) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls++
	if r.fail != nil && r.fail(ev) {
		return errors.New("sink down")
	}
	if !slices.Contains(r.seen, ev.ID) {
		r.seen = append(r.seen, ev.ID)
	}
	return nil
}

func TestDispatcherHandsEveryEventOnce(t *testing.T) {
	s := openStore(t)
	ctx := t.Context()
	now := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
	clock := now
	c := storetest.NewCertificate(t, "cb")
	if err := s.CreateCertificate(ctx, c); err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	d := &Dispatcher{Store: s, Sinks: []Sink{rec}, Owner: "one", Now: func() time.Time { return clock }}
	if n, err := d.RunOnce(ctx); err != nil || n != 1 {
		t.Fatalf("RunOnce = %d, %v", n, err)
	}
	want := []string{CertificateEventID(c.ID, 1)}
	if !slices.Equal(rec.seen, want) {
		t.Fatalf("events %v, want %v", rec.seen, want)
	}
	// A suspension, a derived record that announces nothing new, and a
	// withdrawal: the next round hands over the two announced ones only.
	c.Append(cert.Event{Type: cert.EventSuspended, At: now, RecordedAt: now, Actor: "clerk", Reason: "audit"})
	c.Append(cert.Event{Type: cert.EventStatusChanged, At: now, RecordedAt: now, Actor: cert.SystemActor, Status: cert.StatusSuperseded})
	c.Append(cert.Event{Type: cert.EventWithdrawn, At: now, RecordedAt: now, Actor: "clerk", Reason: "fraud"})
	if err := s.UpdateCertificate(ctx, c); err != nil {
		t.Fatal(err)
	}
	// The sink fails on the withdrawal: the entry is not finished, and a
	// second dispatcher gets it only when the lease ends.
	rec.fail = func(ev Event) bool { return ev.Type == cert.WebhookCertificateWithdrawn }
	if _, err := d.RunOnce(ctx); err == nil {
		t.Fatal("a failing sink gave no error")
	}
	rec.fail = nil
	other := &Dispatcher{Store: s, Sinks: []Sink{rec}, Owner: "two", Now: func() time.Time { return clock }}
	if n, _ := other.RunOnce(ctx); n != 0 {
		t.Fatal("another dispatcher took a certificate whose lease holds")
	}
	clock = now.Add(2 * time.Minute)
	if n, err := other.RunOnce(ctx); err != nil || n != 1 {
		t.Fatalf("after the lease ended: RunOnce = %d, %v", n, err)
	}
	want = append(want, CertificateEventID(c.ID, 2), CertificateEventID(c.ID, 4))
	if !slices.Equal(rec.seen, want) {
		t.Fatalf("events %v, want %v", rec.seen, want)
	}
	if n, _ := d.RunOnce(ctx); n != 0 {
		t.Fatal("the outbox was not cleared")
	}
}
