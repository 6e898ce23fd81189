package notify

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/store/bolt"
)

// TestWatcherWebhooks: a watcher key owns its endpoints; no other
// watcher, and no issuer's admin, sees or changes them, and a watcher
// sees no issuer's endpoints.
func TestWatcherWebhooks(t *testing.T) {
	st, err := bolt.Open(filepath.Join(t.TempDir(), "certd.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ctx := t.Context()
	if err := st.CreateIssuer(ctx, &cert.Issuer{ID: "cb", Name: "CB", TimeZone: "Asia/Shanghai"}); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
	s := &Webhooks{Store: st, Secrets: testKEK(t, 4), Now: func() time.Time { return now }}
	alice := cert.Principal{KeyID: "alice", Role: cert.RoleWatcher}
	bob := cert.Principal{KeyID: "bob", Role: cert.RoleWatcher}
	cbAdmin := cert.Principal{KeyID: "cb-admin", Role: cert.RoleAdmin, Issuer: "cb", User: true}

	if _, _, err := s.Create(ctx, alice, WebhookRequest{Issuer: "cb", URL: "https://alice.example/h"}); !errors.Is(err, cert.ErrInvalid) {
		t.Errorf("a watcher naming an issuer: %v, want invalid", err)
	}
	w, secret, err := s.Create(ctx, alice, WebhookRequest{URL: "https://alice.example/h"})
	if err != nil || w.Watcher != "alice" || w.Issuer != "" || secret == "" {
		t.Fatalf("Create = %+v, %q, %v", w, secret, err)
	}
	issuerHook, _, err := s.Create(ctx, cert.Principal{KeyID: "root", Role: cert.RoleAdmin}, WebhookRequest{Issuer: "cb", URL: "https://crm.example/h"})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s.List(ctx, alice, ""); err != nil || len(got) != 1 || got[0].ID != w.ID {
		t.Errorf("alice's list = %v, %v", got, err)
	}
	if got, err := s.List(ctx, bob, ""); err != nil || len(got) != 0 {
		t.Errorf("bob's list = %v, %v", got, err)
	}
	if got, _ := s.List(ctx, alice, "cb"); len(got) != 0 {
		t.Errorf("a watcher lists an issuer's webhooks: %v", got)
	}
	for name, p := range map[string]cert.Principal{"bob": bob, "the issuer's admin": cbAdmin} {
		if _, err := s.Get(ctx, p, w.ID); !errors.Is(err, cert.ErrNotFound) {
			t.Errorf("%s reads alice's webhook: %v", name, err)
		}
		if err := s.Delete(ctx, p, w.ID); !errors.Is(err, cert.ErrNotFound) {
			t.Errorf("%s deletes alice's webhook: %v", name, err)
		}
	}
	if _, err := s.Get(ctx, alice, issuerHook.ID); !errors.Is(err, cert.ErrNotFound) {
		t.Errorf("alice reads the issuer's webhook: %v", err)
	}
	off := false
	if got, err := s.Update(ctx, alice, w.ID, WebhookPatch{Active: &off}); err != nil || got.Active || got.Watcher != "alice" {
		t.Errorf("alice updates her webhook: %+v, %v", got, err)
	}
	if err := s.Delete(ctx, alice, w.ID); err != nil {
		t.Errorf("alice deletes her webhook: %v", err)
	}
}

// A watcher's signing secret is sealed at rest like an issuer's, and a
// watcher key registers at most MaxWatcherWebhooks endpoints.
func TestWatcherSecretSealedAndCapped(t *testing.T) {
	path := filepath.Join(t.TempDir(), "certd.db")
	st, err := bolt.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
	uc := &Webhooks{Store: st, Secrets: testKEK(t, 3), Now: func() time.Time { return now }}
	alice := cert.Principal{KeyID: "alice", Role: cert.RoleWatcher}
	w, secret, err := uc.Create(t.Context(), alice, WebhookRequest{URL: "https://alice.example/h"})
	if err != nil {
		t.Fatal(err)
	}
	stored, err := st.Webhook(t.Context(), w.ID)
	if err != nil || stored.Secret != "" || len(stored.SealedSecret) == 0 {
		t.Fatalf("stored watcher webhook: plaintext %q, %d sealed bytes, %v", stored.Secret, len(stored.SealedSecret), err)
	}
	for range MaxWatcherWebhooks - 1 {
		if _, _, err := uc.Create(t.Context(), alice, WebhookRequest{URL: "https://alice.example/h"}); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := uc.Create(t.Context(), alice, WebhookRequest{URL: "https://alice.example/h"}); !errors.Is(err, cert.ErrInvalid) {
		t.Errorf("endpoint %d of one watcher: %v, want refused", MaxWatcherWebhooks+1, err)
	}
	st.Close()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, form := range secretForms(t, secret) {
		if bytes.Contains(raw, form) {
			t.Error("the bbolt file holds the watcher's secret")
		}
	}
}
