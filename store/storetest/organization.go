package storetest

import (
	"context"
	"reflect"
	"sync"
	"testing"

	"github.com/certd/certd/store"
)

// RunOrganizations is the conformance suite of store.Organizations.
func RunOrganizations(t *testing.T, open func(t testing.TB) store.Organizations) {
	t.Run("organizations/set, clear and list per issuer", func(t *testing.T) {
		s := open(t)
		ctx := context.Background()
		if got, err := s.ConfidentialOrganizations(ctx, "cb"); err != nil || got == nil || len(got) != 0 {
			t.Fatalf("none yet: got %#v, %v; want an empty list", got, err)
		}
		for _, m := range []struct {
			issuer, uscc string
			on           bool
		}{
			{"cb", "91110108MA0123456G", true}, {"cb", "91310000MA1FL0BN2X", true}, {"cb", "91310000MA1FL0BN2X", true},
			{"cb2", "91110108MA0123456G", true}, {"cb", "91440300MA5DC1WL3B", true}, {"cb", "91440300MA5DC1WL3B", false},
			{"cb", "never-set", false},
		} {
			if err := s.SetOrganizationConfidential(ctx, m.issuer, m.uscc, m.on); err != nil {
				t.Fatalf("set %s %s %v: %v", m.issuer, m.uscc, m.on, err)
			}
		}
		want := []string{"91110108MA0123456G", "91310000MA1FL0BN2X"}
		if got, err := s.ConfidentialOrganizations(ctx, "cb"); err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("cb: got %v, %v; want %v", got, err, want)
		}
		if got, err := s.ConfidentialOrganizations(ctx, "cb2"); err != nil || !reflect.DeepEqual(got, want[:1]) {
			t.Errorf("cb2: got %v, %v; want %v", got, err, want[:1])
		}
		// An issuer whose id is a prefix of another's sees only its own.
		if got, err := s.ConfidentialOrganizations(ctx, "c"); err != nil || len(got) != 0 {
			t.Errorf("c: got %v, %v; want none", got, err)
		}
	})
	t.Run("organizations/concurrent marks are all kept", func(t *testing.T) {
		s := open(t)
		ctx := context.Background()
		usccs := []string{"A1", "A2", "A3", "A4", "A5", "A6"}
		var wg sync.WaitGroup
		for _, u := range usccs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := s.SetOrganizationConfidential(ctx, "cb", u, true); err != nil {
					t.Errorf("set %s: %v", u, err)
				}
			}()
		}
		wg.Wait()
		if got, err := s.ConfidentialOrganizations(ctx, "cb"); err != nil || !reflect.DeepEqual(got, usccs) {
			t.Errorf("got %v, %v; want %v", got, err, usccs)
		}
	})
}
