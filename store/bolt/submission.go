package bolt

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"go.etcd.io/bbolt"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/store"
)

// bucketSubmissions holds cert.Submission records as JSON under
// issuer NUL target NUL id; it is created by the first submission.
var bucketSubmissions = []byte("submissions")

func submissionKey(issuer, target, id string) []byte {
	return []byte(issuer + "\x00" + target + "\x00" + id)
}

// CreateSubmission stores a new submission; a taken id gives
// ErrAlreadyExists.
func (s *Store) CreateSubmission(_ context.Context, sub *cert.Submission) error {
	v, err := json.Marshal(sub)
	if err != nil {
		return fmt.Errorf("encode submission: %w", err)
	}
	key := submissionKey(sub.Issuer, sub.Target, sub.ID)
	err = s.updateTx(func(tx *bbolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketSubmissions)
		if err != nil {
			return fmt.Errorf("%w: %w", store.ErrUnavailable, err)
		}
		if b.Get(key) != nil {
			return fmt.Errorf("submission %s: %w", sub.ID, store.ErrAlreadyExists)
		}
		return b.Put(key, v)
	})
	if err != nil {
		return fmt.Errorf("create submission: %w", err)
	}
	return nil
}

// Submissions returns an issuer's submissions to a target, oldest first.
func (s *Store) Submissions(_ context.Context, issuer, target string) ([]*cert.Submission, error) {
	var out []*cert.Submission
	prefix := []byte(issuer + "\x00" + target + "\x00")
	err := s.db.View(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketSubmissions)
		if b == nil {
			return nil
		}
		c := b.Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			var sub cert.Submission
			if err := json.Unmarshal(v, &sub); err != nil {
				return fmt.Errorf("decode submission %q: %w", k, err)
			}
			out = append(out, &sub)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("submissions: %w", err)
	}
	slices.SortStableFunc(out, func(a, b *cert.Submission) int {
		if c := a.SubmittedAt.Compare(b.SubmittedAt); c != 0 {
			return c
		}
		return cmpString(a.ID, b.ID)
	})
	return out, nil
}

func cmpString(a, b string) int { return bytes.Compare([]byte(a), []byte(b)) }
