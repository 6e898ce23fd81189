package bolt

import (
	"context"
	"encoding/json"
	"fmt"

	"go.etcd.io/bbolt"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/store"
)

// CreateIssuer stores a new issuer; see store.Issuers.
func (s *Store) CreateIssuer(ctx context.Context, is *cert.Issuer) error {
	if err := checkContext(ctx, "create issuer"); err != nil {
		return err
	}
	if is == nil {
		return cert.Invalid("issuer", "is required")
	}
	if err := checkKey("id", is.ID); err != nil {
		return err
	}
	v, err := json.Marshal(is)
	if err != nil {
		return fmt.Errorf("encode issuer %s: %w", is.ID, err)
	}
	var derr error
	err = s.db.Update(func(tx *bbolt.Tx) error {
		derr = nil
		b := tx.Bucket(bucketIssuers)
		if b.Get([]byte(is.ID)) != nil {
			derr = fmt.Errorf("issuer %s: %w", is.ID, store.ErrAlreadyExists)
			return nil
		}
		return b.Put([]byte(is.ID), v)
	})
	if err != nil {
		return unavailable("create issuer "+is.ID, err)
	}
	return derr
}

// Issuer returns the issuer with the id; see store.Issuers.
func (s *Store) Issuer(ctx context.Context, id string) (*cert.Issuer, error) {
	if err := checkContext(ctx, "get issuer"); err != nil {
		return nil, err
	}
	return getJSON[cert.Issuer](s, bucketIssuers, nil, []byte(id), "issuer "+id)
}

// Issuers returns every issuer ordered by id; see store.Issuers.
func (s *Store) Issuers(ctx context.Context) ([]*cert.Issuer, error) {
	if err := checkContext(ctx, "list issuers"); err != nil {
		return nil, err
	}
	var out []*cert.Issuer
	err := s.db.View(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketIssuers).ForEach(func(k, v []byte) error {
			is := new(cert.Issuer)
			if err := json.Unmarshal(v, is); err != nil {
				return fmt.Errorf("decode issuer %s: %w", k, err)
			}
			out = append(out, is)
			return nil
		})
	})
	if err != nil {
		return nil, unavailable("list issuers", err)
	}
	return out, nil
}
