package storetest

import (
	"context"
	"errors"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/store"
)

// RunSubmissions is the conformance suite of store.Submissions.
func RunSubmissions(t *testing.T, open func(t testing.TB) store.Submissions) {
	t.Run("submissions/round trip and order", func(t *testing.T) {
		s := open(t)
		ctx := context.Background()
		at := time.Date(2026, 12, 2, 9, 0, 0, 123456789, time.UTC)
		later := &cert.Submission{ID: "b", Issuer: "cb", Target: "cnca", Period: "2026-11", SubmittedAt: at.Add(time.Hour), Actor: "apikey:k", Entries: []string{"X/issued/1"}}
		first := &cert.Submission{ID: "c", Issuer: "cb", Target: "cnca", Period: "2026-10", SubmittedAt: at, Actor: "apikey:k", Entries: []string{"Y/suspended/2", "Z/issued/3"}}
		other := &cert.Submission{ID: "a", Issuer: "cb", Target: "iafcertsearch", Period: "2026-11", SubmittedAt: at, Entries: []string{}}
		otherIssuer := &cert.Submission{ID: "d", Issuer: "cb2", Target: "cnca", Period: "2026-11", SubmittedAt: at, Entries: []string{}}
		for _, sub := range []*cert.Submission{later, first, other, otherIssuer} {
			if err := s.CreateSubmission(ctx, sub); err != nil {
				t.Fatalf("create %s: %v", sub.ID, err)
			}
		}
		got, err := s.Submissions(ctx, "cb", "cnca")
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || !reflect.DeepEqual(*got[0], *first) || !reflect.DeepEqual(*got[1], *later) {
			t.Errorf("got %+v, want %+v then %+v", got, first, later)
		}
		if err := s.CreateSubmission(ctx, &cert.Submission{ID: "b", Issuer: "cb", Target: "cnca", Period: "2026-12", SubmittedAt: at}); !errors.Is(err, store.ErrAlreadyExists) {
			t.Errorf("duplicate id: got %v, want ErrAlreadyExists", err)
		}
		if got, err := s.Submissions(ctx, "nobody", "cnca"); err != nil || len(got) != 0 {
			t.Errorf("none: got %v, %v", got, err)
		}
	})
	t.Run("submissions/concurrent marks are all kept", func(t *testing.T) {
		s := open(t)
		ctx := context.Background()
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				sub := &cert.Submission{ID: cert.NewID(), Issuer: "cb", Target: "cnca", Period: "2026-11", SubmittedAt: time.Date(2026, 12, 2, 0, 0, i, 0, time.UTC), Entries: []string{"k"}}
				if err := s.CreateSubmission(ctx, sub); err != nil {
					t.Errorf("create: %v", err)
				}
			}()
		}
		wg.Wait()
		if got, err := s.Submissions(ctx, "cb", "cnca"); err != nil || len(got) != 8 {
			t.Errorf("got %d submissions, %v; want 8", len(got), err)
		}
	})
}
