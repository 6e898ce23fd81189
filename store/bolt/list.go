package bolt

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"

	"go.etcd.io/bbolt"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/store"
)

const (
	defaultLimit = 100
	maxLimit     = 1000
)

// listIndex is the index a query scans: the most selective one its filters
// allow. Every listing index orders by creation time, then id.
type listIndex struct {
	tag    byte // first byte of the cursor, so a cursor of another index is refused
	bucket []byte
	prefix []byte
}

func indexFor(q store.Query) listIndex {
	switch {
	case q.Number != "":
		return listIndex{'n', bucketCertByNumber, append([]byte(q.Number), 0)}
	case q.USCC != "":
		return listIndex{'u', bucketCertUSCC, append([]byte(q.USCC), 0)}
	case q.Issuer != "":
		return listIndex{'i', bucketCertIssuer, append([]byte(q.Issuer), 0)}
	default:
		return listIndex{'a', bucketCertCreated, nil}
	}
}

func matches(c *cert.Certificate, q store.Query) bool {
	return (q.Issuer == "" || c.Issuer == q.Issuer) &&
		(q.Scheme == "" || c.Scheme == q.Scheme) &&
		(q.USCC == "" || c.Organization.USCC == q.USCC) &&
		(q.Number == "" || c.Number == q.Number)
}

// ListCertificates returns one page of certificates in creation order
// (CreatedAt, then id); see store.Certificates. A Limit above 1000 is
// treated as 1000, one below 1 as 100. A cursor that this query did not
// produce gives an error matching cert.ErrInvalid.
func (s *Store) ListCertificates(ctx context.Context, q store.Query) ([]*cert.Certificate, string, error) {
	if err := checkContext(ctx, "list certificates"); err != nil {
		return nil, "", err
	}
	limit := q.Limit
	switch {
	case limit < 1:
		limit = defaultLimit
	case limit > maxLimit:
		limit = maxLimit
	}
	ix := indexFor(q)
	var after []byte
	if q.Cursor != "" {
		raw, err := base64.RawURLEncoding.DecodeString(q.Cursor)
		if err != nil || len(raw) < 1 || raw[0] != ix.tag || !bytes.HasPrefix(raw[1:], ix.prefix) {
			return nil, "", cert.Invalid("cursor", "is not a cursor of this listing: pass the value the previous page returned, with the same filters")
		}
		after = raw[1:]
	}

	var (
		out  []*cert.Certificate
		next string
	)
	err := s.db.View(func(tx *bbolt.Tx) error {
		certs := tx.Bucket(bucketCerts)
		cur := tx.Bucket(ix.bucket).Cursor()
		var k, id []byte
		if after != nil {
			k, id = cur.Seek(after)
			if k != nil && bytes.Equal(k, after) {
				k, id = cur.Next()
			}
		} else {
			k, id = cur.Seek(ix.prefix)
		}
		var last []byte
		for ; k != nil && bytes.HasPrefix(k, ix.prefix); k, id = cur.Next() {
			id := listedID(k, id)
			v := certs.Get(id)
			if v == nil {
				return fmt.Errorf("index %s points to missing certificate %s", ix.bucket, id)
			}
			c := new(cert.Certificate)
			if err := decodeCert(v, c); err != nil {
				return fmt.Errorf("decode certificate %s: %w", id, err)
			}
			if !matches(c, q) {
				continue
			}
			if len(out) == limit {
				// One more match exists: the page is not the last.
				next = base64.RawURLEncoding.EncodeToString(append([]byte{ix.tag}, last...))
				break
			}
			out = append(out, c)
			last = append(last[:0], k...)
		}
		return nil
	})
	if err != nil {
		return nil, "", unavailable("list certificates", err)
	}
	return out, next, nil
}
