package bolt

import (
	"bytes"
	"context"
	"fmt"

	"go.etcd.io/bbolt"

	"github.com/certd/certd/store"
)

// bucketOrgConfidential holds one key issuer NUL uscc (empty value) per
// organization an issuer marked confidential; it is created by the first
// mark.
var bucketOrgConfidential = []byte("organizations.confidential")

var _ store.Organizations = (*Store)(nil)

// SetOrganizationConfidential sets or clears the flag of (issuer, uscc).
func (s *Store) SetOrganizationConfidential(_ context.Context, issuer, uscc string, confidential bool) error {
	key := []byte(issuer + "\x00" + uscc)
	err := s.updateTx(func(tx *bbolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketOrgConfidential)
		if err != nil {
			return fmt.Errorf("%w: %w", store.ErrUnavailable, err)
		}
		if confidential {
			return b.Put(key, []byte{})
		}
		return b.Delete(key)
	})
	if err != nil {
		return fmt.Errorf("organization %s of %s: %w", uscc, issuer, err)
	}
	return nil
}

// ConfidentialOrganizations returns the organizations flagged at issuer,
// sorted (bbolt keys are).
func (s *Store) ConfidentialOrganizations(_ context.Context, issuer string) ([]string, error) {
	out := []string{}
	prefix := []byte(issuer + "\x00")
	err := s.db.View(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketOrgConfidential)
		if b == nil {
			return nil
		}
		c := b.Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			out = append(out, string(k[len(prefix):]))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("confidential organizations of %s: %w", issuer, err)
	}
	return out, nil
}
