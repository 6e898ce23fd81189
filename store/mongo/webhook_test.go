package mongo_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

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
