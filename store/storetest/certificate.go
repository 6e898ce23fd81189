package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/store"
)

var certificateTests = []test{
	{"certificates/create", testCreate},
	{"certificates/round-trip", testRoundTrip},
	{"certificates/organization-email", testOrganizationEmail},
	{"certificates/not-found", testNotFound},
	{"certificates/by-number", testByNumber},
	{"certificates/same-number-two-issuers", testSameNumberTwoIssuers},
	{"certificates/same-status-position-two-issuers", testSamePositionTwoIssuers},
	{"certificates/same-index-other-list", testSameIndexOtherList},
	{"certificates/by-idempotency-key", testByIdempotencyKey},
	{"certificates/without-idempotency-key", testWithoutIdempotencyKey},
	{"certificates/duplicate-id", func(t *testing.T, s store.Store) { testDuplicate(t, s, dupID) }},
	{"certificates/duplicate-number", func(t *testing.T, s store.Store) { testDuplicate(t, s, dupNumber) }},
	{"certificates/duplicate-status-position", func(t *testing.T, s store.Store) { testDuplicate(t, s, dupPosition) }},
	{"certificates/duplicate-idempotency-key", func(t *testing.T, s store.Store) { testDuplicate(t, s, dupIdemKey) }},
	{"certificates/returned-copies", testReturnedCopies},
	{"certificates/input-not-retained", testInputNotRetained},
}

func testCreate(t *testing.T, s store.Store) {
	c := NewCertificate(t, "issuer-a")
	c.Version = 7 // ignored: a new certificate is stored with Version 1
	want := clone(c)
	create(t, s, c)
	if c.Version != 1 {
		t.Errorf("after CreateCertificate, c.Version = %d, want 1", c.Version)
	}
	got := get(t, s, c.ID)
	want.Version = 1
	sameCert(t, "Certificate", got, want)
}

// testRoundTrip stores a certificate with every field set, Chinese text, a
// Chinese number and times in Asia/Shanghai with nanoseconds.
func testRoundTrip(t *testing.T, s store.Store) {
	loc := shanghai(t)
	c := NewCertificate(t, "issuer-a")
	c.Number = "信标-2026-000123"
	c.BaseNumber = "信标-2026-000123"
	c.Revision = 1
	c.Sites = []cert.Site{
		{Name: "总部", Address: "北京市海淀区中关村大街1号", Scope: "运行维护服务"},
		{Name: "上海市浦东新区世纪大道100号"},
	}
	c.Organization = cert.Organization{
		Name:    "北京示例科技有限公司（第一分公司）",
		NameEn:  "Beijing Example Technology Co., Ltd.",
		USCC:    "91110108MA0123456G",
		Address: "北京市海淀区中关村大街1号 邮编100080",
		Country: "CN",
		Email:   "zhang.san+cert@example.cn",
	}
	c.OriginalDate = "2023-11-27"
	c.ValidFrom = time.Date(2026, 11, 27, 0, 0, 0, 0, loc)
	c.ValidUntil = c.ValidFrom.AddDate(0, 36, 0)
	c.CreatedAt = time.Date(2026, 11, 27, 9, 30, 15, 123456789, loc)
	c.Supersedes = cert.NewID()
	c.SupersededBy = cert.NewID()
	c.IdempotencyKey = "幂等-key-1"
	c.Confidential = true
	c.Audit = &cert.Audit{Type: "initial", Mode: "FS03", FirstDay: "2026-11-02", LastDay: "2026-11-04",
		Team:       []cert.AuditMember{{Name: "张三", Role: "leader"}, {Name: "Li Si", Role: "technical_expert"}},
		PersonDays: 2.5, DecisionDate: "2026-11-20", DecisionMakers: []string{"王五", "赵六"},
		TechnicalAreas: []string{"33", "19.1"}, Employees: 120}
	c.RequestHash = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
	until := time.Date(2027, 3, 1, 0, 0, 0, 0, loc)
	c.Events = []cert.Event{
		{Seq: 1, Type: cert.EventIssued, At: c.ValidFrom, RecordedAt: c.CreatedAt, Actor: "apikey:k1 (张三)"},
		{Seq: 2, Type: cert.EventSuspended, At: time.Date(2027, 1, 5, 0, 0, 0, 0, loc),
			RecordedAt: time.Date(2027, 1, 5, 8, 1, 2, 999999999, time.UTC), Actor: cert.SystemActor,
			Reason: "监督审核逾期", ReasonCode: "0111", Until: &until, AuditRef: "AUD-2027-001", Related: cert.NewID(),
			Audit: &cert.Audit{Type: "surveillance", Mode: "FS02", FirstDay: "2027-01-04", PersonDays: 0.75, Team: []cert.AuditMember{{Name: "张三", Role: "leader"}}}},
		// A time-derived change carries the status it records.
		{Seq: 3, Type: cert.EventStatusChanged, At: time.Date(2027, 12, 1, 0, 0, 0, 0, loc),
			RecordedAt: time.Date(2027, 12, 1, 0, 5, 0, 0, time.UTC), Actor: cert.SystemActor,
			Reason: cert.ReasonSurveillanceOverdue, Status: cert.StatusSuspended},
	}
	want := clone(c)
	create(t, s, c)
	want.Version = 1

	got := get(t, s, c.ID)
	sameCert(t, "Certificate", got, want)
	if !got.ValidFrom.Equal(want.ValidFrom) {
		t.Errorf("ValidFrom = %s, want the instant %s", got.ValidFrom, want.ValidFrom)
	}
	if y, m, d := got.ValidFrom.In(loc).Date(); y != 2026 || m != 11 || d != 27 || got.ValidFrom.In(loc).Hour() != 0 {
		t.Errorf("ValidFrom in Asia/Shanghai = %s, want 2026-11-27T00:00:00+08:00", got.ValidFrom.In(loc))
	}
	if !got.CreatedAt.Equal(want.CreatedAt) {
		t.Errorf("CreatedAt = %s, want %s (nanoseconds kept)", got.CreatedAt.Format(time.RFC3339Nano), want.CreatedAt.Format(time.RFC3339Nano))
	}
	if got.Organization.Name != "北京示例科技有限公司（第一分公司）" {
		t.Errorf("Organization.Name = %q, want the Chinese name unchanged", got.Organization.Name)
	}

	byNumber, err := s.CertificateByNumber(t.Context(), "issuer-a", "信标-2026-000123")
	if err != nil {
		t.Fatalf("CertificateByNumber(Chinese number): %v", err)
	}
	sameCert(t, "CertificateByNumber", byNumber, want)
	byKey, err := s.CertificateByIdempotencyKey(t.Context(), "issuer-a", "幂等-key-1")
	if err != nil {
		t.Fatalf("CertificateByIdempotencyKey: %v", err)
	}
	sameCert(t, "CertificateByIdempotencyKey", byKey, want)
}

func testNotFound(t *testing.T, s store.Store) {
	create(t, s, NewCertificate(t, "issuer-a")) // the store is not empty
	ctx := t.Context()
	wantNotFound(t, s, cert.NewID())
	_, err := s.CertificateByNumber(ctx, "issuer-a", "NO-SUCH-NUMBER")
	wantErr(t, "CertificateByNumber(missing)", err, store.ErrNotFound)
	_, err = s.CertificateByIdempotencyKey(ctx, "issuer-a", "no-such-key")
	wantErr(t, "CertificateByIdempotencyKey(missing)", err, store.ErrNotFound)
}

func testByNumber(t *testing.T, s store.Store) {
	c1, c2 := NewCertificate(t, "issuer-a"), NewCertificate(t, "issuer-a")
	create(t, s, c1, c2)
	got, err := s.CertificateByNumber(t.Context(), "issuer-a", c2.Number)
	if err != nil {
		t.Fatalf("CertificateByNumber(issuer-a, %s): %v", c2.Number, err)
	}
	sameCert(t, "CertificateByNumber", got, c2)
	_, err = s.CertificateByNumber(t.Context(), "issuer-b", c2.Number)
	wantErr(t, "CertificateByNumber(other issuer)", err, store.ErrNotFound)
}

func testSameNumberTwoIssuers(t *testing.T, s store.Store) {
	a, b := NewCertificate(t, "issuer-a"), NewCertificate(t, "issuer-b")
	b.Number = a.Number
	create(t, s, a, b)
	for _, want := range []*cert.Certificate{a, b} {
		got, err := s.CertificateByNumber(t.Context(), want.Issuer, want.Number)
		if err != nil {
			t.Fatalf("CertificateByNumber(%s, %s): %v", want.Issuer, want.Number, err)
		}
		if got.ID != want.ID {
			t.Errorf("CertificateByNumber(%s, %s).ID = %s, want %s", want.Issuer, want.Number, got.ID, want.ID)
		}
	}
}

func testSamePositionTwoIssuers(t *testing.T, s store.Store) {
	a, b := NewCertificate(t, "issuer-a"), NewCertificate(t, "issuer-b")
	b.StatusList, b.StatusIndex = a.StatusList, a.StatusIndex
	create(t, s, a, b)
	sameCert(t, "issuer-b certificate", get(t, s, b.ID), b)
}

func testSameIndexOtherList(t *testing.T, s store.Store) {
	a, b := NewCertificate(t, "issuer-a"), NewCertificate(t, "issuer-a")
	b.StatusList, b.StatusIndex = a.StatusList+1, a.StatusIndex
	create(t, s, a, b)
	sameCert(t, "certificate on the next list", get(t, s, b.ID), b)
}

func testByIdempotencyKey(t *testing.T, s store.Store) {
	a := NewCertificate(t, "issuer-a")
	a.IdempotencyKey = "req-1"
	create(t, s, a)
	got, err := s.CertificateByIdempotencyKey(t.Context(), "issuer-a", "req-1")
	if err != nil {
		t.Fatalf("CertificateByIdempotencyKey: %v", err)
	}
	sameCert(t, "CertificateByIdempotencyKey", got, a)

	_, err = s.CertificateByIdempotencyKey(t.Context(), "issuer-b", "req-1")
	wantErr(t, "CertificateByIdempotencyKey(other issuer)", err, store.ErrNotFound)
	// The key is unique per issuer: another issuer may use it.
	b := NewCertificate(t, "issuer-b")
	b.IdempotencyKey = "req-1"
	create(t, s, b)
	got, err = s.CertificateByIdempotencyKey(t.Context(), "issuer-b", "req-1")
	if err != nil {
		t.Fatalf("CertificateByIdempotencyKey(issuer-b): %v", err)
	}
	if got.ID != b.ID {
		t.Errorf("CertificateByIdempotencyKey(issuer-b).ID = %s, want %s", got.ID, b.ID)
	}
}

// testWithoutIdempotencyKey checks that the empty key is not a value of
// the unique constraint.
func testWithoutIdempotencyKey(t *testing.T, s store.Store) {
	a, b := NewCertificate(t, "issuer-a"), NewCertificate(t, "issuer-a")
	create(t, s, a, b)
	for _, c := range []*cert.Certificate{a, b} {
		sameCert(t, "certificate without idempotency key", get(t, s, c.ID), c)
	}
	_, err := s.CertificateByIdempotencyKey(t.Context(), "issuer-a", "")
	wantErr(t, "CertificateByIdempotencyKey(empty key)", err, store.ErrNotFound)
}

// dupKind names the unique constraint a duplicate breaks.
type dupKind int

const (
	dupID dupKind = iota
	dupNumber
	dupPosition
	dupIdemKey
)

// duplicate returns a new certificate that shares exactly one unique value
// of first, chosen by kind; everything else is fresh.
func duplicate(t testing.TB, first *cert.Certificate, kind dupKind) *cert.Certificate {
	t.Helper()
	d := NewCertificate(t, first.Issuer)
	d.IdempotencyKey = "idem-" + d.Number
	switch kind {
	case dupID:
		d.ID = first.ID
	case dupNumber:
		d.Number = first.Number
	case dupPosition:
		d.StatusList, d.StatusIndex = first.StatusList, first.StatusIndex
	case dupIdemKey:
		d.IdempotencyKey = first.IdempotencyKey
	}
	return d
}

// testDuplicate creates a certificate, then one that breaks one unique
// constraint, and checks that the second is refused and left nothing
// behind: none of its other unique values is taken, and no listing shows it.
func testDuplicate(t *testing.T, s store.Store, kind dupKind) {
	ctx := t.Context()
	first := NewCertificate(t, "issuer-a")
	first.IdempotencyKey = "idem-" + first.Number
	create(t, s, first)
	dup := duplicate(t, first, kind)

	err := s.CreateCertificate(ctx, dup)
	wantErr(t, "CreateCertificate(duplicate)", err, store.ErrAlreadyExists)
	sameCert(t, "first certificate after the refused duplicate", get(t, s, first.ID), first)
	assertNothingLeft(t, s, first, dup)
}

// assertNothingLeft checks that a refused certificate dup left no trace:
// first is the only certificate of the issuer, and a probe certificate
// with every unique value of dup that first does not share can be created.
func assertNothingLeft(t *testing.T, s store.Store, first, dup *cert.Certificate) {
	t.Helper()
	ctx := t.Context()
	page, _, err := s.ListCertificates(ctx, store.Query{Issuer: first.Issuer})
	if err != nil {
		t.Fatalf("ListCertificates: %v", err)
	}
	if got := ids(page); len(got) != 1 || got[0] != first.ID {
		t.Errorf("ListCertificates(%s) = %v, want only the first certificate [%s]", first.Issuer, got, first.ID)
	}
	if dup.ID != first.ID {
		wantNotFound(t, s, dup.ID)
	}
	if dup.Number != first.Number {
		_, err := s.CertificateByNumber(ctx, dup.Issuer, dup.Number)
		wantErr(t, "CertificateByNumber(refused certificate's number)", err, store.ErrNotFound)
	}
	if dup.IdempotencyKey != first.IdempotencyKey {
		_, err := s.CertificateByIdempotencyKey(ctx, dup.Issuer, dup.IdempotencyKey)
		wantErr(t, "CertificateByIdempotencyKey(refused certificate's key)", err, store.ErrNotFound)
	}

	probe := NewCertificate(t, dup.Issuer)
	if dup.Number != first.Number {
		probe.Number = dup.Number
	}
	if dup.StatusList != first.StatusList || dup.StatusIndex != first.StatusIndex {
		probe.StatusList, probe.StatusIndex = dup.StatusList, dup.StatusIndex
	}
	if dup.IdempotencyKey != first.IdempotencyKey {
		probe.IdempotencyKey = dup.IdempotencyKey
	}
	if err := s.CreateCertificate(ctx, probe); err != nil {
		t.Errorf("creating a certificate with the refused one's number, status position and idempotency key: %v (want nil: the refused create must store nothing)", err)
	}
	if dup.ID != first.ID {
		wantNotFound(t, s, dup.ID)
	}
}

func testReturnedCopies(t *testing.T, s store.Store) {
	c := NewCertificate(t, "issuer-a")
	c.IdempotencyKey = "copies"
	create(t, s, c)
	want := clone(c)

	mutate := func(got *cert.Certificate) {
		got.Organization.Name = "changed"
		got.Sites[0].Name = "changed"
		got.Events[0].Reason = "changed"
		got.Events = append(got.Events, cert.Event{Seq: 2, Type: cert.EventWithdrawn})
		got.Version = 99
	}
	mutate(get(t, s, c.ID))
	byNumber, err := s.CertificateByNumber(t.Context(), c.Issuer, c.Number)
	if err != nil {
		t.Fatalf("CertificateByNumber: %v", err)
	}
	mutate(byNumber)
	byKey, err := s.CertificateByIdempotencyKey(t.Context(), c.Issuer, c.IdempotencyKey)
	if err != nil {
		t.Fatalf("CertificateByIdempotencyKey: %v", err)
	}
	mutate(byKey)
	page, _, err := s.ListCertificates(t.Context(), store.Query{Issuer: c.Issuer})
	if err != nil || len(page) != 1 {
		t.Fatalf("ListCertificates = %d certificates, %v; want 1", len(page), err)
	}
	mutate(page[0])

	sameCert(t, "after changing returned values", get(t, s, c.ID), want)
}

func testInputNotRetained(t *testing.T, s store.Store) {
	c := NewCertificate(t, "issuer-a")
	create(t, s, c)
	want := clone(c)
	c.Organization.Name = "changed"
	c.Sites[0].Name = "changed"
	c.Events[0].Actor = "changed"
	sameCert(t, "after changing the created value", get(t, s, c.ID), want)

	batch := []*cert.Certificate{NewCertificate(t, "issuer-a")}
	createAll(t, s, batch)
	want = clone(batch[0])
	batch[0].Sites[0].Address = "changed"
	batch[0].Events[0].Actor = "changed"
	sameCert(t, "after changing a value given to CreateCertificates", get(t, s, want.ID), want)
}

// numbered returns n new certificates of the issuer.
func numbered(t testing.TB, issuer string, n int) []*cert.Certificate {
	t.Helper()
	cs := make([]*cert.Certificate, n)
	for i := range cs {
		cs[i] = NewCertificate(t, issuer)
	}
	return cs
}

func describe(c *cert.Certificate) string {
	return fmt.Sprintf("%s (number %s, list %d index %d)", c.ID, c.Number, c.StatusList, c.StatusIndex)
}

// testOrganizationEmail: the organization's e-mail is optional, kept by an
// update that sets it, and gone after one that removes it.
func testOrganizationEmail(t *testing.T, s store.Store) {
	c := NewCertificate(t, "issuer-a")
	c.Organization.Email = ""
	create(t, s, c)
	if got := get(t, s, c.ID); got.Organization.Email != "" {
		t.Fatalf("email %q on a certificate stored without one", got.Organization.Email)
	}
	for _, email := range []string{"cert@example.cn", ""} {
		c.Organization.Email = email
		if err := s.UpdateCertificate(t.Context(), c); err != nil {
			t.Fatalf("update with email %q: %v", email, err)
		}
		got := get(t, s, c.ID)
		if got.Organization.Email != email {
			t.Errorf("after an update to %q: email %q", email, got.Organization.Email)
		}
		sameCert(t, "Certificate", got, c)
	}
}
