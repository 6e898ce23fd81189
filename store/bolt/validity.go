package bolt

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"

	"go.etcd.io/bbolt"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/store"
)

// The validity index (store.ValidityIndex): issuer, 0, timeKey(date), id →
// id, one bucket for ValidFrom and one for ValidUntil, written with the
// other listing keys of a certificate (certKeys.listEntries). A file
// written before it existed is indexed once at Open (keyValidityIndexed
// marks that done).
var (
	bucketCertValidFrom  = []byte("certificates.validfrom")
	bucketCertValidUntil = []byte("certificates.validuntil")
	validityBuckets      = [][]byte{bucketCertValidFrom, bucketCertValidUntil}
	keyValidityIndexed   = []byte("validityIndexed")
)

// validityFillPage is how many certificates one transaction of the
// first indexing covers.
const validityFillPage = 5000

// ensureValidityIndex indexes every certificate of a file written before
// the validity index existed.
func (s *Store) ensureValidityIndex() error {
	var done bool
	if err := s.db.View(func(tx *bbolt.Tx) error {
		done = tx.Bucket(bucketMeta).Get(keyValidityIndexed) != nil
		return nil
	}); err != nil || done {
		return err
	}
	err := s.rewriteEach(context.Background(), "index validity dates", validityFillPage, func(tx *bbolt.Tx, c *cert.Certificate, keys *certKeys) error {
		for _, e := range keys.validityEntries() {
			if err := e.bucketIn(tx).Put(e.key, listValue([]byte(c.ID))); err != nil {
				return err
			}
		}
		return nil
	}, func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketMeta).Put(keyValidityIndexed, []byte("1"))
	})
	if err != nil {
		return fmt.Errorf("index validity dates: %w", err)
	}
	return nil
}

// rewriteEach runs fn on every stored certificate in id order, a page of
// them per write transaction, so that a large file is not rewritten in one
// transaction; last, if not nil, runs in the transaction that reaches the
// end. ctx is checked before each page (checkContext with op).
func (s *Store) rewriteEach(ctx context.Context, op string, page int, fn func(tx *bbolt.Tx, c *cert.Certificate, keys *certKeys) error, last func(tx *bbolt.Tx) error) error {
	var after []byte
	for {
		if err := checkContext(ctx, op); err != nil {
			return err
		}
		finished := false
		err := s.updateTx(func(tx *bbolt.Tx) error {
			cur := tx.Bucket(bucketCerts).Cursor()
			k, v := cur.First()
			if after != nil {
				if k, v = cur.Seek(after); k != nil && bytes.Equal(k, after) {
					k, v = cur.Next()
				}
			}
			for n := 0; n < page; n++ {
				if k == nil {
					finished = true
					if last != nil {
						return last(tx)
					}
					return nil
				}
				var c cert.Certificate
				if err := decodeCert(v, &c); err != nil {
					return fmt.Errorf("decode certificate %s: %w", k, err)
				}
				keys := keysOf(&c)
				if err := fn(tx, &c, &keys); err != nil {
					return err
				}
				after = append(after[:0], k...)
				k, v = cur.Next()
			}
			return nil
		})
		if err != nil || finished {
			return err
		}
	}
}

// CertificatesByValidity reads the validity index; see
// store.ValidityIndex. The cursor is the hex form of the last key read.
func (s *Store) CertificatesByValidity(ctx context.Context, q store.ValidityQuery) ([]*cert.Certificate, string, error) {
	if err := checkContext(ctx, "certificates by validity"); err != nil {
		return nil, "", err
	}
	bucket := bucketCertValidFrom
	if q.Until {
		bucket = bucketCertValidUntil
	}
	prefix := append([]byte(q.Issuer), 0)
	lo, hi := append(bytes.Clone(prefix), timeKey(q.From)...), append(bytes.Clone(prefix), timeKey(q.To)...)
	after, err := hex.DecodeString(q.Cursor)
	if err != nil || (len(after) > 0 && !bytes.HasPrefix(after, prefix)) {
		return nil, "", cert.Invalid("cursor", "must be a cursor returned by CertificatesByValidity for the same issuer")
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 500
	}
	var page []*cert.Certificate
	next := ""
	err = s.db.View(func(tx *bbolt.Tx) error {
		certs := tx.Bucket(bucketCerts)
		cur := tx.Bucket(bucket).Cursor()
		k, id := cur.Seek(lo)
		if len(after) > 0 && bytes.Compare(after, lo) >= 0 {
			if k, id = cur.Seek(after); k != nil && bytes.Equal(k, after) {
				k, id = cur.Next()
			}
		}
		var last []byte
		for ; k != nil && bytes.Compare(k, hi) < 0; k, id = cur.Next() {
			id := listedID(k, id)
			if len(page) == limit {
				next = hex.EncodeToString(last)
				return nil
			}
			v := certs.Get(id)
			if v == nil {
				return fmt.Errorf("index %s points to missing certificate %s", bucket, id)
			}
			c := new(cert.Certificate)
			if err := decodeCert(v, c); err != nil {
				return fmt.Errorf("decode certificate %s: %w", id, err)
			}
			page = append(page, c)
			last = append(last[:0], k...)
		}
		return nil
	})
	if err != nil {
		return nil, "", unavailable("certificates by validity", err)
	}
	return page, next, nil
}
