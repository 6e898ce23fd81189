package bolt

import (
	"context"
	"encoding/json"
	"fmt"

	"go.etcd.io/bbolt"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/store"
)

// KeyRing returns the key ring of the issuer; see store.KeyRings.
func (s *Store) KeyRing(ctx context.Context, issuer string) (*cert.KeyRing, error) {
	if err := checkContext(ctx, "get key ring"); err != nil {
		return nil, err
	}
	return getJSON[cert.KeyRing](s, bucketKeyRings, nil, []byte(issuer), "key ring of issuer "+issuer)
}

// PutKeyRing creates (r.Version 0) or replaces (r.Version the stored
// version) the key ring and sets r.Version; see store.KeyRings.
func (s *Store) PutKeyRing(ctx context.Context, r *cert.KeyRing) error {
	if err := checkContext(ctx, "put key ring"); err != nil {
		return err
	}
	if r == nil {
		return cert.Invalid("keyRing", "is required")
	}
	if err := checkKey("issuer", r.Issuer); err != nil {
		return err
	}
	based := r.Version
	cp := *r
	cp.Version = based + 1
	v, err := json.Marshal(&cp)
	if err != nil {
		return fmt.Errorf("encode key ring of %s: %w", r.Issuer, err)
	}
	var derr error
	err = s.updateTx(func(tx *bbolt.Tx) error {
		derr = nil
		b := tx.Bucket(bucketKeyRings)
		old := b.Get([]byte(r.Issuer))
		switch {
		case old == nil && based != 0:
			derr = fmt.Errorf("key ring of issuer %s: none stored, update based on version %d: %w", r.Issuer, based, store.ErrConflict)
			return nil
		case old != nil && based == 0:
			derr = fmt.Errorf("key ring of issuer %s: %w", r.Issuer, store.ErrAlreadyExists)
			return nil
		case old != nil:
			var stored struct {
				Version int64 `json:"version"`
			}
			if err := json.Unmarshal(old, &stored); err != nil {
				return fmt.Errorf("decode key ring of %s: %w", r.Issuer, err)
			}
			if stored.Version != based {
				derr = fmt.Errorf("key ring of issuer %s: stored version %d, update based on %d: %w", r.Issuer, stored.Version, based, store.ErrConflict)
				return nil
			}
		}
		return b.Put([]byte(r.Issuer), v)
	})
	if err != nil {
		return unavailable("put key ring of "+r.Issuer, err)
	}
	if derr != nil {
		return derr
	}
	r.Version = based + 1
	return nil
}
