package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/notify"
)

// webhookClock is a settable clock shared by restarts of Main.
type webhookClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *webhookClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *webhookClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// signedReceiver answers 500 to the first request and 204 to the later
// ones, and checks each signature with the Standard Webhooks algorithm
// written here, not taken from notify.
type signedReceiver struct {
	mu     sync.Mutex
	secret string
	ids    []string
	bad    int
}

func (r *signedReceiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	key, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(r.secret, "whsec_"))
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(req.Header.Get("webhook-id") + "." + req.Header.Get("webhook-timestamp") + "." + string(body)))
	want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
	if !strings.Contains(" "+req.Header.Get("webhook-signature")+" ", " "+want+" ") {
		r.bad++
	}
	r.ids = append(r.ids, req.Header.Get("webhook-id"))
	if len(r.ids) == 1 {
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (r *signedReceiver) seen() ([]string, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.ids...), r.bad
}

// waitFor polls cond until it holds, failing after a generous bound.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

// TestWebhookRetryAfterRestart: a delivery fails once, certd restarts,
// and the retry, due while certd was down, is delivered with the same
// webhook-id and a valid signature.
func TestWebhookRetryAfterRestart(t *testing.T) {
	recv := &signedReceiver{}
	srv := httptest.NewServer(recv)
	t.Cleanup(srv.Close)
	clk := &webhookClock{t: time.Date(2026, 12, 3, 2, 0, 0, 0, time.UTC)}
	allow := func(m *Main) { m.Config.AllowHTTPWebhooks, m.Config.AllowPrivateWebhooks = true, true }
	dir := t.TempDir()
	ts := startServer(t, dir, withClock(clk.Now), allow)

	r := ts.do("POST", "/api/v1/webhooks", ts.Admin, map[string]any{"issuer": DefaultIssuer, "url": srv.URL + "/certd"})
	if r.Status != http.StatusCreated {
		t.Fatalf("create webhook: %d %s", r.Status, r.Body)
	}
	var created struct{ ID, Secret string }
	if err := json.Unmarshal(r.Body, &created); err != nil {
		t.Fatal(err)
	}
	recv.mu.Lock()
	recv.secret = created.Secret
	recv.mu.Unlock()

	hook, err := ts.m.store.Webhook(t.Context(), created.ID)
	if err != nil {
		t.Fatal(err)
	}
	d, err := notify.NewDelivery(hook, "evt-1", notify.Message{Type: cert.WebhookCertificateWithdrawn, Timestamp: clk.Now(), Data: map[string]string{"id": "X"}}, clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := ts.m.store.EnqueueDelivery(t.Context(), d); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the first attempt", func() bool { ids, _ := recv.seen(); return len(ids) == 1 })
	waitFor(t, "the first attempt's result", func() bool {
		got, err := ts.m.store.Delivery(t.Context(), d.ID)
		return err == nil && got.Attempts == 1 && got.LeaseOwner == ""
	})
	if err := ts.m.Close(); err != nil {
		t.Fatal(err)
	}

	clk.Add(time.Minute) // the retry fell due while certd was down
	ts = startServer(t, dir, withClock(clk.Now), allow)
	waitFor(t, "the retry", func() bool {
		r := ts.do("GET", "/api/v1/webhooks/"+created.ID+"/deliveries", ts.Admin, nil)
		return r.Status == http.StatusOK && strings.Contains(string(r.Body), `"status":"delivered"`)
	})
	ids, bad := recv.seen()
	if len(ids) != 2 || ids[0] != d.ID || ids[1] != d.ID {
		t.Errorf("webhook-ids %v, want %s twice", ids, d.ID)
	}
	if bad != 0 {
		t.Errorf("%d deliveries failed the signature check", bad)
	}
	r = ts.do("GET", "/api/v1/webhooks/"+created.ID+"/deliveries", ts.Admin, nil)
	var log struct{ Items []cert.Delivery }
	if err := json.Unmarshal(r.Body, &log); err != nil || len(log.Items) != 1 || log.Items[0].Attempts != 2 || log.Items[0].LastStatusCode != 204 {
		t.Errorf("delivery log: %s", r.Body)
	}
}

// TestWebhookLoopbackRefusedByDefault: without --allow-private-webhooks a
// receiver on 127.0.0.1 gets nothing.
func TestWebhookLoopbackRefusedByDefault(t *testing.T) {
	recv := &signedReceiver{}
	srv := httptest.NewServer(recv)
	t.Cleanup(srv.Close)
	ts := startServer(t, "", func(m *Main) { m.Config.AllowHTTPWebhooks = true })
	r := ts.do("POST", "/api/v1/webhooks", ts.Admin, map[string]any{"issuer": DefaultIssuer, "url": srv.URL + "/certd"})
	if r.Status != http.StatusCreated {
		t.Fatalf("create webhook: %d %s", r.Status, r.Body)
	}
	var created struct{ ID string }
	_ = json.Unmarshal(r.Body, &created)
	hook, _ := ts.m.store.Webhook(t.Context(), created.ID)
	d, _ := notify.NewDelivery(hook, "evt-1", notify.Message{Type: cert.WebhookCertificateIssued, Timestamp: time.Now(), Data: map[string]string{}}, time.Now())
	if err := ts.m.store.EnqueueDelivery(t.Context(), d); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the refused attempt", func() bool {
		got, err := ts.m.store.Delivery(t.Context(), d.ID)
		return err == nil && got.Attempts == 1
	})
	got, _ := ts.m.store.Delivery(t.Context(), d.ID)
	if !strings.Contains(got.LastError, "refused") {
		t.Errorf("last error %q, want a refusal", got.LastError)
	}
	if ids, _ := recv.seen(); len(ids) != 0 {
		t.Errorf("the loopback receiver got %d requests", len(ids))
	}
	// https is required without --allow-http-webhooks.
	plain := startServer(t, "")
	if r := plain.do("POST", "/api/v1/webhooks", plain.Admin, map[string]any{"issuer": DefaultIssuer, "url": srv.URL}); r.Status != http.StatusUnprocessableEntity {
		t.Errorf("http URL without the flag: %d, want 422", r.Status)
	}
}

// TestWebhookGoneIsRecordedForTheIssuer: a receiver that answers 410
// disables its webhook, and the issuer's audit trail says so.
func TestWebhookGoneIsRecordedForTheIssuer(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusGone) }))
	t.Cleanup(srv.Close)
	ts := startServer(t, "", func(m *Main) { m.Config.AllowHTTPWebhooks, m.Config.AllowPrivateWebhooks = true, true })
	r := ts.do("POST", "/api/v1/webhooks", ts.Admin, map[string]any{"issuer": DefaultIssuer, "url": srv.URL + "/certd"})
	if r.Status != http.StatusCreated {
		t.Fatalf("create webhook: %d %s", r.Status, r.Body)
	}
	var created struct{ ID string }
	_ = json.Unmarshal(r.Body, &created)
	hook, _ := ts.m.store.Webhook(t.Context(), created.ID)
	d, _ := notify.NewDelivery(hook, "evt-1", notify.Message{Type: cert.WebhookCertificateIssued, Timestamp: time.Now(), Data: map[string]string{}}, time.Now())
	if err := ts.m.store.EnqueueDelivery(t.Context(), d); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the webhook_disabled event", func() bool {
		r := ts.do("GET", "/api/v1/issuers/"+DefaultIssuer+"/events", ts.Admin, nil)
		return r.Status == http.StatusOK && strings.Contains(string(r.Body), `"webhook_disabled"`) && strings.Contains(string(r.Body), created.ID)
	})
	r = ts.do("GET", "/api/v1/webhooks/"+created.ID, ts.Admin, nil)
	if !strings.Contains(string(r.Body), `"active":false`) || !strings.Contains(string(r.Body), `"disabledReason":"gone"`) {
		t.Errorf("webhook after 410: %s", r.Body)
	}
}
