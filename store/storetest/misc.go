package storetest

import (
	"context"
	"testing"

	"github.com/certd/certd/store"
)

var miscTests = []test{
	{"ping", testPing},
	{"context/canceled", testCanceled},
}

func testPing(t *testing.T, s store.Store) {
	if err := s.Ping(t.Context()); err != nil {
		t.Errorf("Ping on an open store: %v", err)
	}
}

// testCanceled calls the store with a canceled context: the calls fail and
// nothing is written.
func testCanceled(t *testing.T, s store.Store) {
	stored := NewCertificate(t, "issuer-a")
	create(t, s, stored)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()

	c := NewCertificate(t, "issuer-a")
	if err := s.CreateCertificate(ctx, c); err == nil {
		t.Errorf("CreateCertificate with a canceled context: err = nil, want an error")
	}
	if _, err := s.CreateCertificates(ctx, numbered(t, "issuer-a", 2)); err == nil {
		t.Errorf("CreateCertificates with a canceled context: err = nil, want an error")
	}
	if got, err := s.Certificate(ctx, stored.ID); err == nil {
		t.Errorf("Certificate with a canceled context = %v, nil; want an error", got != nil)
	}
	if _, err := s.NextSequence(ctx, "seq", 1); err == nil {
		t.Errorf("NextSequence with a canceled context: err = nil, want an error")
	}
	wantNotFound(t, s, c.ID)
	assertList(t, s, store.Query{Issuer: "issuer-a"}, 0, []string{stored.ID})
	wantNext(t, s, "seq", 1, 1)
}
