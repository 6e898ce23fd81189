package issuer_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/issuer"
)

// The last use of a key is written at most once a minute; the list never
// carries a hash; the last active admin key stays.
func TestAPIKeyUseAndLastAdmin(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, "2026-06-01")
	k, token, err := e.svc.CreateAPIKey(ctx, e.admin, issuer.APIKeyRequest{Role: cert.RoleAdmin, Name: "only admin"})
	if err != nil {
		t.Fatal(err)
	}
	lastUsed := func() *time.Time {
		t.Helper()
		got, err := e.st.APIKey(ctx, k.ID)
		if err != nil {
			t.Fatal(err)
		}
		return got.LastUsedAt
	}
	if lastUsed() != nil {
		t.Fatal("a new key has a last use")
	}
	t0 := e.clock.Now()
	steps := []struct {
		after time.Duration
		want  time.Duration // offset of the stored last use from t0
	}{{0, 0}, {30 * time.Second, 0}, {59 * time.Second, 0}, {61 * time.Second, 61 * time.Second}, {90 * time.Second, 61 * time.Second}}
	for _, s := range steps {
		e.clock.Set(t0.Add(s.after))
		if _, err := e.svc.Authenticate(ctx, token); err != nil {
			t.Fatal(err)
		}
		if got := lastUsed(); got == nil || !got.Equal(t0.Add(s.want)) {
			t.Errorf("after a use at t0+%s: last use %v, want t0+%s", s.after, got, s.want)
		}
	}

	all, err := e.svc.APIKeys(ctx, e.admin)
	if err != nil {
		t.Fatal(err)
	}
	for _, got := range all {
		if got.Hash != "" {
			t.Errorf("APIKeys shows the hash of %s", got.ID)
		}
	}
	if _, err := e.svc.APIKeys(ctx, e.cb); !errors.Is(err, cert.ErrForbidden) {
		t.Errorf("APIKeys as an issuer key: %v, want ErrForbidden", err)
	}
	if err := e.svc.RevokeAPIKey(ctx, e.admin, k.ID); !errors.Is(err, cert.ErrLastAdminKey) {
		t.Fatalf("revoking the only admin key: %v, want ErrLastAdminKey", err)
	}
	if _, err := e.svc.Authenticate(ctx, token); err != nil {
		t.Errorf("the only admin key after the refused revocation: %v", err)
	}
}
