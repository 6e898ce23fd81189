package storetest

import (
	"testing"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/store"
)

var batchTests = []test{
	{"certificates/batch", testBatch},
	{"certificates/batch-collisions-within", testBatchCollisionsWithin},
	{"certificates/batch-empty", testBatchEmpty},
}

// testBatch mixes new certificates with ones that collide with stored
// certificates.
func testBatch(t *testing.T, s store.Store) {
	ctx := t.Context()
	stored := NewCertificate(t, "issuer-a")
	stored.IdempotencyKey = "stored"
	create(t, s, stored)

	good := numbered(t, "issuer-a", 3)
	byNumber := duplicate(t, stored, dupNumber)
	byPosition := duplicate(t, stored, dupPosition)
	byID := duplicate(t, stored, dupID)
	byKey := duplicate(t, stored, dupIdemKey)
	cs := []*cert.Certificate{good[0], byNumber, good[1], byPosition, byID, byKey, good[2]}
	wantOK := []bool{true, false, true, false, false, false, true}

	errs, err := s.CreateCertificates(ctx, cs)
	if err != nil {
		t.Fatalf("CreateCertificates: %v", err)
	}
	if len(errs) != len(cs) {
		t.Fatalf("CreateCertificates returned %d results for %d certificates", len(errs), len(cs))
	}
	for i, c := range cs {
		if wantOK[i] {
			if errs[i] != nil {
				t.Errorf("item %d %s: err = %v, want nil", i, describe(c), errs[i])
			}
			if c.Version != 1 {
				t.Errorf("item %d: Version = %d after create, want 1", i, c.Version)
			}
			sameCert(t, "stored batch item", get(t, s, c.ID), c)
		} else {
			wantErr(t, "batch item "+describe(c), errs[i], store.ErrAlreadyExists)
		}
	}
	sameCert(t, "certificate the batch collided with", get(t, s, stored.ID), stored)
	for _, c := range []*cert.Certificate{byNumber, byPosition, byID, byKey} {
		if c.ID != stored.ID {
			wantNotFound(t, s, c.ID)
		}
		if c.Number != stored.Number {
			_, err := s.CertificateByNumber(ctx, c.Issuer, c.Number)
			wantErr(t, "CertificateByNumber(refused item's number)", err, store.ErrNotFound)
		}
	}
	assertList(t, s, store.Query{Issuer: "issuer-a"}, 0, []string{stored.ID, good[0].ID, good[1].ID, good[2].ID})
}

// testBatchCollisionsWithin puts certificates that collide with each other
// into one batch: the first of each pair is stored, the second refused.
func testBatchCollisionsWithin(t *testing.T, s store.Store) {
	ctx := t.Context()
	first := NewCertificate(t, "issuer-a")
	first.IdempotencyKey = "first"
	want := clone(first)
	good := NewCertificate(t, "issuer-a")
	cs := []*cert.Certificate{
		first,
		duplicate(t, first, dupNumber),
		duplicate(t, first, dupPosition),
		duplicate(t, first, dupID),
		duplicate(t, first, dupIdemKey),
		good,
	}
	errs, err := s.CreateCertificates(ctx, cs)
	if err != nil {
		t.Fatalf("CreateCertificates: %v", err)
	}
	if len(errs) != len(cs) {
		t.Fatalf("CreateCertificates returned %d results for %d certificates", len(errs), len(cs))
	}
	if errs[0] != nil {
		t.Errorf("item 0 (first of its values): err = %v, want nil", errs[0])
	}
	for i := 1; i < 5; i++ {
		wantErr(t, "item colliding with item 0: "+describe(cs[i]), errs[i], store.ErrAlreadyExists)
	}
	if errs[5] != nil {
		t.Errorf("item 5 (no collision): err = %v, want nil", errs[5])
	}
	want.Version = 1
	sameCert(t, "item 0", get(t, s, first.ID), want)
	sameCert(t, "item 5", get(t, s, good.ID), good)
	got, err := s.CertificateByNumber(ctx, first.Issuer, first.Number)
	if err != nil || got.ID != first.ID {
		t.Errorf("CertificateByNumber(shared number) = %v, %v; want item 0 (%s)", got, err, first.ID)
	}
	got, err = s.CertificateByIdempotencyKey(ctx, first.Issuer, first.IdempotencyKey)
	if err != nil || got.ID != first.ID {
		t.Errorf("CertificateByIdempotencyKey(shared key) = %v, %v; want item 0 (%s)", got, err, first.ID)
	}
	for _, c := range cs[1:5] {
		if c.ID != first.ID {
			wantNotFound(t, s, c.ID)
		}
	}
	assertList(t, s, store.Query{Issuer: "issuer-a"}, 0, []string{first.ID, good.ID})
}

func testBatchEmpty(t *testing.T, s store.Store) {
	errs, err := s.CreateCertificates(t.Context(), nil)
	if err != nil || len(errs) != 0 {
		t.Errorf("CreateCertificates(nil) = %v, %v; want no results, nil", errs, err)
	}
	page, _, err := s.ListCertificates(t.Context(), store.Query{})
	if err != nil || len(page) != 0 {
		t.Errorf("ListCertificates after an empty batch = %d certificates, %v; want 0, nil", len(page), err)
	}
}
