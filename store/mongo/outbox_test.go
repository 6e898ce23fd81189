package mongo_test

import (
	"testing"
	"time"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/store/mongo"
	"github.com/certd/certd/store/mongo/mongotest"
	"github.com/certd/certd/store/storetest"
)

// A round of LeaseOutbox makes one round trip per certificate. Over a
// network of 300 ms a round trip, 30 marked certificates take 9 s, three
// times the store's call timeout: each round must hand over the
// certificates it leased in time. A round that failed instead, holding
// what it had leased, was dropped by the dispatcher, so not one
// certificate was ever dispatched and the outbox never drained (as on a
// slow or distant database with a backlog, and on the test server at a
// few thousand certificates).
func TestLeaseOutboxOverSlowNetwork(t *testing.T) {
	srv := mongotest.Start(t)
	uri := srv.DatabaseURI(t)
	const n = 30
	var cs []*cert.Certificate
	for range n {
		cs = append(cs, storetest.NewCertificate(t, "issuer-a"))
	}
	errs, err := mongotest.OpenURI(t, uri).CreateCertificates(t.Context(), cs)
	if err != nil {
		t.Fatal(err)
	}
	for i, err := range errs {
		if err != nil {
			t.Fatalf("certificate %d: %v", i, err)
		}
	}
	s := mongotest.OpenURI(t, uri, mongo.WithTimeout(3*time.Second))
	srv.SetLatency(300 * time.Millisecond)
	t.Cleanup(func() { srv.SetLatency(0) })

	now := time.Now()
	leased := map[string]bool{}
	for round := 1; len(leased) < n; round++ {
		if round > n {
			t.Fatalf("%d rounds leased %d of %d certificates", n, len(leased), n)
		}
		es, err := s.LeaseOutbox(t.Context(), "a", now, now.Add(time.Hour), 500)
		if err != nil {
			t.Fatalf("round %d: LeaseOutbox: %v (%d entries handed over, %d of %d leased before)", round, err, len(es), len(leased), n)
		}
		if len(es) == 0 {
			t.Fatalf("round %d leased nothing; %d of %d were leased before", round, len(leased), n)
		}
		for _, e := range es {
			if leased[e.Certificate.ID] {
				t.Fatalf("round %d: %s leased twice", round, e.Certificate.ID)
			}
			leased[e.Certificate.ID] = true
		}
	}
}
