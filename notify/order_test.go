package notify

import (
	"net/http"
	"slices"
	"testing"

	"github.com/certd/certd/cert"
)

// enqueueEvent enqueues the delivery of event seq of certificate c, with
// the given id (so that a test chooses how the ids sort), due now.
func (f *fixture) enqueueEvent(t *testing.T, id, c string, seq int) *cert.Delivery {
	t.Helper()
	d, err := NewDelivery(f.hook, CertificateEventID(c, seq), Message{Type: cert.WebhookCertificateWithdrawn, Timestamp: f.clock.Now()}, f.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	d.ID, d.Certificate, d.Seq = id, c, seq
	if err := f.store.EnqueueDelivery(t.Context(), d); err != nil {
		t.Fatal(err)
	}
	return d
}

// drain runs rounds until one finds no work (at most 10).
func (f *fixture) drain(t *testing.T) {
	t.Helper()
	for range 10 {
		if f.run(t) == 0 {
			return
		}
	}
	t.Fatal("the worker still finds work after 10 rounds")
}

// TestWorkerDeliversInEventOrder: three events of one certificate
// enqueued at one instant, whose delivery ids sort against the events'
// order, reach the receiver in the events' order, whether one round
// leases them all or one at a time.
func TestWorkerDeliversInEventOrder(t *testing.T) {
	for _, batch := range []int{20, 1} {
		t.Run(map[int]string{20: "ok/one-round", 1: "ok/batch-of-one"}[batch], func(t *testing.T) {
			f := newFixture(t, true, func(int) int { return http.StatusOK })
			f.worker.Batch = batch
			// msg_1 sorts first but is the third event.
			want := []string{
				f.enqueueEvent(t, "msg_3", "CERT1", 1).ID,
				f.enqueueEvent(t, "msg_2", "CERT1", 2).ID,
				f.enqueueEvent(t, "msg_1", "CERT1", 3).ID,
			}
			f.drain(t)
			if got, _ := f.recv.seen(); !slices.Equal(got, want) {
				t.Errorf("delivered %v, want %v in order", got, want)
			}
		})
	}
}

// TestWorkerFailureHoldsLaterEvents: the first event's delivery fails
// once; the second is not attempted, nor leased, until the first
// succeeds on its retry.
func TestWorkerFailureHoldsLaterEvents(t *testing.T) {
	f := newFixture(t, true, func(n int) int {
		if n == 1 {
			return http.StatusInternalServerError
		}
		return http.StatusOK
	})
	// Both are leased in the first round (the ids sort in event order).
	first := f.enqueueEvent(t, "msg_a", "CERT1", 1)
	second := f.enqueueEvent(t, "msg_b", "CERT1", 2)
	if n := f.run(t); n != 2 {
		t.Fatalf("first round leased %d, want 2", n)
	}
	if got, _ := f.recv.seen(); !slices.Equal(got, []string{first.ID}) {
		t.Fatalf("first round delivered %v, want only %s (failing)", got, first.ID)
	}
	held := f.delivery(t, second.ID)
	if held.Status != cert.DeliveryPending || held.Attempts != 0 || held.LeaseOwner != "" {
		t.Errorf("held delivery: status %s, attempts %d, lease owner %q; want pending, 0, released", held.Status, held.Attempts, held.LeaseOwner)
	}
	// The second is due, the first waits for its retry: nothing goes.
	if n := f.run(t); n != 0 {
		t.Fatalf("leased %d while the first event's delivery waits for its retry, want 0", n)
	}
	f.clock.Set(f.delivery(t, first.ID).NextAttemptAt)
	f.drain(t)
	want := []string{first.ID, first.ID, second.ID}
	if got, _ := f.recv.seen(); !slices.Equal(got, want) {
		t.Errorf("delivered %v, want %v", got, want)
	}
	for _, id := range []string{first.ID, second.ID} {
		if d := f.delivery(t, id); d.Status != cert.DeliveryDelivered {
			t.Errorf("%s: status %s, want delivered", id, d.Status)
		}
	}
}

// TestWorkerFailureHoldsOnlyItsGroup: a certificate whose receiver
// keeps failing holds its own later events, not another certificate's.
func TestWorkerFailureHoldsOnlyItsGroup(t *testing.T) {
	f := newFixture(t, true, nil)
	f.recv.byID = func(id string) int {
		if id == "msg_a1" {
			return http.StatusInternalServerError
		}
		return http.StatusOK
	}
	a1 := f.enqueueEvent(t, "msg_a1", "CERTA", 1)
	a2 := f.enqueueEvent(t, "msg_a2", "CERTA", 2)
	b1 := f.enqueueEvent(t, "msg_b1", "CERTB", 1)
	f.drain(t)
	f.clock.Set(f.delivery(t, a1.ID).NextAttemptAt)
	b2 := f.enqueueEvent(t, "msg_b2", "CERTB", 2)
	f.drain(t)
	got, _ := f.recv.seen()
	count := map[string]int{}
	for _, id := range got {
		count[id]++
	}
	if count[a1.ID] != 2 || count[a2.ID] != 0 || count[b1.ID] != 1 || count[b2.ID] != 1 {
		t.Errorf("attempts %v; want %s twice (failing), %s never (held), %s and %s once", count, a1.ID, a2.ID, b1.ID, b2.ID)
	}
	if i, j := slices.Index(got, b1.ID), slices.Index(got, b2.ID); i > j {
		t.Errorf("delivered %v: %s after %s", got, b1.ID, b2.ID)
	}
}
