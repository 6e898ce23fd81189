package storetest

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/store"
)

var concurrencyTests = []test{
	{"certificates/concurrent-create", testConcurrentCreate},
	{"certificates/concurrent-duplicate", testConcurrentDuplicate},
	{"certificates/concurrent-update", testConcurrentUpdate},
	{"counters/concurrent", testConcurrentCounters},
}

// testConcurrentCreate creates 200 distinct certificates from 32
// goroutines: all succeed and all are stored.
func testConcurrentCreate(t *testing.T, s store.Store) {
	const total, workers = 200, 32
	cs := numbered(t, "issuer-a", total)
	work := make(chan *cert.Certificate)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for c := range work {
				if err := s.CreateCertificate(t.Context(), c); err != nil {
					t.Errorf("CreateCertificate(%s): %v", c.ID, err)
				}
			}
		})
	}
	for _, c := range cs {
		work <- c
	}
	close(work)
	wg.Wait()

	for _, c := range cs {
		if c.Version != 1 {
			t.Errorf("%s: Version = %d after create, want 1", c.ID, c.Version)
		}
		sameCert(t, "concurrently created", get(t, s, c.ID), c)
	}
	assertList(t, s, store.Query{Issuer: "issuer-a"}, 1000, ids(cs))
}

// testConcurrentDuplicate creates 16 certificates with the same number at
// once: exactly one is stored.
func testConcurrentDuplicate(t *testing.T, s store.Store) {
	const n = 16
	cs := numbered(t, "issuer-a", n)
	for _, c := range cs[1:] {
		c.Number = cs[0].Number
	}
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i, c := range cs {
		wg.Go(func() { errs[i] = s.CreateCertificate(t.Context(), c) })
	}
	wg.Wait()

	var winner *cert.Certificate
	for i, err := range errs {
		switch {
		case err == nil && winner != nil:
			t.Errorf("both %s and %s were stored with number %s", winner.ID, cs[i].ID, cs[i].Number)
		case err == nil:
			winner = cs[i]
		case !errors.Is(err, store.ErrAlreadyExists):
			t.Errorf("CreateCertificate(%s): err = %v, want nil or ErrAlreadyExists", cs[i].ID, err)
		}
	}
	if winner == nil {
		t.Fatalf("none of %d certificates with the same number was stored", n)
	}
	got, err := s.CertificateByNumber(t.Context(), "issuer-a", cs[0].Number)
	if err != nil || got.ID != winner.ID {
		t.Errorf("CertificateByNumber = %v, %v; want the one stored (%s)", got, err, winner.ID)
	}
	assertList(t, s, store.Query{Issuer: "issuer-a"}, 0, []string{winner.ID})
}

// testConcurrentUpdate appends one event from each of 10 goroutines, each
// retrying its read-modify-write on ErrConflict: no event is lost.
func testConcurrentUpdate(t *testing.T, s store.Store) {
	const writers = 10
	c := NewCertificate(t, "issuer-a")
	c.Events = nil
	create(t, s, c)

	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			reason := fmt.Sprintf("writer %d", w)
			for attempt := 1; ; attempt++ {
				cur, err := s.Certificate(t.Context(), c.ID)
				if err != nil {
					t.Errorf("%s: Certificate: %v", reason, err)
					return
				}
				suspend(cur, reason)
				err = s.UpdateCertificate(t.Context(), cur)
				if err == nil {
					return
				}
				if !errors.Is(err, store.ErrConflict) {
					t.Errorf("%s: UpdateCertificate: err = %v, want nil or ErrConflict", reason, err)
					return
				}
				if attempt > 1000 {
					t.Errorf("%s: still conflicting after %d attempts", reason, attempt)
					return
				}
			}
		})
	}
	wg.Wait()

	got := get(t, s, c.ID)
	if len(got.Events) != writers || got.Version != writers+1 {
		t.Errorf("after %d concurrent updates: %d events, version %d; want %d events, version %d",
			writers, len(got.Events), got.Version, writers, writers+1)
	}
	var reasons []string
	for i, e := range got.Events {
		if e.Seq != i+1 {
			t.Errorf("event %d has Seq %d, want %d", i, e.Seq, i+1)
		}
		reasons = append(reasons, e.Reason)
	}
	slices.Sort(reasons)
	for w := range writers {
		if _, found := slices.BinarySearch(reasons, fmt.Sprintf("writer %d", w)); !found {
			t.Errorf("the event of writer %d was lost", w)
		}
	}
}

// testConcurrentCounters takes 800 reservations of mixed sizes from 16
// goroutines: the ranges are disjoint and cover 1..total exactly.
func testConcurrentCounters(t *testing.T, s store.Store) {
	const workers, calls = 16, 50
	type span struct{ first, n int64 }
	spans := make([][]span, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range calls {
				n := int64(1 + (w*calls+i)%7)
				first, err := s.NextSequence(t.Context(), "itss-2026", n)
				if err != nil {
					t.Errorf("NextSequence(%d): %v", n, err)
					return
				}
				spans[w] = append(spans[w], span{first, n})
			}
		})
	}
	wg.Wait()

	var all []span
	var total int64
	for _, ss := range spans {
		all = append(all, ss...)
		for _, sp := range ss {
			total += sp.n
		}
	}
	if len(all) != workers*calls {
		t.Fatalf("%d reservations succeeded, want %d", len(all), workers*calls)
	}
	slices.SortFunc(all, func(a, b span) int { return int(a.first - b.first) })
	next := int64(1)
	for _, sp := range all {
		if sp.first != next {
			t.Fatalf("reservation starting at %d (n=%d), want one starting at %d: values overlap or are skipped", sp.first, sp.n, next)
		}
		next += sp.n
	}
	if next-1 != total {
		t.Errorf("reservations cover 1..%d, want 1..%d", next-1, total)
	}
	after, err := s.NextSequence(t.Context(), "itss-2026", 1)
	if err != nil || after != total+1 {
		t.Errorf("NextSequence after the concurrent calls = %d, %v; want %d", after, err, total+1)
	}
}
