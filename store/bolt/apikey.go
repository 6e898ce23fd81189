package bolt

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"go.etcd.io/bbolt"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/store"
)

// CreateAPIKey stores a new API key and indexes its hash; see
// store.APIKeys.
func (s *Store) CreateAPIKey(ctx context.Context, k *cert.APIKey) error {
	if err := checkContext(ctx, "create api key"); err != nil {
		return err
	}
	v, err := encodeAPIKey(k)
	if err != nil {
		return err
	}
	var derr error
	err = s.updateTx(func(tx *bbolt.Tx) error {
		derr = nil
		keys, hashes := tx.Bucket(bucketAPIKeys), tx.Bucket(bucketAPIKeyHash)
		if keys.Get([]byte(k.ID)) != nil {
			derr = fmt.Errorf("api key %s: %w", k.ID, store.ErrAlreadyExists)
			return nil
		}
		if hashes.Get([]byte(k.Hash)) != nil {
			// The hash is a secret's digest: name the key, not the hash.
			derr = fmt.Errorf("hash of api key %s: %w", k.ID, store.ErrAlreadyExists)
			return nil
		}
		if err := keys.Put([]byte(k.ID), v); err != nil {
			return err
		}
		return hashes.Put([]byte(k.Hash), []byte(k.ID))
	})
	if err != nil {
		return unavailable("create api key "+k.ID, err)
	}
	return derr
}

// UpdateAPIKey replaces a stored API key, moving its hash index entry if
// the hash changed; see store.APIKeys.
func (s *Store) UpdateAPIKey(ctx context.Context, k *cert.APIKey) error {
	if err := checkContext(ctx, "update api key"); err != nil {
		return err
	}
	v, err := encodeAPIKey(k)
	if err != nil {
		return err
	}
	var derr error
	err = s.updateTx(func(tx *bbolt.Tx) error {
		derr = nil
		keys, hashes := tx.Bucket(bucketAPIKeys), tx.Bucket(bucketAPIKeyHash)
		old := keys.Get([]byte(k.ID))
		if old == nil {
			derr = fmt.Errorf("api key %s: %w", k.ID, store.ErrNotFound)
			return nil
		}
		var stored struct {
			Hash string `json:"hash"`
		}
		if err := json.Unmarshal(old, &stored); err != nil {
			return fmt.Errorf("decode api key %s: %w", k.ID, err)
		}
		if stored.Hash != k.Hash {
			if hashes.Get([]byte(k.Hash)) != nil {
				derr = fmt.Errorf("hash of api key %s: %w", k.ID, store.ErrAlreadyExists)
				return nil
			}
			if err := hashes.Delete([]byte(stored.Hash)); err != nil {
				return err
			}
			if err := hashes.Put([]byte(k.Hash), []byte(k.ID)); err != nil {
				return err
			}
		}
		return keys.Put([]byte(k.ID), v)
	})
	if err != nil {
		return unavailable("update api key "+k.ID, err)
	}
	return derr
}

func encodeAPIKey(k *cert.APIKey) ([]byte, error) {
	if k == nil {
		return nil, cert.Invalid("apiKey", "is required")
	}
	if err := checkKey("id", k.ID); err != nil {
		return nil, err
	}
	if err := checkKey("hash", k.Hash); err != nil {
		return nil, err
	}
	v, err := json.Marshal(k)
	if err != nil {
		return nil, fmt.Errorf("encode api key %s: %w", k.ID, err)
	}
	return v, nil
}

// APIKeyByHash returns the API key with the hash; see store.APIKeys.
func (s *Store) APIKeyByHash(ctx context.Context, hash string) (*cert.APIKey, error) {
	if err := checkContext(ctx, "get api key by hash"); err != nil {
		return nil, err
	}
	return s.apiKey(bucketAPIKeyHash, []byte(hash), "api key with the hash")
}

// APIKey returns the API key with the id; see store.APIKeys.
func (s *Store) APIKey(ctx context.Context, id string) (*cert.APIKey, error) {
	if err := checkContext(ctx, "get api key"); err != nil {
		return nil, err
	}
	return s.apiKey(nil, []byte(id), "api key "+id)
}

// apiKey looks key up in index (the id itself when index is nil).
func (s *Store) apiKey(index, key []byte, what string) (*cert.APIKey, error) {
	return getJSON[cert.APIKey](s, bucketAPIKeys, index, key, what)
}

// APIKeys lists the API keys of an issuer, or all when issuer is "", in id
// order; see store.APIKeys.
func (s *Store) APIKeys(ctx context.Context, issuer string) ([]*cert.APIKey, error) {
	if err := checkContext(ctx, "list api keys"); err != nil {
		return nil, err
	}
	var out []*cert.APIKey
	err := s.db.View(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketAPIKeys).ForEach(func(id, v []byte) error {
			k := new(cert.APIKey)
			if err := json.Unmarshal(v, k); err != nil {
				return fmt.Errorf("decode api key %s: %w", id, err)
			}
			if issuer == "" || k.Issuer == issuer {
				out = append(out, k)
			}
			return nil
		})
	})
	if err != nil {
		return nil, unavailable("list api keys", err)
	}
	return out, nil
}

// RevokeAPIKey revokes the key in one write transaction, which also counts
// the other active admin keys; bbolt admits one writer at a time, so two
// admin keys revoking each other cannot both succeed. See store.APIKeys.
func (s *Store) RevokeAPIKey(ctx context.Context, id string, at time.Time) (*cert.APIKey, error) {
	if err := checkContext(ctx, "revoke api key"); err != nil {
		return nil, err
	}
	var (
		out  *cert.APIKey
		derr error
	)
	err := s.updateTx(func(tx *bbolt.Tx) error {
		out, derr = nil, nil
		keys := tx.Bucket(bucketAPIKeys)
		v := keys.Get([]byte(id))
		if v == nil {
			derr = fmt.Errorf("api key %s: %w", id, store.ErrNotFound)
			return nil
		}
		k := new(cert.APIKey)
		if err := json.Unmarshal(v, k); err != nil {
			return fmt.Errorf("decode api key %s: %w", id, err)
		}
		out = k
		if k.RevokedAt != nil {
			return nil
		}
		if k.ActiveAdmin() {
			others := 0
			err := keys.ForEach(func(oid, ov []byte) error {
				if string(oid) == id {
					return nil
				}
				o := new(cert.APIKey)
				if err := json.Unmarshal(ov, o); err != nil {
					return fmt.Errorf("decode api key %s: %w", oid, err)
				}
				if o.ActiveAdmin() {
					others++
				}
				return nil
			})
			if err != nil {
				return err
			}
			if others == 0 {
				derr = fmt.Errorf("api key %s: %w", id, cert.ErrLastAdminKey)
				return nil
			}
		}
		at := at
		k.RevokedAt = &at
		nv, err := json.Marshal(k)
		if err != nil {
			return fmt.Errorf("encode api key %s: %w", id, err)
		}
		return keys.Put([]byte(id), nv)
	})
	if err != nil {
		return nil, unavailable("revoke api key "+id, err)
	}
	if derr != nil {
		return nil, derr
	}
	return out, nil
}

// MarkAPIKeyUsed records the key's last use; see store.APIKeys.
func (s *Store) MarkAPIKeyUsed(ctx context.Context, id string, at time.Time) error {
	if err := checkContext(ctx, "mark api key used"); err != nil {
		return err
	}
	var derr error
	err := s.updateTx(func(tx *bbolt.Tx) error {
		derr = nil
		keys := tx.Bucket(bucketAPIKeys)
		v := keys.Get([]byte(id))
		if v == nil {
			derr = fmt.Errorf("api key %s: %w", id, store.ErrNotFound)
			return nil
		}
		k := new(cert.APIKey)
		if err := json.Unmarshal(v, k); err != nil {
			return fmt.Errorf("decode api key %s: %w", id, err)
		}
		if k.LastUsedAt != nil && !at.After(*k.LastUsedAt) {
			return nil
		}
		at := at
		k.LastUsedAt = &at
		nv, err := json.Marshal(k)
		if err != nil {
			return fmt.Errorf("encode api key %s: %w", id, err)
		}
		return keys.Put([]byte(id), nv)
	})
	if err != nil {
		return unavailable("mark api key used "+id, err)
	}
	return derr
}
