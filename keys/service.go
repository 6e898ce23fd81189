package keys

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/certd/certd/cert"
)

// RingStore is what keys needs from storage; store/bolt and store/mongo
// implement it.
type RingStore interface {
	// KeyRing returns a copy of the issuer's ring, or an error matching
	// cert.ErrNotFound when the issuer has none.
	KeyRing(ctx context.Context, issuer string) (*cert.KeyRing, error)
	// PutKeyRing writes the whole ring atomically. With r.Version 0 it
	// creates the ring (cert.ErrAlreadyExists when one exists); otherwise it
	// replaces the ring stored with r.Version (cert.ErrConflict when the
	// stored version differs, storing nothing). On success r.Version is set
	// to the stored version.
	PutKeyRing(ctx context.Context, r *cert.KeyRing) error
}

// writeAttempts bounds the read-modify-write retries of Rotate and Revoke
// when another writer changes the ring in between.
const writeAttempts = 5

// Service manages the key rings of all issuers: it creates, rotates and
// revokes keys, signs credentials with the active key, verifies presented
// tokens and publishes the public keys. It is safe for concurrent use, also
// by several certd instances sharing one store.
type Service struct {
	rings RingStore
	kek   KEK
	now   func() time.Time

	// caches maps issuer → *ringCache.
	caches sync.Map
	// pubs maps issuer+"\x00"+kid → *PublicKey.
	pubs sync.Map
	// signers maps issuer+"\x00"+kid → *signer.
	signers sync.Map
	// changes counts ring changes (Changes).
	changes atomic.Uint64
}

// NewService returns a Service that keeps rings in rings, seals private keys
// under kek and reads the time from now (time.Now when nil): the key dates
// and the age of the cached rings both follow it, so a test that moves a
// fake clock by more than a second also makes verification read the ring
// again.
func NewService(rings RingStore, kek KEK, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{rings: rings, kek: kek, now: now}
}

// CreateRing creates the issuer's key ring with one active key of keyType
// (cert.KeyTypeEd25519, signing with EdDSA, or cert.KeyTypeES256; "" means
// Ed25519). It fails with cert.ErrAlreadyExists when the issuer has a ring.
func (s *Service) CreateRing(ctx context.Context, issuer, keyType string) (cert.KeyInfo, error) {
	alg, err := algOf(keyType)
	if err != nil {
		return cert.KeyInfo{}, err
	}
	if issuer == "" {
		return cert.KeyInfo{}, cert.Invalid("issuer", "is required")
	}
	rec, err := generate(s.kek, issuer, alg)
	if err != nil {
		return cert.KeyInfo{}, fmt.Errorf("create key ring %s: %w", issuer, err)
	}
	rec.CreatedAt = s.now().UTC()
	r := &cert.KeyRing{Issuer: issuer, Keys: []cert.KeyRecord{rec}}
	if err := s.rings.PutKeyRing(ctx, r); err != nil {
		return cert.KeyInfo{}, fmt.Errorf("create key ring %s: %w", issuer, err)
	}
	s.noteWritten(r)
	return info(&rec), nil
}

// Rotate makes a new active key of keyType ("" keeps the type of the current
// active key) and retires the previous active key: it still verifies and is
// still published. Concurrent changes of the ring are retried a few times;
// cert.ErrConflict is returned when they keep happening.
func (s *Service) Rotate(ctx context.Context, issuer, keyType string) (cert.KeyInfo, error) {
	if keyType != "" {
		if _, err := algOf(keyType); err != nil {
			return cert.KeyInfo{}, err
		}
	}
	var out cert.KeyInfo
	err := s.update(ctx, issuer, func(r *cert.KeyRing) error {
		now := s.now().UTC()
		alg := algEdDSA
		if keyType != "" {
			alg, _ = algOf(keyType)
		} else if a := r.Active(); a != nil {
			alg = a.Alg
		}
		rec, err := generate(s.kek, issuer, alg)
		if err != nil {
			return err
		}
		rec.CreatedAt = now
		for i := range r.Keys {
			if r.Keys[i].State == cert.KeyActive {
				r.Keys[i].State = cert.KeyRetired
				r.Keys[i].RetiredAt = &now
			}
		}
		r.Keys = append(r.Keys, rec)
		out = info(&rec)
		return nil
	})
	if err != nil {
		return cert.KeyInfo{}, fmt.Errorf("rotate key of %s: %w", issuer, err)
	}
	return out, nil
}

// Revoke marks a key compromised: tokens it signed no longer verify and it is
// no longer published; its sealed private key is erased. The active key
// cannot be revoked (rotate first): that is an error matching
// cert.ErrInvalid. An unknown kid gives cert.ErrNotFound; revoking a revoked
// key again succeeds and changes nothing.
func (s *Service) Revoke(ctx context.Context, issuer, kid string) error {
	err := s.update(ctx, issuer, func(r *cert.KeyRing) error {
		k := r.Find(kid)
		switch {
		case k == nil:
			return fmt.Errorf("key %s: %w", kid, cert.ErrNotFound)
		case k.State == cert.KeyActive:
			return cert.Invalid("kid", "is the active signing key and cannot be revoked; rotate the ring first, then revoke it")
		case k.State == cert.KeyRevoked:
			return errUnchanged
		}
		now := s.now().UTC()
		k.State = cert.KeyRevoked
		k.RevokedAt = &now
		k.Sealed = nil
		return nil
	})
	s.forget(issuer, kid)
	if err != nil {
		return fmt.Errorf("revoke key %s of %s: %w", kid, issuer, err)
	}
	return nil
}

// errUnchanged tells update that the change is already in place.
var errUnchanged = errors.New("unchanged")

// update reads the ring, applies change and writes it back, retrying when
// another writer got in between.
func (s *Service) update(ctx context.Context, issuer string, change func(*cert.KeyRing) error) error {
	var err error
	for range writeAttempts {
		var r *cert.KeyRing
		r, err = s.rings.KeyRing(ctx, issuer)
		if err != nil {
			return err
		}
		if err = change(r); err != nil {
			if errors.Is(err, errUnchanged) {
				s.noteWritten(r)
				return nil
			}
			return err
		}
		err = s.rings.PutKeyRing(ctx, r)
		if err == nil {
			s.noteWritten(r)
			return nil
		}
		if !errors.Is(err, cert.ErrConflict) {
			return err
		}
	}
	return err
}

// Keys lists every key of the issuer's ring, revoked ones included, in
// creation order, as read from the store now.
func (s *Service) Keys(ctx context.Context, issuer string) ([]cert.KeyInfo, error) {
	r, err := s.rings.KeyRing(ctx, issuer)
	if err != nil {
		return nil, fmt.Errorf("load key ring %s: %w", issuer, err)
	}
	out := make([]cert.KeyInfo, len(r.Keys))
	for i := range r.Keys {
		out[i] = info(&r.Keys[i])
		// Show the JWK rebuilt from the key, as JWKS publishes it, rather
		// than whatever the stored JSON holds.
		out[i].Public = nil
		if p, err := s.public(issuer, &r.Keys[i]); err == nil {
			out[i].Public = append(json.RawMessage(nil), p.jwk...)
		}
	}
	return out, nil
}

// KeyState returns the state of the issuer's key kid, from a view of the
// ring at most about a second old. An unknown kid gives cert.ErrNotFound.
func (s *Service) KeyState(ctx context.Context, issuer, kid string) (cert.KeyState, error) {
	v, err := s.cachedRing(ctx, issuer, kid)
	if err != nil {
		return "", err
	}
	k, ok := v.keys[kid]
	if !ok {
		return "", fmt.Errorf("key %s of issuer %s: %w", kid, issuer, cert.ErrNotFound)
	}
	return k.state, nil
}

// info is the public description of a record; it never carries Sealed.
func info(r *cert.KeyRecord) cert.KeyInfo {
	return cert.KeyInfo{
		Kid: r.Kid, Alg: r.Alg, State: r.State,
		Public:    append([]byte(nil), r.Public...),
		CreatedAt: r.CreatedAt, RetiredAt: r.RetiredAt, RevokedAt: r.RevokedAt,
	}
}
