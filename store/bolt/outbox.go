package bolt

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"time"

	"go.etcd.io/bbolt"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/store"
)

var _ store.Outbox = (*Store)(nil)

// The outbox (store.Outbox) in two buckets:
//
//	outbox       id -> 1 | version | lease until, Unix ns (varints) | owner
//	outbox.done  id -> how many events were handed to the sinks (uvarint)
//
// Every certificate write puts the outbox entry in the write's own
// transaction; an entry exists only while the certificate has events not
// yet dispatched, so leasing scans the pending entries alone.
var (
	bucketOutbox     = []byte("outbox")
	bucketOutboxDone = []byte("outbox.done")
	outboxBuckets    = [][]byte{bucketOutbox, bucketOutboxDone}
)

type outboxValue struct {
	version int64
	until   int64
	owner   string
}

// outboxCompact is the first byte of an outbox value written since
// values are varints: the byte, the version and the lease's end as
// varints, then the owner. Values written before are the version and the
// lease's end as 8 bytes big-endian each, then the owner; their first byte
// is the top byte of a version, 0, and they still decode. An entry waiting
// for its first lease takes 3 bytes instead of 16.
const outboxCompact = 1

func (v outboxValue) encode() []byte {
	b := make([]byte, 0, 1+2*binary.MaxVarintLen64+len(v.owner))
	b = append(b, outboxCompact)
	b = binary.AppendVarint(b, v.version)
	b = binary.AppendVarint(b, v.until)
	return append(b, v.owner...)
}

func decodeOutbox(b []byte) (outboxValue, error) {
	if len(b) > 0 && b[0] == outboxCompact {
		version, n := binary.Varint(b[1:])
		if n <= 0 {
			return outboxValue{}, fmt.Errorf("outbox entry of %d bytes: bad version", len(b))
		}
		until, m := binary.Varint(b[1+n:])
		if m <= 0 {
			return outboxValue{}, fmt.Errorf("outbox entry of %d bytes: bad lease end", len(b))
		}
		return outboxValue{version: version, until: until, owner: string(b[1+n+m:])}, nil
	}
	if len(b) < 16 {
		return outboxValue{}, fmt.Errorf("outbox entry of %d bytes", len(b))
	}
	return outboxValue{
		version: int64(binary.BigEndian.Uint64(b)),
		until:   int64(binary.BigEndian.Uint64(b[8:])),
		owner:   string(b[16:]),
	}, nil
}

// markOutbox records, inside a certificate write, that the certificate
// stored with version has events to dispatch. A lease in progress is kept
// (its holder will see the newer version when it finishes and leave the
// entry marked).
func markOutbox(tx *bbolt.Tx, id []byte, version int64) error {
	b := tx.Bucket(bucketOutbox)
	v := outboxValue{version: version}
	if old := b.Get(id); old != nil {
		if o, err := decodeOutbox(old); err == nil {
			v.until, v.owner = o.until, o.owner
		}
	}
	return b.Put(id, v.encode())
}

// LeaseOutbox takes marked certificates whose lease has ended; see
// store.Outbox. A read transaction looks first, so an idle poll writes
// nothing.
func (s *Store) LeaseOutbox(ctx context.Context, owner string, now, until time.Time, max int) ([]*store.OutboxEntry, error) {
	if err := checkContext(ctx, "lease outbox"); err != nil {
		return nil, err
	}
	if err := checkKey("owner", owner); err != nil {
		return nil, err
	}
	if max <= 0 {
		return nil, nil
	}
	nowNs := now.UnixNano()
	free := func(v []byte) bool {
		o, err := decodeOutbox(v)
		return err != nil || o.until < nowNs
	}
	any := false
	if err := s.db.View(func(tx *bbolt.Tx) error {
		c := tx.Bucket(bucketOutbox).Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if free(v) {
				any = true
				return nil
			}
		}
		return nil
	}); err != nil {
		return nil, unavailable("lease outbox", err)
	}
	if !any {
		return nil, nil
	}
	// The write transaction only takes the leases; the certificates are
	// read and decoded after its commit, so that other writers do not wait
	// for that work. A certificate written in between is read as it is
	// then, which FinishOutbox handles as for any write during a lease
	// (the entry's version is the newer one, so it stays marked).
	var ids [][]byte
	err := s.batchBookkeeping("lease outbox", func(tx *bbolt.Tx) (error, error) {
		ids = ids[:0]
		ob, certs := tx.Bucket(bucketOutbox), tx.Bucket(bucketCerts)
		type lease struct{ id, value []byte }
		var leases []lease
		c := ob.Cursor()
		for k, v := c.First(); k != nil && len(ids) < max; k, v = c.Next() {
			if !free(v) {
				continue
			}
			id := bytes.Clone(k)
			if certs.Get(k) == nil {
				leases = append(leases, lease{id: id}) // a dangling entry: removed below
				continue
			}
			o, _ := decodeOutbox(v)
			o.until, o.owner = until.UnixNano(), owner
			leases = append(leases, lease{id: id, value: o.encode()})
			ids = append(ids, id)
		}
		for _, l := range leases {
			var err error
			if l.value == nil {
				err = ob.Delete(l.id)
			} else {
				err = ob.Put(l.id, l.value)
			}
			if err != nil {
				return nil, err
			}
		}
		return nil, nil
	})
	if err != nil || len(ids) == 0 {
		return nil, err
	}
	out := make([]*store.OutboxEntry, 0, len(ids))
	err = s.db.View(func(tx *bbolt.Tx) error {
		done, certs := tx.Bucket(bucketOutboxDone), tx.Bucket(bucketCerts)
		for _, id := range ids {
			raw := certs.Get(id)
			if raw == nil {
				// Gone since the lease: the entry is dangling now, and
				// the lease after this one removes it.
				continue
			}
			var ct cert.Certificate
			if err := decodeCert(raw, &ct); err != nil {
				return fmt.Errorf("decode certificate %s: %w", id, err)
			}
			e := &store.OutboxEntry{Certificate: &ct}
			if n, w := binary.Uvarint(done.Get(id)); w > 0 {
				e.Dispatched = int(n)
			}
			out = append(out, e)
		}
		return nil
	})
	if err != nil {
		return nil, unavailable("lease outbox", err)
	}
	return out, nil
}

// FinishOutbox records the dispatched counts and clears or releases the
// entries, all in one transaction; see store.Outbox.
func (s *Store) FinishOutbox(ctx context.Context, owner string, es []*store.OutboxEntry) ([]error, error) {
	if err := checkContext(ctx, "finish outbox"); err != nil {
		return nil, err
	}
	errs := make([]error, len(es))
	err := s.batchBookkeeping("finish outbox", func(tx *bbolt.Tx) (error, error) {
		certs, done, ob := tx.Bucket(bucketCerts), tx.Bucket(bucketOutboxDone), tx.Bucket(bucketOutbox)
		for i, e := range es {
			errs[i] = nil
			id := []byte(e.Certificate.ID)
			if certs.Get(id) == nil {
				errs[i] = fmt.Errorf("certificate %s: %w", id, store.ErrNotFound)
				continue
			}
			if n, w := binary.Uvarint(done.Get(id)); w <= 0 || int(n) < e.Dispatched {
				if err := done.Put(id, binary.AppendUvarint(nil, uint64(e.Dispatched))); err != nil {
					return nil, err
				}
			}
			raw := ob.Get(id)
			o, err := decodeOutbox(raw)
			if raw == nil || err != nil || o.owner != owner {
				errs[i] = fmt.Errorf("outbox entry of %s: not leased by %s: %w", id, owner, store.ErrConflict)
				continue
			}
			if o.version == e.Certificate.Version {
				err = ob.Delete(id)
			} else {
				o.until, o.owner = 0, ""
				err = ob.Put(id, o.encode())
			}
			if err != nil {
				return nil, err
			}
		}
		return nil, nil
	})
	if err != nil {
		return nil, err
	}
	return errs, nil
}
