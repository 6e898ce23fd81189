package bolt

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"runtime"
	"sync"
	"time"

	"go.etcd.io/bbolt"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/store"
)

// certKeys are the fields of a certificate that its index keys are made
// of.
type certKeys struct {
	ID             string
	Issuer         string
	Number         string
	StatusList     int
	StatusIndex    int
	IdempotencyKey string
	CreatedAt      time.Time
	ValidFrom      time.Time
	ValidUntil     time.Time
	Version        int64
	Organization   struct{ USCC, Name, NameEn string }
}

func keysOf(c *cert.Certificate) certKeys {
	k := certKeys{
		ID:             c.ID,
		Issuer:         c.Issuer,
		Number:         c.Number,
		StatusList:     c.StatusList,
		StatusIndex:    c.StatusIndex,
		IdempotencyKey: c.IdempotencyKey,
		CreatedAt:      c.CreatedAt,
		ValidFrom:      c.ValidFrom,
		ValidUntil:     c.ValidUntil,
		Version:        c.Version,
	}
	k.Organization.USCC = c.Organization.USCC
	k.Organization.Name, k.Organization.NameEn = c.Organization.Name, c.Organization.NameEn
	return k
}

func (k *certKeys) numberKey() []byte { return join(k.Issuer, k.Number) }

func (k *certKeys) statusKey() []byte {
	b := append([]byte(k.Issuer), 0)
	b = binary.BigEndian.AppendUint64(b, uint64(k.StatusList))
	b = append(b, 0)
	return binary.BigEndian.AppendUint64(b, uint64(k.StatusIndex))
}

func (k *certKeys) idemKey() []byte {
	if k.IdempotencyKey == "" {
		return nil
	}
	return join(k.Issuer, k.IdempotencyKey)
}

// entry is one key of a non-unique listing index. Every such key ends with
// the certificate's id; its value is listValue(id).
type entry struct {
	bucket []byte
	key    []byte
	// ascending is set for indexes whose new keys mostly sort after the
	// existing ones of their prefix: the creation time, alone or after
	// the issuer, or a number made from a pattern.
	ascending bool
}

// fillAscending is the bbolt FillPercent of indexes that grow at their end;
// pages of those are never split again, so filling them spares writes.
// Buckets with random keys keep bbolt's default of one half.
const fillAscending = 0.9

// bucketIn returns the bucket of e in a write transaction, set up for its
// key order.
func (e *entry) bucketIn(tx *bbolt.Tx) *bbolt.Bucket {
	b := tx.Bucket(e.bucket)
	if e.ascending {
		b.FillPercent = fillAscending
	}
	return b
}

// listValue is the value of a listing entry of the certificate id: nothing
// when id has the length of every id certd makes (the key's last
// cert.IDLength bytes are then the id), else the id itself. Files written
// before held the id in every entry; listedID reads both.
func listValue(id []byte) []byte {
	if len(id) == cert.IDLength {
		return []byte{}
	}
	return id
}

// listedID returns the id of the listing entry k → v (listValue).
func listedID(k, v []byte) []byte {
	if len(v) == 0 && len(k) >= cert.IDLength {
		return k[len(k)-cert.IDLength:]
	}
	return v
}

// listEntries are the keys of the certificate in the listing indexes.
func (k *certKeys) listEntries() []entry {
	created := append(timeKey(k.CreatedAt), k.ID...)
	es := []entry{
		{bucketCertCreated, created, true},
		{bucketCertIssuer, append(append([]byte(k.Issuer), 0), created...), true},
		{bucketCertByNumber, append(append([]byte(k.Number), 0), created...), true},
	}
	if k.Organization.USCC != "" {
		es = append(es, entry{bucketCertUSCC, append(append([]byte(k.Organization.USCC), 0), created...), false})
	}
	return append(es, k.validityEntries()...)
}

// validityEntries are the keys of the validity index (validity.go).
func (k *certKeys) validityEntries() []entry {
	at := func(t time.Time) []byte {
		b := append([]byte(k.Issuer), 0)
		b = append(b, timeKey(t)...)
		return append(b, k.ID...)
	}
	return []entry{{bucketCertValidFrom, at(k.ValidFrom), false}, {bucketCertValidUntil, at(k.ValidUntil), false}}
}

// timeKey encodes t in 12 bytes whose byte order is time order.
func timeKey(t time.Time) []byte {
	b := make([]byte, 12, 12+cert.IDLength)
	binary.BigEndian.PutUint64(b, uint64(t.Unix())^(1<<63))
	binary.BigEndian.PutUint32(b[8:], uint32(t.Nanosecond()))
	return b
}

func join(a, b string) []byte {
	k := make([]byte, 0, len(a)+1+len(b))
	k = append(k, a...)
	k = append(k, 0)
	return append(k, b...)
}

// certRecord is a certificate prepared for writing: validated, encoded and
// with its keys computed, all outside the write transaction.
type certRecord struct {
	keys  certKeys
	value []byte
	// mark is the status mark to store (status.go); nil without a marker.
	mark []byte
}

// prepare checks the fields that form keys and encodes c as it will be
// stored, with the given version. c itself is not changed.
func prepare(c *cert.Certificate, version int64) (*certRecord, error) {
	if c == nil {
		return nil, cert.Invalid("certificate", "is required")
	}
	for _, f := range []struct{ name, v string }{{"id", c.ID}, {"issuer", c.Issuer}, {"number", c.Number}} {
		if err := checkKey(f.name, f.v); err != nil {
			return nil, err
		}
	}
	if err := checkOptionalKey("idempotencyKey", c.IdempotencyKey); err != nil {
		return nil, err
	}
	if err := checkOptionalKey("organization.uscc", c.Organization.USCC); err != nil {
		return nil, err
	}
	cp := *c
	cp.Version = version
	v, err := encodeCert(&cp)
	if err != nil {
		return nil, fmt.Errorf("encode certificate %s: %w", c.ID, err)
	}
	r := &certRecord{keys: keysOf(c), value: v}
	r.keys.Version = version
	return r, nil
}

// insert stores r when no unique constraint forbids it. A broken
// constraint is reported as the domain error derr, with nothing written;
// err is a failure of bbolt, which must abort the transaction.
func (r *certRecord) insert(tx *bbolt.Tx, ix *indexWriter) (derr, err error) {
	k := &r.keys
	id := []byte(k.ID)
	certs := tx.Bucket(bucketCerts)
	if certs.Get(id) != nil {
		return fmt.Errorf("certificate id %s: %w", k.ID, store.ErrAlreadyExists), nil
	}
	numbers, statuses, idems := tx.Bucket(bucketCertNumber), tx.Bucket(bucketCertStatus), tx.Bucket(bucketCertIdem)
	nk, sk, ik := k.numberKey(), k.statusKey(), k.idemKey()
	if numbers.Get(nk) != nil {
		return fmt.Errorf("certificate number %q of issuer %s: %w", k.Number, k.Issuer, store.ErrAlreadyExists), nil
	}
	if statuses.Get(sk) != nil {
		return fmt.Errorf("status list %d index %d of issuer %s: %w", k.StatusList, k.StatusIndex, k.Issuer, store.ErrAlreadyExists), nil
	}
	if ik != nil && idems.Get(ik) != nil {
		return fmt.Errorf("idempotency key of issuer %s: %w", k.Issuer, store.ErrAlreadyExists), nil
	}
	// Every constraint holds: from here on only bbolt can fail, and its
	// failure rolls the whole transaction back. Numbers made from a
	// pattern ascend too.
	numbers.FillPercent = fillAscending
	if err := certs.Put(id, r.value); err != nil {
		return nil, err
	}
	if err := numbers.Put(nk, id); err != nil {
		return nil, err
	}
	if err := statuses.Put(sk, positionValue(id, r.mark)); err != nil {
		return nil, err
	}
	if ik != nil {
		if err := idems.Put(ik, id); err != nil {
			return nil, err
		}
	}
	for _, e := range k.listEntries() {
		if err := e.bucketIn(tx).Put(e.key, listValue(id)); err != nil {
			return nil, err
		}
	}
	if len(r.mark) > 0 {
		if err := putMark(tx, k, nil, r.mark); err != nil {
			return nil, err
		}
	}
	if err := markOutbox(tx, id, k.Version); err != nil {
		return nil, err
	}
	return nil, ix.add(k)
}

// replace stores r over the certificate stored with version based, moving
// its listing entries when their keys changed and indexing its names again
// when they changed.
func (r *certRecord) replace(tx *bbolt.Tx, ix *indexWriter, based int64) (derr, err error) {
	k := &r.keys
	id := []byte(k.ID)
	certs := tx.Bucket(bucketCerts)
	old := certs.Get(id)
	if old == nil {
		return fmt.Errorf("certificate %s: %w", k.ID, store.ErrNotFound), nil
	}
	var stored cert.Certificate
	if err := decodeCert(old, &stored); err != nil {
		return nil, fmt.Errorf("decode certificate %s: %w", k.ID, err)
	}
	ok := keysOf(&stored)
	if ok.Version != based {
		return fmt.Errorf("certificate %s: stored version %d, update based on %d: %w", k.ID, ok.Version, based, store.ErrConflict), nil
	}
	switch {
	case ok.Issuer != k.Issuer:
		return cert.Invalid("issuer", "cannot change"), nil
	case ok.Number != k.Number:
		return cert.Invalid("number", "cannot change; a revision is a new certificate"), nil
	case ok.StatusList != k.StatusList || ok.StatusIndex != k.StatusIndex:
		return cert.Invalid("statusIndex", "status list position cannot change"), nil
	case ok.IdempotencyKey != k.IdempotencyKey:
		return cert.Invalid("idempotencyKey", "cannot change"), nil
	}
	olds, news := ok.listEntries(), k.listEntries()
	if !sameEntries(olds, news) {
		for _, e := range olds {
			if err := tx.Bucket(e.bucket).Delete(e.key); err != nil {
				return nil, err
			}
		}
		for _, e := range news {
			if err := e.bucketIn(tx).Put(e.key, listValue(id)); err != nil {
				return nil, err
			}
		}
	}
	if r.mark != nil {
		if err := remark(tx, k, r.mark); err != nil {
			return nil, err
		}
	}
	if err := markOutbox(tx, id, k.Version); err != nil {
		return nil, err
	}
	if ok.Organization.Name != k.Organization.Name || ok.Organization.NameEn != k.Organization.NameEn {
		if err := ix.add(k); err != nil {
			return nil, err
		}
		if err := ix.flush(); err != nil {
			return nil, err
		}
	}
	return nil, certs.Put(id, r.value)
}

func sameEntries(a, b []entry) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !bytes.Equal(a[i].bucket, b[i].bucket) || !bytes.Equal(a[i].key, b[i].key) {
			return false
		}
	}
	return true
}

// CreateCertificate stores c with Version 1 and sets c.Version; see
// store.Certificates. Concurrent calls share commits.
func (s *Store) CreateCertificate(ctx context.Context, c *cert.Certificate) error {
	if err := checkContext(ctx, "create certificate"); err != nil {
		return err
	}
	r, err := prepare(c, 1)
	if err != nil {
		return err
	}
	r.mark = s.markOf(c)
	var derr error
	var ix *indexWriter
	err = s.commits.update(true, func(tx *bbolt.Tx) error {
		ix = s.newIndexWriter(tx)
		var err error
		if derr, err = r.insert(tx, ix); err != nil {
			return err
		}
		return ix.flush()
	})
	if err != nil {
		return unavailable("create certificate "+c.ID, err)
	}
	ix.committed()
	if derr != nil {
		return derr
	}
	c.Version = 1
	return nil
}

// CreateCertificates stores cs in one transaction, each item on its own
// terms; see store.Certificates.
func (s *Store) CreateCertificates(ctx context.Context, cs []*cert.Certificate) ([]error, error) {
	if err := checkContext(ctx, "create certificates"); err != nil {
		return nil, err
	}
	errs := make([]error, len(cs))
	recs := make([]*certRecord, len(cs))
	// Encoding (and compressing the credentials) is most of the work
	// outside the transaction: a large batch spreads it over the cores.
	workers := min(runtime.GOMAXPROCS(0), len(cs)/64+1)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(cs); i += workers {
				recs[i], errs[i] = prepare(cs[i], 1)
				if errs[i] == nil {
					recs[i].mark = s.markOf(cs[i])
				}
			}
		}()
	}
	wg.Wait()
	pending := 0
	for _, err := range errs {
		if err == nil {
			pending++
		}
	}
	if pending == 0 {
		return errs, nil
	}
	derrs := make([]error, len(cs))
	var ix *indexWriter
	err := s.commits.update(true, func(tx *bbolt.Tx) error {
		clear(derrs)
		ix = s.newIndexWriter(tx)
		if pending >= preloadAbove {
			ix.preload()
		}
		for i, r := range recs {
			if r == nil {
				continue
			}
			derr, err := r.insert(tx, ix)
			if err != nil {
				return err
			}
			derrs[i] = derr
		}
		return ix.flush()
	})
	if err != nil {
		return nil, unavailable("create certificates", err)
	}
	ix.committed()
	for i, r := range recs {
		if r == nil {
			continue
		}
		errs[i] = derrs[i]
		if errs[i] == nil {
			cs[i].Version = 1
		}
	}
	return errs, nil
}

// UpdateCertificate replaces the certificate stored with c.Version and sets
// c.Version to the new version; see store.Certificates. A change of the
// issuer, number, status position or idempotency key is rejected with
// cert.ErrInvalid.
func (s *Store) UpdateCertificate(ctx context.Context, c *cert.Certificate) error {
	if err := checkContext(ctx, "update certificate"); err != nil {
		return err
	}
	if c == nil {
		return cert.Invalid("certificate", "is required")
	}
	based := c.Version
	r, err := prepare(c, based+1)
	if err != nil {
		return err
	}
	r.mark = s.markOf(c)
	var derr error
	var ix *indexWriter
	err = s.commits.update(true, func(tx *bbolt.Tx) error {
		ix = s.newIndexWriter(tx)
		var err error
		derr, err = r.replace(tx, ix, based)
		return err
	})
	if err != nil {
		return unavailable("update certificate "+c.ID, err)
	}
	ix.committed()
	if derr != nil {
		return derr
	}
	c.Version = based + 1
	return nil
}

// Certificate returns the certificate with the id; see store.Certificates.
func (s *Store) Certificate(ctx context.Context, id string) (*cert.Certificate, error) {
	if err := checkContext(ctx, "get certificate"); err != nil {
		return nil, err
	}
	return s.certificateBy(nil, []byte(id), "certificate "+id)
}

// CertificateForVerdict returns the certificate with the id without its
// credential, and the issuer object that credential signed
// (cert.SignedIssuer of it; ok false when it has none): what a verdict
// shows of it, read without making the token again.
func (s *Store) CertificateForVerdict(ctx context.Context, id string) (c *cert.Certificate, signed cert.CredentialIssuer, ok bool, err error) {
	if err := checkContext(ctx, "get certificate"); err != nil {
		return nil, signed, false, err
	}
	var si signedIssuer
	c, err = s.certificateAs(nil, []byte(id), "certificate "+id, &si)
	return c, si.is, si.ok, err
}

// signedIssuer is what decodeCertAs reads of a credential.
type signedIssuer struct {
	is cert.CredentialIssuer
	ok bool
}

// CertificateByNumber returns the certificate of the issuer with the
// number; see store.Certificates.
func (s *Store) CertificateByNumber(ctx context.Context, issuer, number string) (*cert.Certificate, error) {
	if err := checkContext(ctx, "get certificate by number"); err != nil {
		return nil, err
	}
	return s.certificateBy(bucketCertNumber, join(issuer, number), fmt.Sprintf("certificate number %q of issuer %s", number, issuer))
}

// CertificateByIdempotencyKey returns the certificate created with the key;
// see store.Certificates.
func (s *Store) CertificateByIdempotencyKey(ctx context.Context, issuer, key string) (*cert.Certificate, error) {
	if err := checkContext(ctx, "get certificate by idempotency key"); err != nil {
		return nil, err
	}
	if key == "" {
		return nil, fmt.Errorf("empty idempotency key: %w", store.ErrNotFound)
	}
	return s.certificateBy(bucketCertIdem, join(issuer, key), "certificate with idempotency key of issuer "+issuer)
}

// certificateBy looks key up in the index bucket (the id itself when index
// is nil) and decodes the certificate. what names it in errors.
func (s *Store) certificateBy(index, key []byte, what string) (*cert.Certificate, error) {
	return s.certificateAs(index, key, what, nil)
}

// certificateAs is certificateBy; with signed, the credential is read as
// decodeCertAs reads it.
func (s *Store) certificateAs(index, key []byte, what string, signed *signedIssuer) (*cert.Certificate, error) {
	var c *cert.Certificate
	err := s.db.View(func(tx *bbolt.Tx) error {
		id := key
		if index != nil {
			if id = tx.Bucket(index).Get(key); id == nil {
				return nil
			}
		}
		v := tx.Bucket(bucketCerts).Get(id)
		if v == nil {
			if index != nil {
				return fmt.Errorf("index %s points to missing certificate %s", index, id)
			}
			return nil
		}
		c = new(cert.Certificate)
		if err := decodeCertAs(v, c, signed); err != nil {
			return fmt.Errorf("decode certificate %s: %w", id, err)
		}
		return nil
	})
	if err != nil {
		return nil, unavailable("get "+what, err)
	}
	if c == nil {
		return nil, fmt.Errorf("%s: %w", what, store.ErrNotFound)
	}
	return c, nil
}
