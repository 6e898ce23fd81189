package keys

import (
	"context"
	"encoding/base64"
)

// SignRaw signs b64url(header).b64url(payload) with the issuer's active key,
// so tests can present tokens whose header certd would never write but
// whose signature is genuine.
func SignRaw(ctx context.Context, s *Service, issuer string, header, payload []byte) (string, error) {
	r, err := s.rings.KeyRing(ctx, issuer)
	if err != nil {
		return "", err
	}
	sg, err := s.signerFor(issuer, r.Active())
	if err != nil {
		return "", err
	}
	enc := base64.RawURLEncoding
	input := enc.EncodeToString(header) + "." + enc.EncodeToString(payload)
	sig, err := sg.sign([]byte(input))
	if err != nil {
		return "", err
	}
	return input + "." + enc.EncodeToString(sig), nil
}

// PrivateKeyBytes returns the raw private key of a ring's key (the Ed25519
// seed or the P-256 scalar), for tests that look for it in outputs.
func PrivateKeyBytes(ctx context.Context, s *Service, issuer, kid string) ([]byte, error) {
	r, err := s.rings.KeyRing(ctx, issuer)
	if err != nil {
		return nil, err
	}
	sg, err := unseal(s.kek, issuer, r.Find(kid))
	if err != nil {
		return nil, err
	}
	if sg.ed != nil {
		return sg.ed.Seed(), nil
	}
	return sg.ec.Bytes()
}
