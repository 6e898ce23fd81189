package mongo_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	driver "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/keys"
	"github.com/certd/certd/notify"
	"github.com/certd/certd/store/mongo"
	"github.com/certd/certd/store/mongo/mongotest"
)

// TestLeaseAcrossClients: two stores with their own connections to one
// database, as two certd instances have, race for the same due
// deliveries; the database hands each to exactly one of them.
func TestLeaseAcrossClients(t *testing.T) {
	uri := mongotest.URI(t)
	stores := []*mongo.Store{mongotest.OpenURI(t, uri), mongotest.OpenURI(t, uri)}
	created := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
	const n = 30
	for i := range n {
		d := &cert.Delivery{ID: fmt.Sprintf("msg_%02d", i), Webhook: "wh1", Issuer: "cb", EventType: cert.WebhookCertificateIssued,
			Payload: []byte(`{}`), Status: cert.DeliveryPending, NextAttemptAt: created, CreatedAt: created}
		if err := stores[0].EnqueueDelivery(t.Context(), d); err != nil {
			t.Fatal(err)
		}
	}
	now := created.Add(time.Second)
	var mu sync.Mutex
	owners := map[string][]string{}
	var wg sync.WaitGroup
	for i, s := range stores {
		for k := range 3 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				owner := fmt.Sprintf("instance-%d/%d", i, k)
				for {
					got, err := s.LeaseDeliveries(t.Context(), owner, now, now.Add(time.Minute), 2)
					if err != nil {
						t.Error(err)
						return
					}
					if len(got) == 0 {
						return
					}
					mu.Lock()
					for _, d := range got {
						owners[d.ID] = append(owners[d.ID], owner)
					}
					mu.Unlock()
				}
			}()
		}
	}
	wg.Wait()
	if len(owners) != n {
		t.Errorf("%d deliveries leased, want %d", len(owners), n)
	}
	for id, o := range owners {
		if len(o) != 1 {
			t.Errorf("%s leased by %v", id, o)
		}
	}
}

// TestWebhookSecretSealedInDocument: the document of a webhook created
// through the use case holds no form of its secret; a document written
// before secrets were sealed (a plaintext "secret" field) is sealed by
// notify.SealSecrets, once, and still signs with the same secret.
func TestWebhookSecretSealedInDocument(t *testing.T) {
	uri := mongotest.URI(t)
	st := mongotest.OpenURI(t, uri)
	client, err := driver.Connect(options.Client().ApplyURI(uri))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Disconnect(context.Background())
	coll := client.Database(databaseOf(t, uri)).Collection("webhooks")
	raw := func(id string) bson.Raw {
		t.Helper()
		doc, err := coll.FindOne(t.Context(), bson.D{{Key: "_id", Value: id}}).Raw()
		if err != nil {
			t.Fatal(err)
		}
		return doc
	}
	holds := func(doc bson.Raw, secret string) bool {
		key, _ := notify.ParseSecret(secret)
		return bytes.Contains(doc, []byte(secret)) || bytes.Contains(doc, []byte(strings.TrimPrefix(secret, "whsec_"))) || bytes.Contains(doc, key)
	}
	kek, err := keys.ParseKEK([]byte(base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{3}, 32))))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
	if err := st.CreateIssuer(t.Context(), &cert.Issuer{ID: "cb", Name: "CB", CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	uc := &notify.Webhooks{Store: st, Secrets: kek, Now: func() time.Time { return now }}
	hook, secret, err := uc.Create(t.Context(), cert.Principal{Role: cert.RoleAdmin, KeyID: "root"}, notify.WebhookRequest{Issuer: "cb", URL: "https://crm.example.cn/h"})
	if err != nil {
		t.Fatal(err)
	}
	if doc := raw(hook.ID); holds(doc, secret) {
		t.Errorf("the document holds the secret: %s", doc)
	}

	legacySecret, _ := notify.NewSecret()
	if _, err := coll.InsertOne(t.Context(), bson.D{
		{Key: "_id", Value: "wh_legacy"}, {Key: "issuer", Value: "cb"}, {Key: "url", Value: "https://crm.example.cn/old"},
		{Key: "events", Value: bson.A{}}, {Key: "active", Value: true}, {Key: "secret", Value: legacySecret},
		{Key: "disabledReason", Value: ""}, {Key: "createdAt", Value: now}, {Key: "updatedAt", Value: now}, {Key: "version", Value: int64(3)},
	}); err != nil {
		t.Fatal(err)
	}
	n, err := notify.SealSecrets(t.Context(), st, kek)
	if err != nil || n != 1 {
		t.Fatalf("SealSecrets = %d, %v; want 1", n, err)
	}
	if n, err := notify.SealSecrets(t.Context(), st, kek); err != nil || n != 0 {
		t.Errorf("SealSecrets again = %d, %v; want 0", n, err)
	}
	doc := raw("wh_legacy")
	if holds(doc, legacySecret) {
		t.Errorf("the migrated document holds the secret: %s", doc)
	}
	if _, err := doc.LookupErr("secret"); err == nil {
		t.Errorf("the migrated document keeps a secret field: %s", doc)
	}
	got, err := st.Webhook(t.Context(), "wh_legacy")
	if err != nil || got.Version != 3 {
		t.Fatalf("migrated webhook: %+v, %v", got, err)
	}
	if opened, err := notify.OpenSecret(kek, got); err != nil || opened != legacySecret {
		t.Errorf("the migrated secret opens to another value (%v)", err)
	}
}
