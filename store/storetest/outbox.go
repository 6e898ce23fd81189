package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/store"
)

var outboxTests = []test{
	{"outbox/write-marks", testOutboxWriteMarks},
	{"outbox/finish-clears", testOutboxFinishClears},
	{"outbox/write-during-lease", testOutboxWriteDuringLease},
	{"outbox/lease-expires", testOutboxLeaseExpires},
	{"outbox/batch-marks", testOutboxBatchMarks},
	{"outbox/lease-concurrent", testOutboxLeaseConcurrent},
	{"outbox/finish-many", testOutboxFinishMany},
}

var outboxNow = time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)

// leaseAll leases until nothing is left and returns the entries by id.
func leaseAll(t *testing.T, s store.Store, owner string, now time.Time) map[string]*store.OutboxEntry {
	t.Helper()
	out := map[string]*store.OutboxEntry{}
	for {
		es, err := s.LeaseOutbox(context.Background(), owner, now, now.Add(time.Minute), 7)
		if err != nil {
			t.Fatalf("LeaseOutbox: %v", err)
		}
		if len(es) == 0 {
			return out
		}
		for _, e := range es {
			if out[e.Certificate.ID] != nil {
				t.Fatalf("certificate %s leased twice by %s within its lease", e.Certificate.ID, owner)
			}
			out[e.Certificate.ID] = e
		}
	}
}

func finish(t *testing.T, s store.Store, e *store.OutboxEntry, owner string) {
	t.Helper()
	e.Dispatched = len(e.Certificate.Events)
	if err := finishOne(s, e, owner); err != nil {
		t.Fatalf("FinishOutbox %s: %v", e.Certificate.ID, err)
	}
}

// finishOne finishes one entry and returns its error.
func finishOne(s store.Store, e *store.OutboxEntry, owner string) error {
	errs, err := s.FinishOutbox(context.Background(), owner, []*store.OutboxEntry{e})
	if err != nil {
		return err
	}
	return errs[0]
}

func testOutboxWriteMarks(t *testing.T, s store.Store) {
	ctx := context.Background()
	c := NewCertificate(t, "cesa-itss")
	if err := s.CreateCertificate(ctx, c); err != nil {
		t.Fatal(err)
	}
	got := leaseAll(t, s, "a", outboxNow)
	e := got[c.ID]
	if len(got) != 1 || e == nil {
		t.Fatalf("after a create, leased %d entries, want the certificate", len(got))
	}
	if e.Dispatched != 0 || len(e.Certificate.Events) != len(c.Events) || e.Certificate.Version != 1 {
		t.Errorf("entry: dispatched %d, %d events, version %d; want 0, %d, 1", e.Dispatched, len(e.Certificate.Events), e.Certificate.Version, len(c.Events))
	}
	finish(t, s, e, "a")
	if got := leaseAll(t, s, "b", outboxNow.Add(2*time.Minute)); len(got) != 0 {
		t.Fatalf("after finishing, %d entries left", len(got))
	}
	// An update marks it again, with the count kept.
	c.Append(cert.Event{Type: cert.EventSuspended, At: outboxNow, RecordedAt: outboxNow, Actor: "clerk", Reason: "audit"})
	if err := s.UpdateCertificate(ctx, c); err != nil {
		t.Fatal(err)
	}
	got = leaseAll(t, s, "a", outboxNow.Add(3*time.Minute))
	e = got[c.ID]
	if e == nil || e.Dispatched != len(c.Events)-1 || e.Certificate.Version != 2 {
		t.Fatalf("after an update: %+v; want the certificate, dispatched %d, version 2", e, len(c.Events)-1)
	}
}

func testOutboxFinishClears(t *testing.T, s store.Store) {
	ctx := context.Background()
	c := NewCertificate(t, "cesa-itss")
	if err := s.CreateCertificate(ctx, c); err != nil {
		t.Fatal(err)
	}
	e := leaseAll(t, s, "a", outboxNow)[c.ID]
	e.Dispatched = 1
	if err := finishOne(s, e, "b"); !errors.Is(err, store.ErrConflict) {
		t.Errorf("FinishOutbox by a non-holder: %v, want ErrConflict", err)
	}
	finish(t, s, e, "a")
	if err := finishOne(s, e, "a"); !errors.Is(err, store.ErrConflict) {
		t.Errorf("FinishOutbox twice: %v, want ErrConflict", err)
	}
	ghost := &store.OutboxEntry{Certificate: &cert.Certificate{ID: "cert_missing00000000000000", Version: 1}}
	if err := finishOne(s, ghost, "a"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("FinishOutbox of a missing certificate: %v, want ErrNotFound", err)
	}
	// The stored count never goes down.
	c.Append(cert.Event{Type: cert.EventSuspended, At: outboxNow, RecordedAt: outboxNow, Actor: "clerk", Reason: "audit"})
	if err := s.UpdateCertificate(ctx, c); err != nil {
		t.Fatal(err)
	}
	e = leaseAll(t, s, "a", outboxNow.Add(time.Hour))[c.ID]
	e.Dispatched = 0
	if err := finishOne(s, e, "a"); err != nil {
		t.Fatal(err)
	}
	c.Append(cert.Event{Type: cert.EventReinstated, At: outboxNow, RecordedAt: outboxNow, Actor: "clerk", Reason: "ok"})
	if err := s.UpdateCertificate(ctx, c); err != nil {
		t.Fatal(err)
	}
	if e := leaseAll(t, s, "a", outboxNow.Add(2*time.Hour))[c.ID]; e == nil || e.Dispatched != 1 {
		t.Fatalf("count after finishing with a lower one: %+v, want 1", e)
	}
}

func testOutboxWriteDuringLease(t *testing.T, s store.Store) {
	ctx := context.Background()
	c := NewCertificate(t, "cesa-itss")
	if err := s.CreateCertificate(ctx, c); err != nil {
		t.Fatal(err)
	}
	e := leaseAll(t, s, "a", outboxNow)[c.ID]
	// A write while "a" dispatches version 1.
	c.Append(cert.Event{Type: cert.EventWithdrawn, At: outboxNow, RecordedAt: outboxNow, Actor: "clerk", Reason: "fraud"})
	if err := s.UpdateCertificate(ctx, c); err != nil {
		t.Fatal(err)
	}
	// The lease holds against others until it ends.
	if got := leaseAll(t, s, "b", outboxNow.Add(time.Second)); len(got) != 0 {
		t.Fatalf("a write during the lease let another owner lease it")
	}
	finish(t, s, e, "a")
	got := leaseAll(t, s, "b", outboxNow.Add(2*time.Second))[c.ID]
	if got == nil {
		t.Fatal("the write during the lease was lost: the certificate is no longer marked")
	}
	if got.Certificate.Version != 2 || got.Dispatched != len(c.Events)-1 {
		t.Fatalf("re-leased entry: version %d, dispatched %d; want 2, %d", got.Certificate.Version, got.Dispatched, len(c.Events)-1)
	}
	finish(t, s, got, "b")
	if left := leaseAll(t, s, "c", outboxNow.Add(time.Hour)); len(left) != 0 {
		t.Fatalf("%d entries left after the last finish", len(left))
	}
}

func testOutboxLeaseExpires(t *testing.T, s store.Store) {
	ctx := context.Background()
	c := NewCertificate(t, "cesa-itss")
	if err := s.CreateCertificate(ctx, c); err != nil {
		t.Fatal(err)
	}
	if es, err := s.LeaseOutbox(ctx, "a", outboxNow, outboxNow.Add(time.Minute), 10); err != nil || len(es) != 1 {
		t.Fatalf("lease: %d, %v", len(es), err)
	}
	if es, _ := s.LeaseOutbox(ctx, "b", outboxNow.Add(59*time.Second), outboxNow.Add(2*time.Minute), 10); len(es) != 0 {
		t.Fatal("leased again before the lease ended")
	}
	es, err := s.LeaseOutbox(ctx, "b", outboxNow.Add(61*time.Second), outboxNow.Add(2*time.Minute), 10)
	if err != nil || len(es) != 1 {
		t.Fatalf("lease after the end of the first: %d, %v", len(es), err)
	}
	if err := finishOne(s, es[0], "a"); !errors.Is(err, store.ErrConflict) {
		t.Errorf("the first holder finished after losing its lease: %v, want ErrConflict", err)
	}
	finish(t, s, es[0], "b")
}

func testOutboxBatchMarks(t *testing.T, s store.Store) {
	ctx := context.Background()
	var cs []*cert.Certificate
	for range 25 {
		cs = append(cs, NewCertificate(t, "cesa-itss"))
	}
	dup := *cs[3]
	dup.ID = "cert_dup00000000000000000000"
	cs = append(cs, &dup) // refused: its number is taken
	errs, err := s.CreateCertificates(ctx, cs)
	if err != nil {
		t.Fatal(err)
	}
	if !errors.Is(errs[25], store.ErrAlreadyExists) {
		t.Fatalf("duplicate: %v", errs[25])
	}
	got := leaseAll(t, s, "a", outboxNow)
	if len(got) != 25 {
		t.Fatalf("a batch of 25 (and one refused) marked %d", len(got))
	}
	if got[dup.ID] != nil {
		t.Fatal("the refused certificate was marked")
	}
}

func testOutboxLeaseConcurrent(t *testing.T, s store.Store) {
	ctx := context.Background()
	const n = 30
	for range n {
		if err := s.CreateCertificate(ctx, NewCertificate(t, "cesa-itss")); err != nil {
			t.Fatal(err)
		}
	}
	var (
		mu  sync.Mutex
		got = map[string]string{}
		wg  sync.WaitGroup
	)
	for w := range 4 {
		owner := fmt.Sprintf("w%d", w)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				es, err := s.LeaseOutbox(ctx, owner, outboxNow, outboxNow.Add(time.Minute), 3)
				if err != nil {
					t.Errorf("LeaseOutbox: %v", err)
					return
				}
				if len(es) == 0 {
					return
				}
				mu.Lock()
				for _, e := range es {
					if prev, ok := got[e.Certificate.ID]; ok {
						t.Errorf("certificate %s leased by %s and %s", e.Certificate.ID, prev, owner)
					}
					got[e.Certificate.ID] = owner
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(got) != n {
		t.Fatalf("leased %d of %d", len(got), n)
	}
}

func testOutboxFinishMany(t *testing.T, s store.Store) {
	ctx := context.Background()
	var cs []*cert.Certificate
	for range 5 {
		c := NewCertificate(t, "cesa-itss")
		if err := s.CreateCertificate(ctx, c); err != nil {
			t.Fatal(err)
		}
		cs = append(cs, c)
	}
	got := leaseAll(t, s, "a", outboxNow)
	// cs[1] is written again during the lease; cs[2] is leased by "b"
	// after "a"'s lease ended; a missing certificate in the middle.
	cs[1].Append(cert.Event{Type: cert.EventSuspended, At: outboxNow, RecordedAt: outboxNow, Actor: "clerk", Reason: "audit"})
	if err := s.UpdateCertificate(ctx, cs[1]); err != nil {
		t.Fatal(err)
	}
	es := []*store.OutboxEntry{got[cs[0].ID], got[cs[1].ID], {Certificate: &cert.Certificate{ID: "cert_missing00000000000000", Version: 1}}, got[cs[3].ID], got[cs[4].ID]}
	for _, e := range es {
		e.Dispatched = 1
	}
	errs, err := s.FinishOutbox(ctx, "a", es)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []error{nil, nil, store.ErrNotFound, nil, nil} {
		if !errors.Is(errs[i], want) || (want == nil && errs[i] != nil) {
			t.Errorf("errs[%d] = %v, want %v", i, errs[i], want)
		}
	}
	left := leaseAll(t, s, "c", outboxNow.Add(2*time.Minute))
	if len(left) != 2 || left[cs[1].ID] == nil || left[cs[2].ID] == nil {
		t.Fatalf("left marked: %d entries; want the one written again and the one not finished", len(left))
	}
}
