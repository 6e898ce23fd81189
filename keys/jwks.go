package keys

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/certd/certd/cert"
)

// jwkSet is the JSON form of a JWK Set.
type jwkSet struct {
	Keys []json.RawMessage `json:"keys"`
}

// published returns the public JWKs of the issuer's active and retired keys,
// active first, then retired in creation order. Revoked keys and private
// parts are never included; every JWK has kid, alg and use "sig".
func (s *Service) published(ctx context.Context, issuer string) ([]json.RawMessage, error) {
	v, err := s.cachedRing(ctx, issuer, "")
	if err != nil {
		return nil, err
	}
	out := make([]json.RawMessage, 0, len(v.order))
	for _, state := range []cert.KeyState{cert.KeyActive, cert.KeyRetired} {
		for _, kid := range v.order {
			if k := v.keys[kid]; k.state == state {
				out = append(out, k.pub.jwk)
			}
		}
	}
	return out, nil
}

// JWKS returns the issuer's JWK Set, {"keys":[...]}: its active and retired
// public keys, never revoked ones, never private parts; every JWK carries
// kid, alg and use "sig". The ring is read at most about a second before.
func (s *Service) JWKS(ctx context.Context, issuer string) ([]byte, error) {
	ks, err := s.published(ctx, issuer)
	if err != nil {
		return nil, err
	}
	return json.Marshal(jwkSet{Keys: ks})
}

// JWKSAll returns one JWK Set with the published keys of all the issuers, in
// the order given. An issuer without a key ring contributes no keys.
func (s *Service) JWKSAll(ctx context.Context, issuers []string) ([]byte, error) {
	all := make([]json.RawMessage, 0, len(issuers))
	for _, is := range issuers {
		ks, err := s.published(ctx, is)
		if errors.Is(err, cert.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		all = append(all, ks...)
	}
	return json.Marshal(jwkSet{Keys: all})
}

// IssuerMetadata returns the SD-JWT VC issuer metadata of the issuer, served
// at /.well-known/jwt-vc-issuer/issuers/{issuer}:
// {"issuer":"<issuerURL>","jwks":{"keys":[...]}} with the keys JWKS gives.
func (s *Service) IssuerMetadata(ctx context.Context, issuer, issuerURL string) ([]byte, error) {
	ks, err := s.published(ctx, issuer)
	if err != nil {
		return nil, err
	}
	return json.Marshal(struct {
		Issuer string `json:"issuer"`
		JWKS   jwkSet `json:"jwks"`
	}{issuerURL, jwkSet{Keys: ks}})
}
