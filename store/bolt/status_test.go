package bolt

import (
	"bytes"
	"path/filepath"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/store"
	"github.com/certd/certd/store/storetest"
)

// TestMarkFormats reads marks in the form written before sweep instants
// existed (bits, then the watch if any) and in the current one.
func TestMarkFormats(t *testing.T) {
	watch := time.Date(2027, 11, 27, 0, 0, 0, 0, time.UTC)
	sweep := time.Date(2027, 3, 1, 9, 30, 0, 5, time.UTC)
	for _, tc := range []struct {
		name         string
		stored       []byte
		bits         byte
		watch, sweep []byte
	}{
		{"empty", []byte{}, 0, nil, nil},
		{"v1/bits", []byte{markSuspended}, markSuspended, nil, nil},
		{"v1/watch", append([]byte{markRevoked}, timeKey(watch)...), markRevoked, timeKey(watch), nil},
		{"v2/watch", encodeMark(store.StatusMark{Suspended: true, Watch: watch}), markSuspended, timeKey(watch), nil},
		{"v2/sweep", encodeMark(store.StatusMark{Sweep: sweep}), 0, nil, timeKey(sweep)},
		{"v2/all", encodeMark(store.StatusMark{Revoked: true, Suspended: true, Watch: watch, Sweep: sweep}), markBits, timeKey(watch), timeKey(sweep)},
	} {
		bits, w, s := splitMark(tc.stored)
		if bits != tc.bits || !bytes.Equal(w, tc.watch) || !bytes.Equal(s, tc.sweep) {
			t.Errorf("%s: splitMark(%x) = %d, %x, %x; want %d, %x, %x", tc.name, tc.stored, bits, w, s, tc.bits, tc.watch, tc.sweep)
		}
	}
}

// TestValidityIndexFilledAtOpen opens a file written before the validity
// index existed (its buckets empty, no mark in meta): Open indexes every
// certificate.
func TestValidityIndexFilledAtOpen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "certd.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	var cs []*cert.Certificate
	for range 7 {
		cs = append(cs, storetest.NewCertificate(t, "cb"))
	}
	if errs, err := s.CreateCertificates(t.Context(), cs); err != nil || errs[0] != nil {
		t.Fatal(err, errs)
	}
	err = s.updateTx(func(tx *bbolt.Tx) error {
		for _, b := range validityBuckets {
			if err := tx.DeleteBucket(b); err != nil {
				return err
			}
			if _, err := tx.CreateBucket(b); err != nil {
				return err
			}
		}
		return tx.Bucket(bucketMeta).Delete(keyValidityIndexed)
	})
	if err != nil {
		t.Fatal(err)
	}
	q := store.ValidityQuery{Issuer: "cb", From: time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC), Limit: 100}
	if page, _, err := s.CertificatesByValidity(t.Context(), q); err != nil || len(page) != 0 {
		t.Fatalf("emptied index: %d certificates, %v", len(page), err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if s, err = Open(path); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, until := range []bool{false, true} {
		q.Until = until
		if page, _, err := s.CertificatesByValidity(t.Context(), q); err != nil || len(page) != len(cs) {
			t.Fatalf("after Open (until %v): %d certificates, %v; want %d", until, len(page), err, len(cs))
		}
	}
}
