package notify

import (
	"bytes"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/keys"
	"github.com/certd/certd/store/bolt"
	"github.com/certd/certd/store/mongo/mongotest"
)

func testKEK(t testing.TB, seed byte) keys.KEK {
	t.Helper()
	k, err := keys.ParseKEK([]byte(base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{seed}, 32))))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// secretForms are the ways a secret could show in a file: as answered,
// its base64 key, and the raw key bytes.
func secretForms(t testing.TB, secret string) [][]byte {
	t.Helper()
	key, err := ParseSecret(secret)
	if err != nil {
		t.Fatal(err)
	}
	return [][]byte{[]byte(secret), []byte(strings.TrimPrefix(secret, SecretPrefix)), key}
}

// deliverOnce enqueues one event for hook and runs a worker with the KEK;
// it returns what the receiver saw and whether every signature verified
// with the secret answered at creation.
func deliverOnce(t *testing.T, st WebhookStore, kek keys.KEK, hook *cert.Webhook, secret, eventID string, now time.Time) (requests, bad int) {
	t.Helper()
	recv := &hookReceiver{t: t, secret: secret, answer: func(int) int { return http.StatusNoContent }}
	srv := httptest.NewServer(recv)
	t.Cleanup(srv.Close)
	hook.URL = srv.URL + "/certd"
	if err := st.UpdateWebhook(t.Context(), hook); err != nil {
		t.Fatal(err)
	}
	d, err := NewDelivery(hook, eventID, Message{Type: cert.WebhookCertificateIssued, Timestamp: now, Data: map[string]string{"id": "X"}}, now)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.EnqueueDelivery(t.Context(), d); err != nil {
		t.Fatal(err)
	}
	w := &Worker{Store: st, Secrets: kek, Owner: "i1", Now: func() time.Time { return now }, Client: NewClient(ClientOptions{AllowHTTP: true, AllowPrivate: true})}
	if _, err := w.RunOnce(t.Context()); err != nil {
		t.Fatal(err)
	}
	got, err := st.Delivery(t.Context(), d.ID)
	if err != nil || got.Status != cert.DeliveryDelivered {
		t.Fatalf("delivery: %+v, %v", got, err)
	}
	ids, bad := recv.seen()
	return len(ids), bad
}

// TestSecretSealedAtRest: a webhook made through the use case leaves no
// trace of its secret in the bbolt file, and its deliveries still verify
// with the secret answered at creation.
func TestSecretSealedAtRest(t *testing.T) {
	path := filepath.Join(t.TempDir(), "certd.db")
	st, err := bolt.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { st.Close() }()
	now := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
	if err := st.CreateIssuer(t.Context(), &cert.Issuer{ID: "cesa-itss", Name: "CESA", CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	kek := testKEK(t, 3)
	uc := &Webhooks{Store: st, Secrets: kek, Now: func() time.Time { return now }}
	admin := cert.Principal{Role: cert.RoleAdmin, KeyID: "root"}
	hook, secret, err := uc.Create(t.Context(), admin, WebhookRequest{Issuer: "cesa-itss", URL: "https://crm.example.cn/h"})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, form := range secretForms(t, secret) {
		if bytes.Contains(raw, form) {
			t.Fatalf("the bbolt file holds the secret (%d bytes form)", len(form))
		}
	}
	if st, err = bolt.Open(path); err != nil {
		t.Fatal(err)
	}
	stored, err := st.Webhook(t.Context(), hook.ID)
	if err != nil || stored.Secret != "" || len(stored.SealedSecret) == 0 {
		t.Fatalf("stored webhook: secret %q, %d sealed bytes, %v", stored.Secret, len(stored.SealedSecret), err)
	}
	// The sealed secret is bound to its webhook: copied to another, it
	// does not open.
	moved := *stored
	moved.ID = "wh_other"
	if _, err := OpenSecret(kek, &moved); err == nil {
		t.Error("a sealed secret opened for another webhook")
	}
	if n, bad := deliverOnce(t, st, kek, stored, secret, "evt-1", now); n != 1 || bad != 0 {
		t.Errorf("receiver saw %d requests, %d with a bad signature; want 1, 0", n, bad)
	}
	// A worker with another KEK signs nothing.
	if _, err := OpenSecret(testKEK(t, 4), stored); err == nil {
		t.Error("another KEK opened the secret")
	}
	// Without a KEK the use case refuses to store a secret at all.
	if _, _, err := (&Webhooks{Store: st}).Create(t.Context(), admin, WebhookRequest{Issuer: "cesa-itss", URL: "https://crm.example.cn/h"}); err == nil {
		t.Error("a webhook was created without a KEK to seal its secret")
	}
}

// TestSealSecretsMigratesPlaintext: a webhook stored with a plaintext
// secret (as before secrets were sealed) is sealed by SealSecrets, once;
// its deliveries verify with the same secret before and after.
func TestSealSecretsMigratesPlaintext(t *testing.T) {
	st, err := bolt.Open(filepath.Join(t.TempDir(), "certd.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	now := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
	secret, _ := NewSecret()
	legacy := &cert.Webhook{ID: "wh_legacy", Issuer: "cesa-itss", URL: "https://crm.example.cn/h", Active: true, Secret: secret, CreatedAt: now, UpdatedAt: now}
	if err := st.CreateWebhook(t.Context(), legacy); err != nil {
		t.Fatal(err)
	}
	kek := testKEK(t, 3)
	// Before the migration the worker signs with the plaintext secret.
	if n, bad := deliverOnce(t, st, kek, legacy, secret, "evt-1", now); n != 1 || bad != 0 {
		t.Errorf("before sealing: %d requests, %d bad", n, bad)
	}
	n, err := SealSecrets(t.Context(), st, kek)
	if err != nil || n != 1 {
		t.Fatalf("SealSecrets = %d, %v; want 1", n, err)
	}
	if n, err := SealSecrets(t.Context(), st, kek); err != nil || n != 0 {
		t.Errorf("SealSecrets again = %d, %v; want 0 (idempotent)", n, err)
	}
	stored, err := st.Webhook(t.Context(), "wh_legacy")
	if err != nil {
		t.Fatal(err)
	}
	if stored.Secret != "" || len(stored.SealedSecret) == 0 {
		t.Fatalf("after sealing: secret %q, %d sealed bytes", stored.Secret, len(stored.SealedSecret))
	}
	for _, form := range secretForms(t, secret) {
		if bytes.Contains(stored.SealedSecret, form) {
			t.Fatal("the sealed form holds the secret")
		}
	}
	if opened, err := OpenSecret(kek, stored); err != nil || opened != secret {
		t.Fatalf("the sealed secret opens to another value (%v)", err)
	}
	if n, bad := deliverOnce(t, st, kek, stored, secret, "evt-2", now.Add(time.Minute)); n != 1 || bad != 0 {
		t.Errorf("after sealing: %d requests, %d bad", n, bad)
	}
}

// TestSecretSealedOnMongo: the same on the MongoDB backend: the stored
// webhook holds only the sealed form, a plaintext one is sealed at start,
// and deliveries verify with the secret answered at creation.
func TestSecretSealedOnMongo(t *testing.T) {
	st := mongotest.Open(t)
	now := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
	if err := st.CreateIssuer(t.Context(), &cert.Issuer{ID: "cesa-itss", Name: "CESA", CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	kek := testKEK(t, 3)
	uc := &Webhooks{Store: st, Secrets: kek, Now: func() time.Time { return now }}
	hook, secret, err := uc.Create(t.Context(), cert.Principal{Role: cert.RoleAdmin, KeyID: "root"}, WebhookRequest{Issuer: "cesa-itss", URL: "https://crm.example.cn/h"})
	if err != nil {
		t.Fatal(err)
	}
	stored, err := st.Webhook(t.Context(), hook.ID)
	if err != nil || stored.Secret != "" || len(stored.SealedSecret) == 0 {
		t.Fatalf("stored webhook: secret %q, %d sealed bytes, %v", stored.Secret, len(stored.SealedSecret), err)
	}
	for _, form := range secretForms(t, secret) {
		if bytes.Contains(stored.SealedSecret, form) {
			t.Fatal("the sealed form holds the secret")
		}
	}
	if n, bad := deliverOnce(t, st, kek, stored, secret, "evt-1", now); n != 1 || bad != 0 {
		t.Errorf("receiver saw %d requests, %d with a bad signature; want 1, 0", n, bad)
	}

	plain, _ := NewSecret()
	legacy := &cert.Webhook{ID: "wh_legacy", Issuer: "cesa-itss", URL: "https://crm.example.cn/h", Active: true, Secret: plain, CreatedAt: now, UpdatedAt: now}
	if err := st.CreateWebhook(t.Context(), legacy); err != nil {
		t.Fatal(err)
	}
	if n, err := SealSecrets(t.Context(), st, kek); err != nil || n != 1 {
		t.Fatalf("SealSecrets = %d, %v; want 1", n, err)
	}
	if n, err := SealSecrets(t.Context(), st, kek); err != nil || n != 0 {
		t.Errorf("SealSecrets again = %d, %v; want 0", n, err)
	}
	migrated, err := st.Webhook(t.Context(), "wh_legacy")
	if err != nil || migrated.Secret != "" {
		t.Fatalf("migrated: %+v, %v", migrated, err)
	}
	if n, bad := deliverOnce(t, st, kek, migrated, plain, "evt-2", now); n != 1 || bad != 0 {
		t.Errorf("after sealing: %d requests, %d bad", n, bad)
	}
}
