package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/store"
)

var issuerTests = []test{
	{"issuers/create", testIssuerCreate},
	{"issuers/duplicate", testIssuerDuplicate},
	{"issuers/not-found", testIssuerNotFound},
	{"issuers/list-ordered", testIssuersOrdered},
	{"issuers/returned-copies", testIssuerCopies},
}

func newIssuer(t testing.TB, id string) *cert.Issuer {
	t.Helper()
	is := &cert.Issuer{
		ID:            id,
		Name:          "China Example Certification Centre",
		NameZh:        "中国示例认证中心",
		Accreditation: []cert.Accreditation{{Body: "CNAS", Number: "CNAS C123-M"}},
		Contact:       "cert@example.cn",
		StatusKey:     []byte{0x00, 0x01, 0xfe, 0xff, 0x80, 0x7f},
		CreatedAt:     time.Date(2026, 1, 2, 3, 4, 5, 600700800, shanghai(t)),
		Version:       1,
	}
	is.Normalize()
	if err := is.Validate(); err != nil {
		t.Fatalf("newIssuer(%s): %v", id, err)
	}
	return is
}

// sameIssuer reports an error when got differs from want.
func sameIssuer(t testing.TB, what string, got, want *cert.Issuer) {
	t.Helper()
	if got == nil {
		t.Errorf("%s: nil issuer, want %s", what, want.ID)
		return
	}
	norm := func(is cert.Issuer) cert.Issuer {
		is.CreatedAt = is.CreatedAt.UTC()
		if len(is.StatusKey) == 0 {
			is.StatusKey = nil
		}
		return is
	}
	if d := fieldDiff(norm(*got), norm(*want)); d != "" {
		t.Errorf("%s: issuer differs (got, want):\n%s", what, d)
	}
}

func testIssuerCreate(t *testing.T, s store.Store) {
	is := newIssuer(t, "cesa-itss")
	if err := s.CreateIssuer(t.Context(), is); err != nil {
		t.Fatalf("CreateIssuer: %v", err)
	}
	got, err := s.Issuer(t.Context(), "cesa-itss")
	if err != nil {
		t.Fatalf("Issuer: %v", err)
	}
	sameIssuer(t, "Issuer", got, is)
}

func testIssuerDuplicate(t *testing.T, s store.Store) {
	first := newIssuer(t, "cesa-itss")
	if err := s.CreateIssuer(t.Context(), first); err != nil {
		t.Fatalf("CreateIssuer: %v", err)
	}
	second := newIssuer(t, "cesa-itss")
	second.Name = "Another body"
	err := s.CreateIssuer(t.Context(), second)
	wantErr(t, "CreateIssuer(same id)", err, store.ErrAlreadyExists)
	got, err := s.Issuer(t.Context(), "cesa-itss")
	if err != nil {
		t.Fatalf("Issuer: %v", err)
	}
	sameIssuer(t, "issuer after the refused duplicate", got, first)
}

func testIssuerNotFound(t *testing.T, s store.Store) {
	if err := s.CreateIssuer(t.Context(), newIssuer(t, "present")); err != nil {
		t.Fatalf("CreateIssuer: %v", err)
	}
	_, err := s.Issuer(t.Context(), "absent")
	wantErr(t, "Issuer(absent)", err, store.ErrNotFound)
}

func testIssuersOrdered(t *testing.T, s store.Store) {
	list, err := s.Issuers(t.Context())
	if err != nil || len(list) != 0 {
		t.Errorf("Issuers on an empty store = %d issuers, %v; want none", len(list), err)
	}
	for _, id := range []string{"iso-body", "cesa-itss", "default", "a1-cert"} {
		if err := s.CreateIssuer(t.Context(), newIssuer(t, id)); err != nil {
			t.Fatalf("CreateIssuer(%s): %v", id, err)
		}
	}
	list, err = s.Issuers(t.Context())
	if err != nil {
		t.Fatalf("Issuers: %v", err)
	}
	var got []string
	for _, is := range list {
		got = append(got, is.ID)
	}
	if want := []string{"a1-cert", "cesa-itss", "default", "iso-body"}; !slices.Equal(got, want) {
		t.Errorf("Issuers() ids = %v, want %v", got, want)
	}
	if len(list) > 0 {
		sameIssuer(t, "Issuers()[0]", list[0], newIssuer(t, "a1-cert"))
	}
}

func testIssuerCopies(t *testing.T, s store.Store) {
	is := newIssuer(t, "cesa-itss")
	if err := s.CreateIssuer(t.Context(), is); err != nil {
		t.Fatalf("CreateIssuer: %v", err)
	}
	want := newIssuer(t, "cesa-itss")
	is.Name, is.StatusKey[0] = "changed input", 0xAA
	got, err := s.Issuer(t.Context(), "cesa-itss")
	if err != nil {
		t.Fatalf("Issuer: %v", err)
	}
	got.Name, got.StatusKey[1] = "changed output", 0xAA
	list, err := s.Issuers(t.Context())
	if err != nil || len(list) != 1 {
		t.Fatalf("Issuers = %d, %v; want 1", len(list), err)
	}
	list[0].StatusKey[2] = 0xAA
	got, err = s.Issuer(t.Context(), "cesa-itss")
	if err != nil {
		t.Fatalf("Issuer: %v", err)
	}
	sameIssuer(t, "issuer after changing given and returned values", got, want)
}
