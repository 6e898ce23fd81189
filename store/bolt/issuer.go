package bolt

import (
	"bytes"
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
	err = s.updateTx(func(tx *bbolt.Tx) error {
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

// UpdateIssuer replaces the issuer stored with is.Version; see
// store.Issuers. The version check and the write are one transaction.
func (s *Store) UpdateIssuer(ctx context.Context, is *cert.Issuer) error {
	if err := checkContext(ctx, "update issuer"); err != nil {
		return err
	}
	if is == nil {
		return cert.Invalid("issuer", "is required")
	}
	next := *is
	next.Version = is.Version + 1
	var derr error
	err := s.updateTx(func(tx *bbolt.Tx) error {
		derr = nil
		b := tx.Bucket(bucketIssuers)
		raw := b.Get([]byte(is.ID))
		if raw == nil {
			derr = fmt.Errorf("issuer %s: %w", is.ID, store.ErrNotFound)
			return nil
		}
		var cur cert.Issuer
		if err := json.Unmarshal(raw, &cur); err != nil {
			return fmt.Errorf("decode issuer %s: %w", is.ID, err)
		}
		if cur.Version != is.Version {
			derr = fmt.Errorf("issuer %s is at version %d, not %d: %w", is.ID, cur.Version, is.Version, store.ErrConflict)
			return nil
		}
		next.StatusKey = cur.StatusKey
		v, err := json.Marshal(&next)
		if err != nil {
			return fmt.Errorf("encode issuer %s: %w", is.ID, err)
		}
		return b.Put([]byte(is.ID), v)
	})
	if err != nil {
		return unavailable("update issuer "+is.ID, err)
	}
	if derr == nil {
		is.Version = next.Version
	}
	return derr
}

// PutImage stores an issuer's image; see store.IssuerImages.
func (s *Store) PutImage(ctx context.Context, img *cert.Image) error {
	if err := checkContext(ctx, "put image"); err != nil {
		return err
	}
	if err := checkKey("issuer", img.Issuer); err != nil {
		return err
	}
	key := join(img.Issuer, img.SHA256)
	err := s.updateTx(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketIssuerImages)
		if b.Get(key) != nil {
			return nil
		}
		return b.Put(key, img.PNG)
	})
	if err != nil {
		return unavailable("put image of "+img.Issuer, err)
	}
	return nil
}

// Image returns an issuer's image; see store.IssuerImages.
func (s *Store) Image(ctx context.Context, issuer, sha256 string) (*cert.Image, error) {
	if err := checkContext(ctx, "get image"); err != nil {
		return nil, err
	}
	var img *cert.Image
	err := s.db.View(func(tx *bbolt.Tx) error {
		if v := tx.Bucket(bucketIssuerImages).Get(join(issuer, sha256)); v != nil {
			img = &cert.Image{Issuer: issuer, SHA256: sha256, PNG: bytes.Clone(v)}
		}
		return nil
	})
	if err != nil {
		return nil, unavailable("get image of "+issuer, err)
	}
	if img == nil {
		return nil, fmt.Errorf("image %s of issuer %s: %w", sha256, issuer, store.ErrNotFound)
	}
	return img, nil
}
