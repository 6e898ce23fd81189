package bolt

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"time"

	"go.etcd.io/bbolt"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/store"
)

// The status index (store.StatusIndex) is written in the transaction that
// writes the certificate:
//   - the mark is kept in the value of the certificate's unique position
//     key (certificates.status): the id, then, when the mark has a bit or a
//     watch, a zero byte, one byte of bits and the watch instant (timeKey)
//     if any. That key is written with every new certificate anyway, so a
//     mark costs no extra random write at issuance;
//   - status.set: position key → bits, for the marks with a bit set;
//   - status.due: issuer, 0, timeKey(watch), id → nothing, for the marks
//     with a watch instant;
//   - status.sweep: timeKey(sweep), id → nothing, for the marks with a
//     sweep instant (of every issuer: the periodic sweep covers them all).
//
// A stored mark is one byte of bits, then timeKey(watch) if any, then
// timeKey(sweep) if any, which the bit markSweep tells (marks written
// before sweep instants existed have neither the bit nor the instant).
var (
	bucketStatusSet   = []byte("status.set")
	bucketStatusDue   = []byte("status.due")
	bucketStatusSweep = []byte("status.sweep")
	statusBuckets     = [][]byte{bucketStatusSet, bucketStatusDue, bucketStatusSweep}
	keyStatusTag      = []byte("statusMarkerTag")
)

const (
	markRevoked   = 1
	markSuspended = 2
	markBits      = markRevoked | markSuspended
	markSweep     = 0x40
	timeKeyLen    = 12
)

// reindexPage is how many certificates one transaction of ReindexStatus
// marks.
const reindexPage = 1000

type statusMarker struct {
	tag string
	f   store.StatusMarker
}

// SetStatusMarker sets the function that marks written certificates; see
// store.StatusIndex.
func (s *Store) SetStatusMarker(tag string, f store.StatusMarker) {
	s.marker.Store(&statusMarker{tag: tag, f: f})
}

// markOf computes the mark of c with the current marker; nil without one.
func (s *Store) markOf(c *cert.Certificate) []byte {
	m := s.marker.Load()
	if m == nil {
		return nil
	}
	return encodeMark(m.f(c))
}

// encodeMark gives the stored form of a mark; an empty slice (not nil)
// when it has neither a bit nor a watch.
func encodeMark(m store.StatusMark) []byte {
	var bits byte
	if m.Revoked {
		bits |= markRevoked
	}
	if m.Suspended {
		bits |= markSuspended
	}
	if bits == 0 && m.Watch.IsZero() && m.Sweep.IsZero() {
		return []byte{}
	}
	v := []byte{bits}
	if !m.Watch.IsZero() {
		v = append(v, timeKey(m.Watch)...)
	}
	if !m.Sweep.IsZero() {
		v[0] |= markSweep
		v = append(v, timeKey(m.Sweep)...)
	}
	return v
}

// splitMark reads a stored mark: its bits (markBits), and its watch and
// sweep instants as time keys (empty when it has none).
func splitMark(v []byte) (bits byte, watch, sweep []byte) {
	if len(v) == 0 {
		return 0, nil, nil
	}
	bits, rest := v[0], v[1:]
	if bits&markSweep != 0 && len(rest) >= timeKeyLen {
		rest, sweep = rest[:len(rest)-timeKeyLen], rest[len(rest)-timeKeyLen:]
	}
	return bits & markBits, rest, sweep
}

// positionValue is the value of a certificate's position key: its id,
// then its mark when not empty.
func positionValue(id, mark []byte) []byte {
	if len(mark) == 0 {
		return id
	}
	v := make([]byte, 0, len(id)+1+len(mark))
	v = append(v, id...)
	v = append(v, 0)
	return append(v, mark...)
}

// markIn is the mark held in a position value (ids hold no zero byte).
func markIn(v []byte) []byte {
	if i := bytes.IndexByte(v, 0); i >= 0 {
		return v[i+1:]
	}
	return nil
}

// remark stores mark as the mark of the stored certificate k, when it
// differs from the one stored.
func remark(tx *bbolt.Tx, k *certKeys, mark []byte) error {
	statuses := tx.Bucket(bucketCertStatus)
	sk := k.statusKey()
	old := bytes.Clone(markIn(statuses.Get(sk)))
	if bytes.Equal(old, mark) {
		return nil
	}
	if err := putMark(tx, k, old, mark); err != nil {
		return err
	}
	return statuses.Put(sk, positionValue([]byte(k.ID), mark))
}

// putMark replaces the status.set and status.due entries of the
// certificate k for mark old by those for mark (encodeMark forms).
func putMark(tx *bbolt.Tx, k *certKeys, old, mark []byte) error {
	set, due := tx.Bucket(bucketStatusSet), tx.Bucket(bucketStatusDue)
	was, oldWatch, oldSweep := splitMark(old)
	is, watch, sweep := splitMark(mark)
	if len(oldWatch) > 0 && !bytes.Equal(oldWatch, watch) {
		if err := due.Delete(dueKey(k, oldWatch)); err != nil {
			return err
		}
	}
	if len(watch) > 0 && !bytes.Equal(oldWatch, watch) {
		if err := due.Put(dueKey(k, watch), nil); err != nil {
			return err
		}
	}
	if !bytes.Equal(oldSweep, sweep) {
		sw := tx.Bucket(bucketStatusSweep)
		if len(oldSweep) > 0 {
			if err := sw.Delete(sweepKey(oldSweep, k.ID)); err != nil {
				return err
			}
		}
		if len(sweep) > 0 {
			if err := sw.Put(sweepKey(sweep, k.ID), nil); err != nil {
				return err
			}
		}
	}
	switch {
	case was == is:
		return nil
	case is == 0:
		return set.Delete(k.statusKey())
	default:
		return set.Put(k.statusKey(), []byte{is})
	}
}

func sweepKey(at []byte, id string) []byte {
	return append(append(make([]byte, 0, len(at)+len(id)), at...), id...)
}

func dueKey(k *certKeys, watch []byte) []byte {
	b := make([]byte, 0, len(k.Issuer)+1+len(watch)+len(k.ID))
	b = append(b, k.Issuer...)
	b = append(b, 0)
	b = append(b, watch...)
	return append(b, k.ID...)
}

// StatusMarkerTag returns the tag recorded by the last complete
// ReindexStatus; see store.StatusIndex.
func (s *Store) StatusMarkerTag(ctx context.Context) (string, error) {
	if err := checkContext(ctx, "read status marker tag"); err != nil {
		return "", err
	}
	var tag string
	err := s.db.View(func(tx *bbolt.Tx) error {
		tag = string(tx.Bucket(bucketMeta).Get(keyStatusTag))
		return nil
	})
	if err != nil {
		return "", unavailable("read status marker tag", err)
	}
	return tag, nil
}

// ReindexStatus marks every certificate again, a page of them per
// transaction, then records the marker's tag; see store.StatusIndex.
func (s *Store) ReindexStatus(ctx context.Context) error {
	m := s.marker.Load()
	if m == nil {
		return cert.Invalid("statusMarker", "must be set before reindexing")
	}
	err := s.updateTx(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketMeta).Delete(keyStatusTag)
	})
	if err != nil {
		return unavailable("reindex status", err)
	}
	err = s.rewriteEach(ctx, "reindex status", reindexPage, func(tx *bbolt.Tx, c *cert.Certificate, keys *certKeys) error {
		return remark(tx, keys, encodeMark(m.f(c)))
	}, nil)
	if err != nil {
		if ctx.Err() != nil {
			return err // checkContext's
		}
		return unavailable("reindex status", err)
	}
	err = s.updateTx(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketMeta).Put(keyStatusTag, []byte(m.tag))
	})
	if err != nil {
		return unavailable("reindex status", err)
	}
	return nil
}

// StatusView reads the issuer's status index in one transaction; see
// store.StatusIndex.
func (s *Store) StatusView(ctx context.Context, issuer string, at time.Time) (*store.StatusView, error) {
	if err := checkContext(ctx, "status view"); err != nil {
		return nil, err
	}
	prefix := append([]byte(issuer), 0)
	limit := timeKey(at)
	view := &store.StatusView{}
	err := s.db.View(func(tx *bbolt.Tx) error {
		// Lists: one seek per list, past the last position of the one
		// found.
		cur := tx.Bucket(bucketCertStatus).Cursor()
		for k, _ := cur.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); {
			n, _, ok := positionOf(k, len(prefix))
			if !ok {
				return fmt.Errorf("malformed status position key %x", k)
			}
			view.Lists = append(view.Lists, n)
			next := binary.BigEndian.AppendUint64(append([]byte{}, prefix...), uint64(n)+1)
			k, _ = cur.Seek(next)
		}
		cur = tx.Bucket(bucketStatusSet).Cursor()
		for k, v := cur.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = cur.Next() {
			n, i, ok := positionOf(k, len(prefix))
			if !ok || len(v) != 1 {
				return fmt.Errorf("malformed status entry %x", k)
			}
			view.Marked = append(view.Marked, store.StatusEntry{List: n, Index: i, Revoked: v[0]&markRevoked != 0, Suspended: v[0]&markSuspended != 0})
		}
		certs := tx.Bucket(bucketCerts)
		cur = tx.Bucket(bucketStatusDue).Cursor()
		for k, _ := cur.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = cur.Next() {
			rest := k[len(prefix):]
			if len(rest) < len(limit) {
				return fmt.Errorf("malformed status due key %x", k)
			}
			if bytes.Compare(rest[:len(limit)], limit) > 0 {
				break
			}
			id := rest[len(limit):]
			v := certs.Get(id)
			if v == nil {
				continue
			}
			c := new(cert.Certificate)
			if err := decodeCert(v, c); err != nil {
				return fmt.Errorf("decode certificate %s: %w", id, err)
			}
			view.Due = append(view.Due, c)
		}
		return nil
	})
	if err != nil {
		return nil, unavailable("status view of "+issuer, err)
	}
	return view, nil
}

// positionOf reads the list and index of a position key whose issuer
// prefix is n bytes long.
func positionOf(k []byte, n int) (list, index int, ok bool) {
	rest := k[n:]
	if len(rest) != 17 || rest[8] != 0 {
		return 0, 0, false
	}
	return int(binary.BigEndian.Uint64(rest)), int(binary.BigEndian.Uint64(rest[9:])), true
}

// SweepDue reads the certificates whose sweep instant is at or before at,
// a page in one transaction; see store.StatusIndex. The cursor is the hex
// form of the last key read.
func (s *Store) SweepDue(ctx context.Context, at time.Time, cursor string, limit int) ([]*cert.Certificate, string, error) {
	if err := checkContext(ctx, "sweep due"); err != nil {
		return nil, "", err
	}
	after, err := hex.DecodeString(cursor)
	if err != nil {
		return nil, "", cert.Invalid("cursor", "must be a cursor returned by SweepDue")
	}
	if limit <= 0 {
		limit = 500
	}
	end := timeKey(at)
	var page []*cert.Certificate
	next := ""
	err = s.db.View(func(tx *bbolt.Tx) error {
		certs := tx.Bucket(bucketCerts)
		cur := tx.Bucket(bucketStatusSweep).Cursor()
		k, _ := cur.First()
		if len(after) > 0 {
			if k, _ = cur.Seek(after); k != nil && bytes.Equal(k, after) {
				k, _ = cur.Next()
			}
		}
		for ; k != nil; k, _ = cur.Next() {
			if len(k) < timeKeyLen {
				return fmt.Errorf("malformed status sweep key %x", k)
			}
			if bytes.Compare(k[:timeKeyLen], end) > 0 {
				return nil
			}
			if len(page) == limit {
				next = hex.EncodeToString(after)
				return nil
			}
			after = append(after[:0], k...)
			v := certs.Get(k[timeKeyLen:])
			if v == nil {
				continue
			}
			c := new(cert.Certificate)
			if err := decodeCert(v, c); err != nil {
				return fmt.Errorf("decode certificate %s: %w", k[timeKeyLen:], err)
			}
			page = append(page, c)
		}
		return nil
	})
	if err != nil {
		return nil, "", unavailable("sweep due", err)
	}
	return page, next, nil
}

// DeferSweep moves the sweep instant of the certificate id, still at
// version, to until; see store.StatusIndex.
func (s *Store) DeferSweep(ctx context.Context, id string, version int64, until time.Time) error {
	if err := checkContext(ctx, "defer sweep of "+id); err != nil {
		return err
	}
	err := s.updateTx(func(tx *bbolt.Tx) error {
		v := tx.Bucket(bucketCerts).Get([]byte(id))
		if v == nil {
			return nil
		}
		var c cert.Certificate
		if err := decodeCert(v, &c); err != nil {
			return fmt.Errorf("decode certificate %s: %w", id, err)
		}
		if c.Version != version {
			return nil
		}
		k := keysOf(&c)
		bits, watch, _ := splitMark(markIn(tx.Bucket(bucketCertStatus).Get(k.statusKey())))
		mark := append([]byte{bits}, watch...)
		if !until.IsZero() {
			mark[0] |= markSweep
			mark = append(mark, timeKey(until)...)
		} else if bits == 0 && len(watch) == 0 {
			mark = []byte{}
		}
		return remark(tx, &k, mark)
	})
	if err != nil {
		return unavailable("defer sweep of "+id, err)
	}
	return nil
}
