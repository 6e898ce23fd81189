package storetest

import (
	"testing"
	"time"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/store"
)

var updateTests = []test{
	{"certificates/update", testUpdate},
	{"certificates/update-stale-version", testUpdateStale},
	{"certificates/update-not-found", testUpdateNotFound},
	{"certificates/update-keeps-lookups", testUpdateKeepsLookups},
	{"certificates/update-changes-listing", testUpdateChangesListing},
	{"certificates/update-immutable/issuer", func(t *testing.T, s store.Store) {
		testUpdateImmutable(t, s, func(c *cert.Certificate) { c.Issuer = "issuer-other" })
	}},
	{"certificates/update-immutable/number", func(t *testing.T, s store.Store) {
		testUpdateImmutable(t, s, func(c *cert.Certificate) { c.Number += "-X" })
	}},
	{"certificates/update-immutable/status-position", func(t *testing.T, s store.Store) {
		testUpdateImmutable(t, s, func(c *cert.Certificate) { c.StatusIndex += 100_000 })
	}},
	{"certificates/update-immutable/idempotency-key", func(t *testing.T, s store.Store) {
		testUpdateImmutable(t, s, func(c *cert.Certificate) { c.IdempotencyKey = "other-key" })
	}},
}

// suspend appends a suspension event to c.
func suspend(c *cert.Certificate, reason string) {
	now := time.Date(2027, 12, 1, 0, 0, 0, 0, time.UTC)
	c.Append(cert.Event{Type: cert.EventSuspended, At: now, RecordedAt: now, Actor: "apikey:test", Reason: reason})
}

func testUpdate(t *testing.T, s store.Store) {
	c := NewCertificate(t, "issuer-a")
	create(t, s, c)

	c1 := get(t, s, c.ID)
	suspend(c1, "first")
	if err := s.UpdateCertificate(t.Context(), c1); err != nil {
		t.Fatalf("UpdateCertificate(version 1): %v", err)
	}
	if c1.Version != 2 {
		t.Errorf("after update, c.Version = %d, want 2", c1.Version)
	}
	sameCert(t, "after first update", get(t, s, c.ID), c1)

	c1.Scope = "信息系统运行维护服务（扩大范围）"
	if err := s.UpdateCertificate(t.Context(), c1); err != nil {
		t.Fatalf("UpdateCertificate(version 2): %v", err)
	}
	if c1.Version != 3 {
		t.Errorf("after second update, c.Version = %d, want 3", c1.Version)
	}
	got := get(t, s, c.ID)
	sameCert(t, "after second update", got, c1)
	if len(got.Events) != 2 {
		t.Errorf("len(Events) = %d, want 2", len(got.Events))
	}
}

func testUpdateStale(t *testing.T, s store.Store) {
	c := NewCertificate(t, "issuer-a")
	create(t, s, c)
	winner, loser := get(t, s, c.ID), get(t, s, c.ID)

	suspend(winner, "winner")
	if err := s.UpdateCertificate(t.Context(), winner); err != nil {
		t.Fatalf("UpdateCertificate(winner): %v", err)
	}
	suspend(loser, "loser")
	loser.Scope = "changed by the loser"
	err := s.UpdateCertificate(t.Context(), loser)
	wantErr(t, "UpdateCertificate(stale version 1)", err, store.ErrConflict)
	sameCert(t, "after the refused stale update", get(t, s, c.ID), winner)

	ahead := get(t, s, c.ID)
	ahead.Version += 5
	ahead.Scope = "changed with a version from the future"
	err = s.UpdateCertificate(t.Context(), ahead)
	wantErr(t, "UpdateCertificate(version ahead of the stored one)", err, store.ErrConflict)
	sameCert(t, "after the refused update from the future", get(t, s, c.ID), winner)
}

func testUpdateNotFound(t *testing.T, s store.Store) {
	create(t, s, NewCertificate(t, "issuer-a"))
	c := NewCertificate(t, "issuer-a")
	c.Version = 1
	err := s.UpdateCertificate(t.Context(), c)
	wantErr(t, "UpdateCertificate(never created)", err, store.ErrNotFound)
	wantNotFound(t, s, c.ID)
}

// testUpdateKeepsLookups checks that every way to read a certificate sees
// the update.
func testUpdateKeepsLookups(t *testing.T, s store.Store) {
	ctx := t.Context()
	c := NewCertificate(t, "issuer-a")
	c.IdempotencyKey = "lookups"
	create(t, s, c)
	suspend(c, "lookups")
	if err := s.UpdateCertificate(ctx, c); err != nil {
		t.Fatalf("UpdateCertificate: %v", err)
	}

	byNumber, err := s.CertificateByNumber(ctx, c.Issuer, c.Number)
	if err != nil {
		t.Fatalf("CertificateByNumber after update: %v", err)
	}
	sameCert(t, "CertificateByNumber after update", byNumber, c)
	byKey, err := s.CertificateByIdempotencyKey(ctx, c.Issuer, c.IdempotencyKey)
	if err != nil {
		t.Fatalf("CertificateByIdempotencyKey after update: %v", err)
	}
	sameCert(t, "CertificateByIdempotencyKey after update", byKey, c)
	for _, q := range []store.Query{{}, {Issuer: c.Issuer}, {Number: c.Number}, {USCC: c.Organization.USCC}, {Scheme: c.Scheme}} {
		page, _, err := s.ListCertificates(ctx, q)
		if err != nil {
			t.Fatalf("ListCertificates(%+v): %v", q, err)
		}
		if len(page) != 1 {
			t.Fatalf("ListCertificates(%+v) = %v, want [%s]", q, ids(page), c.ID)
		}
		sameCert(t, "ListCertificates after update", page[0], c)
	}
}

// testUpdateChangesListing changes fields that ListCertificates filters and
// orders by, and checks the listing follows.
func testUpdateChangesListing(t *testing.T, s store.Store) {
	ctx := t.Context()
	a, b := NewCertificate(t, "issuer-a"), NewCertificate(t, "issuer-a")
	create(t, s, a, b)
	oldUSCC := a.Organization.USCC
	a.Organization.USCC = uscc(t, "91440300MA5F00001")
	a.Scheme = "iso17021"
	a.CreatedAt = b.CreatedAt.Add(time.Second) // now younger than b
	if err := s.UpdateCertificate(ctx, a); err != nil {
		t.Fatalf("UpdateCertificate: %v", err)
	}
	cases := []struct {
		q    store.Query
		want []string
	}{
		{store.Query{USCC: oldUSCC}, nil},
		{store.Query{USCC: a.Organization.USCC}, []string{a.ID}},
		{store.Query{Issuer: "issuer-a", Scheme: "itss"}, []string{b.ID}},
		{store.Query{Issuer: "issuer-a", Scheme: "iso17021"}, []string{a.ID}},
		{store.Query{Issuer: "issuer-a"}, []string{b.ID, a.ID}},
		{store.Query{}, []string{b.ID, a.ID}},
	}
	for _, tc := range cases {
		assertList(t, s, tc.q, 0, tc.want)
	}
}

// testUpdateImmutable changes a field the contract says never changes. The
// backend may refuse the update or ignore the change; either way the stored
// certificate and its lookups keep the original value.
func testUpdateImmutable(t *testing.T, s store.Store, change func(*cert.Certificate)) {
	ctx := t.Context()
	c := NewCertificate(t, "issuer-a")
	c.IdempotencyKey = "immutable"
	create(t, s, c)
	orig := clone(c)

	changed := clone(c)
	change(changed)
	err := s.UpdateCertificate(ctx, changed)
	got := get(t, s, c.ID)
	if err != nil && got.Version != 1 {
		t.Errorf("refused update changed the version to %d, want 1", got.Version)
	}
	if got.Issuer != orig.Issuer || got.Number != orig.Number || got.StatusList != orig.StatusList ||
		got.StatusIndex != orig.StatusIndex || got.IdempotencyKey != orig.IdempotencyKey {
		t.Errorf("after UpdateCertificate (err %v): issuer %q number %q position %d/%d key %q; want them unchanged: %q %q %d/%d %q",
			err, got.Issuer, got.Number, got.StatusList, got.StatusIndex, got.IdempotencyKey,
			orig.Issuer, orig.Number, orig.StatusList, orig.StatusIndex, orig.IdempotencyKey)
	}
	if _, err := s.CertificateByNumber(ctx, orig.Issuer, orig.Number); err != nil {
		t.Errorf("CertificateByNumber(original number) after the update: %v", err)
	}
	if _, err := s.CertificateByIdempotencyKey(ctx, orig.Issuer, orig.IdempotencyKey); err != nil {
		t.Errorf("CertificateByIdempotencyKey(original key) after the update: %v", err)
	}
	if changed.Number != orig.Number || changed.Issuer != orig.Issuer {
		_, err := s.CertificateByNumber(ctx, changed.Issuer, changed.Number)
		wantErr(t, "CertificateByNumber(changed number)", err, store.ErrNotFound)
	}
	// The original status position is still taken, by this certificate.
	other := NewCertificate(t, orig.Issuer)
	other.StatusList, other.StatusIndex = orig.StatusList, orig.StatusIndex
	err = s.CreateCertificate(ctx, other)
	wantErr(t, "CreateCertificate(original status position)", err, store.ErrAlreadyExists)
}
