package mongo_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	driver "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/certd/certd/cert"
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

// TestWebhookSecretSealedInDocument: the document of a webhook stored
// with a sealed secret has no secret field; a document written before
// secrets were sealed (a plaintext "secret" field) keeps neither the field
// nor the value once SealWebhookSecret replaced it, and its version stays.
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
	now := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
	sealed := []byte{0x9c, 0x01, 0xfe, 0x42, 0x00, 0x17}
	w := &cert.Webhook{ID: "wh_new", Issuer: "cb", URL: "https://crm.example.cn/h", Active: true, SealedSecret: sealed, CreatedAt: now, UpdatedAt: now}
	if err := st.CreateWebhook(t.Context(), w); err != nil {
		t.Fatal(err)
	}
	if _, err := raw("wh_new").LookupErr("secret"); err == nil {
		t.Errorf("a sealed webhook's document has a secret field: %s", raw("wh_new"))
	}

	const legacySecret = "whsec_bGVnYWN5LXBsYWludGV4dC1zZWNyZXQtMzItYnl0ZXMh"
	if _, err := coll.InsertOne(t.Context(), bson.D{
		{Key: "_id", Value: "wh_legacy"}, {Key: "issuer", Value: "cb"}, {Key: "url", Value: "https://crm.example.cn/old"},
		{Key: "events", Value: bson.A{}}, {Key: "active", Value: true}, {Key: "secret", Value: legacySecret},
		{Key: "disabledReason", Value: ""}, {Key: "createdAt", Value: now}, {Key: "updatedAt", Value: now}, {Key: "version", Value: int64(3)},
	}); err != nil {
		t.Fatal(err)
	}
	got, err := st.Webhook(t.Context(), "wh_legacy")
	if err != nil || got.Secret != legacySecret {
		t.Fatalf("legacy webhook: %+v, %v", got, err)
	}
	if err := st.SealWebhookSecret(t.Context(), "wh_legacy", legacySecret, sealed); err != nil {
		t.Fatal(err)
	}
	doc := raw("wh_legacy")
	if _, err := doc.LookupErr("secret"); err == nil || bytes.Contains(doc, []byte(strings.TrimPrefix(legacySecret, "whsec_"))) {
		t.Errorf("the sealed document keeps the plaintext: %s", doc)
	}
	if got, err := st.Webhook(t.Context(), "wh_legacy"); err != nil || got.Version != 3 || !bytes.Equal(got.SealedSecret, sealed) || got.Secret != "" {
		t.Errorf("after sealing: %+v, %v", got, err)
	}
}

// TestLeaseDeliveriesOverSlowNetwork is TestLeaseOutboxOverSlowNetwork for
// webhook deliveries: a lease takes two round trips or more, and 20 of
// them over 300 ms each are four times the call timeout; each round must
// hand over what it leased in time.
func TestLeaseDeliveriesOverSlowNetwork(t *testing.T) {
	srv := mongotest.Start(t)
	uri := srv.DatabaseURI(t)
	created := time.Now().Add(-time.Minute)
	const n = 20
	setup := mongotest.OpenURI(t, uri)
	for i := range n {
		d := &cert.Delivery{ID: fmt.Sprintf("msg_%02d", i), Webhook: "wh1", Issuer: "cb", EventType: cert.WebhookCertificateIssued,
			Payload: []byte(`{}`), Status: cert.DeliveryPending, NextAttemptAt: created, CreatedAt: created}
		if err := setup.EnqueueDelivery(t.Context(), d); err != nil {
			t.Fatal(err)
		}
	}
	s := mongotest.OpenURI(t, uri, mongo.WithTimeout(3*time.Second))
	srv.SetLatency(300 * time.Millisecond)
	t.Cleanup(func() { srv.SetLatency(0) })

	now := time.Now()
	leased := map[string]bool{}
	for round := 1; len(leased) < n; round++ {
		if round > n {
			t.Fatalf("%d rounds leased %d of %d deliveries", n, len(leased), n)
		}
		ds, err := s.LeaseDeliveries(t.Context(), "a", now, now.Add(time.Hour), n)
		if err != nil {
			t.Fatalf("round %d: LeaseDeliveries: %v (%d handed over, %d of %d leased before)", round, err, len(ds), len(leased), n)
		}
		if len(ds) == 0 {
			t.Fatalf("round %d leased nothing; %d of %d were leased before", round, len(leased), n)
		}
		for _, d := range ds {
			if leased[d.ID] {
				t.Fatalf("round %d: %s leased twice", round, d.ID)
			}
			leased[d.ID] = true
		}
	}
}
