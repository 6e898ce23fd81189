package notify

import (
	"testing"
	"time"

	"github.com/certd/certd/cert"
)

func TestDispatchOncePerEventAndWebhook(t *testing.T) {
	s := openStore(t)
	ctx := t.Context()
	now := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
	hooks := []*cert.Webhook{
		{ID: "all", Issuer: "cb", URL: "https://a.example/h", Active: true, Secret: vectorSecret},
		{ID: "withdrawals", Issuer: "cb", URL: "https://b.example/h", Active: true, Secret: vectorSecret, Events: []string{cert.WebhookCertificateWithdrawn}},
		{ID: "issuance", Issuer: "cb", URL: "https://c.example/h", Active: true, Secret: vectorSecret, Events: []string{cert.WebhookCertificateIssued}},
		{ID: "off", Issuer: "cb", URL: "https://d.example/h", Active: false, Secret: vectorSecret},
		{ID: "other-issuer", Issuer: "other", URL: "https://e.example/h", Active: true, Secret: vectorSecret},
	}
	for _, w := range hooks {
		if err := s.CreateWebhook(ctx, w); err != nil {
			t.Fatal(err)
		}
	}
	m := Message{Type: cert.WebhookCertificateWithdrawn, Timestamp: now, Data: map[string]string{"id": "X"}}
	n, err := Dispatch(ctx, s, "cb", "X/3", m, now)
	if err != nil || n != 2 {
		t.Fatalf("Dispatch = %d, %v; want 2 (all, withdrawals)", n, err)
	}
	// Again, as after a crash between the change and the dispatch's end.
	if n, err := Dispatch(ctx, s, "cb", "X/3", m, now.Add(time.Minute)); err != nil || n != 0 {
		t.Errorf("second Dispatch = %d, %v; want 0", n, err)
	}
	for _, id := range []string{"all", "withdrawals"} {
		got, err := s.Deliveries(ctx, id, 10)
		if err != nil || len(got) != 1 || got[0].ID != DeliveryID("X/3", id) || !got[0].CreatedAt.Equal(now) {
			t.Errorf("deliveries of %s: %+v, %v", id, got, err)
		}
	}
	for _, id := range []string{"issuance", "off", "other-issuer"} {
		if got, _ := s.Deliveries(ctx, id, 10); len(got) != 0 {
			t.Errorf("webhook %s got %d deliveries, want 0", id, len(got))
		}
	}
}
