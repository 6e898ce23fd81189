package api_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/certd/certd/api"
	"github.com/certd/certd/cert"
	"github.com/certd/certd/issuer"
	"github.com/certd/certd/keys"
	"github.com/certd/certd/notify"
)

// newWebhookAPI is the test API with webhooks on the same bolt store and
// an admin key; it returns the admin token and the store.
func newWebhookAPI(t *testing.T) (*testAPI, string, notify.WebhookStore) {
	t.Helper()
	var st notify.WebhookStore
	a := newTestAPIWith(t, "2026-12-03", func(icfg *issuer.Config, acfg *api.Config) {
		st = icfg.Store.(notify.WebhookStore)
		acfg.Webhooks = &notify.Webhooks{Store: st, Secrets: testSecretBox(t), Now: acfg.Now}
	})
	_, admin, err := a.svc.CreateAPIKey(context.Background(), cert.Principal{Role: cert.RoleAdmin, KeyID: "root"},
		issuer.APIKeyRequest{Role: cert.RoleAdmin, Name: "ops"})
	if err != nil {
		t.Fatal(err)
	}
	return a, admin, st
}

// testSecretBox is a KEK from a fixed seed, so that every call returns
// one that opens what another sealed.
func testSecretBox(t testing.TB) keys.KEK {
	t.Helper()
	kek, err := keys.ParseKEK([]byte(base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{5}, 32))))
	if err != nil {
		t.Fatal(err)
	}
	return kek
}

func TestWebhooksAPI(t *testing.T) {
	a, admin, st := newWebhookAPI(t)
	auth := func(token string) []string { return []string{"Authorization", "Bearer " + token} }
	body := map[string]any{"issuer": "cb", "url": "https://crm.example.cn/hooks/certd", "events": []string{"certificate.withdrawn", "certificate.suspended"}}

	if r := a.do("POST", "/api/v1/webhooks", body); r.code != http.StatusUnauthorized {
		t.Errorf("without a key: %d %s, want 401", r.code, r.body)
	}
	if r := a.do("POST", "/api/v1/webhooks", body, auth(a.token)...); r.code != http.StatusForbidden {
		t.Errorf("with an issuer key: %d %s, want 403", r.code, r.body)
	}
	for _, bad := range []struct {
		body  map[string]any
		code  int
		field string
	}{
		{map[string]any{"issuer": "cb", "url": "http://crm.example.cn/h"}, 422, `"url"`},
		{map[string]any{"issuer": "cb", "url": "https://crm.example.cn/h", "events": []string{"certificate.lost"}}, 422, `"events[0]"`},
		{map[string]any{"issuer": "nope", "url": "https://crm.example.cn/h"}, 422, `"issuer"`},
		// A client cannot choose the secret.
		{map[string]any{"issuer": "cb", "url": "https://crm.example.cn/h", "secret": "whsec_x"}, 400, `"secret"`},
	} {
		r := a.do("POST", "/api/v1/webhooks", bad.body, auth(admin)...)
		if r.code != bad.code || !strings.Contains(string(r.body), bad.field) {
			t.Errorf("POST %v: %d %s, want %d naming %s", bad.body, r.code, r.body, bad.code, bad.field)
		}
	}

	r := a.do("POST", "/api/v1/webhooks", body, auth(admin)...)
	if r.code != http.StatusCreated {
		t.Fatalf("create: %d %s", r.code, r.body)
	}
	if cc := r.header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control = %q, want no-store", cc)
	}
	var created struct {
		ID     string   `json:"id"`
		Issuer string   `json:"issuer"`
		Events []string `json:"events"`
		Active bool     `json:"active"`
		Secret string   `json:"secret"`
	}
	r.decode(t, &created)
	if !strings.HasPrefix(created.Secret, "whsec_") || created.Issuer != "cb" || !created.Active || len(created.Events) != 2 {
		t.Fatalf("created %+v", created)
	}
	if _, err := notify.ParseSecret(created.Secret); err != nil {
		t.Errorf("secret: %v", err)
	}
	stored, err := st.Webhook(context.Background(), created.ID)
	if err != nil {
		t.Fatal(err)
	}
	if stored.Secret != "" || len(stored.SealedSecret) == 0 || strings.Contains(string(stored.SealedSecret), created.Secret[6:]) {
		t.Fatalf("the store holds the secret unsealed: %q", stored.Secret)
	}
	if opened, err := notify.OpenSecret(testSecretBox(t), stored); err != nil || opened != created.Secret {
		t.Fatalf("the sealed secret opens to another value (%v)", err)
	}

	// The secret is never answered again.
	for _, path := range []string{"/api/v1/webhooks/" + created.ID, "/api/v1/webhooks?issuer=cb", "/api/v1/webhooks"} {
		r := a.do("GET", path, nil, auth(admin)...)
		if r.code != http.StatusOK || !strings.Contains(string(r.body), created.ID) {
			t.Errorf("GET %s: %d %s", path, r.code, r.body)
		}
		if strings.Contains(string(r.body), "secret") || strings.Contains(string(r.body), created.Secret[6:]) {
			t.Errorf("GET %s shows the secret: %s", path, r.body)
		}
	}
	if r := a.do("GET", "/api/v1/webhooks/"+created.ID, nil, auth(a.token)...); r.code != http.StatusNotFound {
		t.Errorf("GET with an issuer key: %d, want 404", r.code)
	}

	r = a.do("PATCH", "/api/v1/webhooks/"+created.ID, map[string]any{"active": false, "events": []string{}}, auth(admin)...)
	var patched cert.Webhook
	r.decode(t, &patched)
	if r.code != http.StatusOK || patched.Active || len(patched.Events) != 0 || patched.URL != body["url"] {
		t.Errorf("PATCH: %d %s", r.code, r.body)
	}
	if r := a.do("PATCH", "/api/v1/webhooks/"+created.ID, map[string]any{"url": "ftp://x"}, auth(admin)...); r.code != http.StatusUnprocessableEntity {
		t.Errorf("PATCH a bad url: %d, want 422", r.code)
	}

	// The delivery log, without payloads, and a redelivery.
	hook, _ := st.Webhook(context.Background(), created.ID)
	d, err := notify.NewDelivery(hook, "evt-1", notify.Message{Type: cert.WebhookCertificateWithdrawn, Timestamp: a.clock.Now(), Data: map[string]string{"id": "X"}}, a.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	d.Status = cert.DeliveryFailed
	if err := st.EnqueueDelivery(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	r = a.do("GET", "/api/v1/webhooks/"+created.ID+"/deliveries", nil, auth(admin)...)
	var log struct {
		Items []cert.Delivery `json:"items"`
	}
	r.decode(t, &log)
	if r.code != http.StatusOK || len(log.Items) != 1 || log.Items[0].ID != d.ID || log.Items[0].Status != cert.DeliveryFailed {
		t.Errorf("deliveries: %d %s", r.code, r.body)
	}
	if strings.Contains(string(r.body), "payload") || strings.Contains(string(r.body), "lease") {
		t.Errorf("deliveries show internals: %s", r.body)
	}
	if r := a.do("GET", "/api/v1/webhooks/"+created.ID+"/deliveries?limit=0", nil, auth(admin)...); r.code != http.StatusUnprocessableEntity {
		t.Errorf("limit=0: %d, want 422", r.code)
	}
	// The webhook is inactive (patched above): enable it first.
	if r := a.do("POST", "/api/v1/webhooks/"+created.ID+"/deliveries/"+d.ID+"/redeliver", nil, auth(admin)...); r.code != http.StatusUnprocessableEntity || !strings.Contains(string(r.body), `"active"`) {
		t.Errorf("redeliver to an inactive webhook: %d %s, want 422 naming active", r.code, r.body)
	}
	if r := a.do("PATCH", "/api/v1/webhooks/"+created.ID, map[string]any{"active": true}, auth(admin)...); r.code != http.StatusOK {
		t.Fatalf("enable: %d %s", r.code, r.body)
	}
	if r := a.do("POST", "/api/v1/webhooks/"+created.ID+"/deliveries/"+d.ID+"/redeliver", nil, auth(admin)...); r.code != http.StatusAccepted {
		t.Errorf("redeliver: %d %s", r.code, r.body)
	}
	if got, _ := st.Delivery(context.Background(), d.ID); got.Status != cert.DeliveryPending {
		t.Errorf("after redeliver: status %s, want pending", got.Status)
	}
	if r := a.do("POST", "/api/v1/webhooks/"+created.ID+"/deliveries/msg_other/redeliver", nil, auth(admin)...); r.code != http.StatusNotFound {
		t.Errorf("redeliver unknown: %d, want 404", r.code)
	}

	if r := a.do("DELETE", "/api/v1/webhooks/"+created.ID, nil, auth(admin)...); r.code != http.StatusNoContent {
		t.Errorf("DELETE: %d %s", r.code, r.body)
	}
	if r := a.do("GET", "/api/v1/webhooks/"+created.ID, nil, auth(admin)...); r.code != http.StatusNotFound {
		t.Errorf("GET after delete: %d, want 404", r.code)
	}
}

func TestWebhooksAPIUnconfigured(t *testing.T) {
	a := newTestAPI(t, "2026-12-03")
	if r := a.do("GET", "/api/v1/webhooks", nil, "Authorization", "Bearer "+a.token); r.code != http.StatusServiceUnavailable {
		t.Errorf("without webhooks: %d %s, want 503", r.code, r.body)
	}
}

// TestWebhookPatchIsAMergePatch: PATCH takes a JSON merge patch (either
// content type): absent members stay, "events": null restores all
// events, url and active cannot be removed, unknown members are refused;
// enabling a webhook certd disabled clears its reason.
func TestWebhookPatchIsAMergePatch(t *testing.T) {
	a, admin, st := newWebhookAPI(t)
	auth := []string{"Authorization", "Bearer " + admin}
	r := a.do("POST", "/api/v1/webhooks", map[string]any{"issuer": "cb", "url": "https://crm.example.cn/h", "events": []string{"certificate.issued"}}, auth...)
	if r.code != http.StatusCreated {
		t.Fatalf("create: %d %s", r.code, r.body)
	}
	var created cert.Webhook
	r.decode(t, &created)
	path := "/api/v1/webhooks/" + created.ID
	patch := func(body, contentType string) response {
		t.Helper()
		req := httptest.NewRequest("PATCH", path, strings.NewReader(body))
		req.Header.Set("Content-Type", contentType)
		req.Header.Set("Authorization", "Bearer "+admin)
		rec := httptest.NewRecorder()
		a.srv.ServeHTTP(rec, req)
		return response{code: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
	}
	const merge = "application/merge-patch+json"
	for _, tc := range []struct {
		name, body, ct string
		code           int
		want           string
	}{
		{"ok/empty-keeps-all", `{}`, merge, 200, `"events":["certificate.issued"]`},
		{"ok/url-only", `{"url": "https://crm.example.cn/h2"}`, merge, 200, `"url":"https://crm.example.cn/h2","events":["certificate.issued"]`},
		{"ok/events-null-means-all", `{"events": null}`, merge, 200, `"active":true`},
		{"ok/plain-json", `{"events": ["certificate.withdrawn"]}`, "application/json", 200, `"events":["certificate.withdrawn"]`},
		{"fail/url-null", `{"url": null}`, merge, 422, `"field":"url"`},
		{"fail/active-null", `{"active": null}`, merge, 422, `"field":"active"`},
		{"fail/active-string", `{"active": "yes"}`, merge, 422, `"field":"active"`},
		{"fail/events-string", `{"events": "all"}`, merge, 422, `"field":"events"`},
		{"fail/unknown-member", `{"secret": "whsec_x"}`, merge, 400, `secret`},
		{"fail/not-json", `url=x`, "application/x-www-form-urlencoded", 415, `application/json`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := patch(tc.body, tc.ct)
			if r.code != tc.code || !strings.Contains(string(r.body), tc.want) {
				t.Errorf("PATCH %s (%s): %d %s, want %d with %s", tc.body, tc.ct, r.code, r.body, tc.code, tc.want)
			}
		})
	}
	if got, _ := st.Webhook(context.Background(), created.ID); got == nil || len(got.Events) != 1 || got.Events[0] != "certificate.withdrawn" || got.URL != "https://crm.example.cn/h2" {
		t.Errorf("stored after the patches: %+v", got)
	}
	r = patch(`{"events": null}`, merge)
	if strings.Contains(string(r.body), `"events"`) {
		t.Errorf("events null: %s, want no filter (all events)", r.body)
	}

	// certd disabled it (410); enabling clears the reason.
	w, _ := st.Webhook(context.Background(), created.ID)
	w.Active, w.DisabledReason = false, "gone"
	if err := st.UpdateWebhook(context.Background(), w); err != nil {
		t.Fatal(err)
	}
	if r := patch(`{"active": true}`, merge); r.code != 200 || strings.Contains(string(r.body), "disabledReason") || !strings.Contains(string(r.body), `"active":true`) {
		t.Errorf("enable: %d %s", r.code, r.body)
	}
}

// TestRedeliverWhileLeased: a manual redelivery of a delivery a worker
// is attempting now is refused (409), so that no two workers post it at
// once.
func TestRedeliverWhileLeased(t *testing.T) {
	a, admin, st := newWebhookAPI(t)
	auth := []string{"Authorization", "Bearer " + admin}
	r := a.do("POST", "/api/v1/webhooks", map[string]any{"issuer": "cb", "url": "https://crm.example.cn/h"}, auth...)
	var created cert.Webhook
	r.decode(t, &created)
	hook, _ := st.Webhook(context.Background(), created.ID)
	now := a.clock.Now()
	d, _ := notify.NewDelivery(hook, "evt-1", notify.Message{Type: cert.WebhookCertificateIssued, Timestamp: now, Data: map[string]string{}}, now)
	if err := st.EnqueueDelivery(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	if got, err := st.LeaseDeliveries(context.Background(), "worker-1", now, now.Add(time.Minute), 1); err != nil || len(got) != 1 {
		t.Fatalf("lease: %v %v", got, err)
	}
	path := "/api/v1/webhooks/" + created.ID + "/deliveries/" + d.ID + "/redeliver"
	if r := a.do("POST", path, nil, auth...); r.code != http.StatusConflict {
		t.Errorf("redeliver while leased: %d %s, want 409", r.code, r.body)
	}
	if got, _ := st.Delivery(context.Background(), d.ID); got.LeaseOwner != "worker-1" {
		t.Errorf("the refused redelivery changed the lease: owner %q", got.LeaseOwner)
	}
}
