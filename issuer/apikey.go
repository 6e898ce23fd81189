package issuer

import (
	"context"
	"fmt"
	"time"

	"github.com/certd/certd/cert"
)

// usedEvery is how often the last use of an API key is written at most: a
// key that authenticates a thousand requests a second costs one small write
// a minute.
const usedEvery = time.Minute

// APIKeys lists every API key, revoked ones included, for an admin. The
// stored hash is cleared: a caller cannot leak what it never gets.
func (s *Service) APIKeys(ctx context.Context, p cert.Principal) ([]*cert.APIKey, error) {
	scope := ""
	switch {
	case p.DeploymentAdmin():
	case issuerAdmin(p):
		scope = p.Issuer
	default:
		return nil, fmt.Errorf("only an admin key can list API keys: %w", cert.ErrForbidden)
	}
	all, err := s.st.APIKeys(ctx, scope)
	if err != nil {
		return nil, fmt.Errorf("list API keys: %w", err)
	}
	for _, k := range all {
		k.Hash = ""
	}
	return all, nil
}

// RevokeAPIKey revokes an API key; it stops working at once. The last
// active admin key cannot be revoked (cert.ErrLastAdminKey): create another
// admin key first, or, locked out, use `certd admin-key` on the host.
func (s *Service) RevokeAPIKey(ctx context.Context, p cert.Principal, id string) error {
	switch {
	case p.DeploymentAdmin():
	case issuerAdmin(p):
		k, err := s.st.APIKey(ctx, id)
		if err != nil {
			return fmt.Errorf("API key %s: %w", id, err)
		}
		if k.Issuer != p.Issuer {
			return fmt.Errorf("API key %s: %w", id, cert.ErrNotFound)
		}
	default:
		return fmt.Errorf("only an admin key can revoke API keys: %w", cert.ErrForbidden)
	}
	if _, err := s.st.RevokeAPIKey(ctx, id, s.now()); err != nil {
		return fmt.Errorf("API key %s: %w", id, err)
	}
	return nil
}

// issuerAdmin reports whether p is a console administrator: it manages
// the API keys of its own issuer, never admin keys.
func issuerAdmin(p cert.Principal) bool { return p.User && p.Role == cert.RoleAdmin && p.Issuer != "" }

// Authenticate maps a bearer token to its principal; unknown and revoked
// tokens give ErrNotFound. It records the key's use when the stored last
// use is a minute old or more.
func (s *Service) Authenticate(ctx context.Context, token string) (cert.Principal, error) {
	k, err := s.st.APIKeyByHash(ctx, HashToken(token))
	if err != nil {
		return cert.Principal{}, err
	}
	if k.RevokedAt != nil {
		return cert.Principal{}, fmt.Errorf("API key %s was revoked: %w", k.ID, cert.ErrNotFound)
	}
	s.markUsed(ctx, k)
	return cert.Principal{KeyID: k.ID, Issuer: k.Issuer, Role: k.Role, Name: k.Name}, nil
}

// markUsed writes the key's last use, at most once per usedEvery per
// process and only when the stored time is that old. It is best effort: a
// failed write does not fail the request.
func (s *Service) markUsed(ctx context.Context, k *cert.APIKey) {
	now := s.now()
	if k.LastUsedAt != nil && now.Sub(*k.LastUsedAt) < usedEvery {
		return
	}
	if last, ok := s.used.Load(k.ID); ok && now.Sub(last.(time.Time)) < usedEvery {
		return
	}
	s.used.Store(k.ID, now)
	_ = s.st.MarkAPIKeyUsed(ctx, k.ID, now)
}
