package storetest

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	_ "time/tzdata" // Asia/Shanghai on machines without a zoneinfo database

	"github.com/certd/certd/cert"
	"github.com/certd/certd/store"
)

// test is one subtest of the suite; s is a fresh, empty store.
type test struct {
	name string
	fn   func(t *testing.T, s store.Store)
}

// Run runs the conformance suite against the backend that open creates.
// Every subtest calls open once and gets a fresh, empty store; open
// registers its own cleanup with t.Cleanup.
func Run(t *testing.T, open func(t testing.TB) store.Store) {
	groups := [][]test{
		certificateTests,
		updateTests,
		batchTests,
		listTests,
		searchTests,
		concurrencyTests,
		issuerTests,
		profileTests,
		keyRingTests,
		apiKeyTests,
		counterTests,
		accountTests,
		statusTests,
		validityTests,
		webhookTests,
		outboxTests,
		watchTests,
		miscTests,
	}
	for _, g := range groups {
		for _, tc := range g {
			t.Run(tc.name, func(t *testing.T) {
				s := open(t)
				if s == nil {
					t.Fatal("open returned a nil store")
				}
				tc.fn(t, s)
			})
		}
	}
}

var (
	// seq makes numbers, status indexes, USCCs and creation times of
	// NewCertificate unique within the test process.
	seq atomic.Int64
	// epoch is the creation time of the first certificate NewCertificate
	// makes; each later one is a millisecond younger.
	epoch = time.Date(2026, 11, 27, 1, 30, 0, 0, time.UTC)
)

// shanghai returns the Asia/Shanghai location, the default time zone of an
// issuer.
func shanghai(t testing.TB) *time.Location {
	t.Helper()
	loc, err := cert.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatalf("load Asia/Shanghai: %v", err)
	}
	return loc
}

// NewCertificate returns a valid, not yet stored ITSS certificate of the
// issuer: a fresh id, and a number, status position, USCC and CreatedAt
// that no other certificate of this test process has. CreatedAt increases
// with every call, so certificates created in the order they were made are
// listed in that order. It has no idempotency key and one issued event.
func NewCertificate(t testing.TB, issuer string) *cert.Certificate {
	t.Helper()
	n := seq.Add(1)
	loc := shanghai(t)
	from, until := cert.ValidityPeriod(time.Date(2026, 11, 27, 10, 0, 0, 0, loc), loc, 36)
	created := epoch.Add(time.Duration(n) * time.Millisecond)
	return &cert.Certificate{
		ID:             cert.NewID(),
		Number:         fmt.Sprintf("TEST-2026-%07d", n),
		Issuer:         issuer,
		Scheme:         "itss",
		Standard:       "GB/T 28827.1-2022",
		Category:       "运行维护",
		Level:          3,
		Scope:          "信息系统运行维护服务",
		ScopeEn:        "IT operation and maintenance services",
		Sites:          []cert.Site{{Name: "北京市海淀区中关村大街1号"}},
		AssessmentBody: "中国电子工业标准化技术协会",
		Organization: cert.Organization{
			Name:    fmt.Sprintf("北京示例科技有限公司%d", n),
			NameEn:  fmt.Sprintf("Beijing Example Technology Co., Ltd. %d", n),
			USCC:    uscc(t, fmt.Sprintf("91110108MA%07d", n%10_000_000)),
			Address: "北京市海淀区",
			Country: "CN",
		},
		DecisionDate: "2026-11-20",
		ValidFrom:    from,
		ValidUntil:   until,
		TimeZone:     "Asia/Shanghai",
		Credential:   "eyJhbGciOiJFZERTQSIsInR5cCI6InZjK2p3dCJ9.eyJpZCI6InRlc3QifQ.c2lnbmF0dXJl",
		Kid:          "test-kid",
		StatusList:   1 + int(n/131072),
		StatusIndex:  int(n % 131072),
		Events: []cert.Event{{
			Seq: 1, Type: cert.EventIssued, At: from, RecordedAt: created, Actor: "apikey:test",
		}},
		CreatedAt: created,
	}
}

// uscc completes the first 17 characters of a unified social credit code
// with its check character.
func uscc(t testing.TB, first17 string) string {
	t.Helper()
	check, err := cert.USCCCheckChar(first17)
	if err != nil {
		t.Fatalf("uscc %s: %v", first17, err)
	}
	return first17 + string(check)
}

// create stores the certificates one by one and fails the test on error.
func create(t testing.TB, s store.Store, cs ...*cert.Certificate) {
	t.Helper()
	for _, c := range cs {
		if err := s.CreateCertificate(t.Context(), c); err != nil {
			t.Fatalf("CreateCertificate(%s, number %q): %v", c.ID, c.Number, err)
		}
	}
}

// createAll stores the certificates with one CreateCertificates call and
// fails the test if any is refused.
func createAll(t testing.TB, s store.Store, cs []*cert.Certificate) {
	t.Helper()
	errs, err := s.CreateCertificates(t.Context(), cs)
	if err != nil {
		t.Fatalf("CreateCertificates(%d): %v", len(cs), err)
	}
	if len(errs) != len(cs) {
		t.Fatalf("CreateCertificates(%d) returned %d results", len(cs), len(errs))
	}
	for i, err := range errs {
		if err != nil {
			t.Fatalf("CreateCertificates: item %d (%s): %v", i, cs[i].ID, err)
		}
	}
}

// get returns the stored certificate and fails the test when it cannot.
func get(t testing.TB, s store.Store, id string) *cert.Certificate {
	t.Helper()
	c, err := s.Certificate(t.Context(), id)
	if err != nil {
		t.Fatalf("Certificate(%s): %v", id, err)
	}
	if c == nil {
		t.Fatalf("Certificate(%s) returned nil and no error", id)
	}
	return c
}

// wantErr reports an error unless err matches target.
func wantErr(t testing.TB, op string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s: err = %v, want %v", op, err, target)
	}
}

// wantNotFound reports an error unless the certificate id is absent.
func wantNotFound(t testing.TB, s store.Store, id string) {
	t.Helper()
	c, err := s.Certificate(t.Context(), id)
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Certificate(%s) = %v, err %v; want ErrNotFound", id, c != nil, err)
	}
}

// sameCert reports an error when got differs from want; time fields are
// compared as instants, nil and empty slices are equal.
func sameCert(t testing.TB, what string, got, want *cert.Certificate) {
	t.Helper()
	if got == nil || want == nil {
		if got != want {
			t.Errorf("%s: got %v, want %v", what, got, want)
		}
		return
	}
	if d := fieldDiff(normCert(*got), normCert(*want)); d != "" {
		t.Errorf("%s: stored certificate differs (got, want):\n%s", what, d)
	}
}

// normCert returns c with times in UTC (no location, no monotonic reading)
// and empty slices nil, so that reflect.DeepEqual compares what matters.
func normCert(c cert.Certificate) cert.Certificate {
	c.ValidFrom, c.ValidUntil, c.CreatedAt = c.ValidFrom.UTC(), c.ValidUntil.UTC(), c.CreatedAt.UTC()
	if len(c.Sites) == 0 {
		c.Sites = nil
	}
	if len(c.Events) == 0 {
		c.Events = nil
	} else {
		es := make([]cert.Event, len(c.Events))
		for i, e := range c.Events {
			e.At, e.RecordedAt, e.Until = e.At.UTC(), e.RecordedAt.UTC(), utcPtr(e.Until)
			es[i] = e
		}
		c.Events = es
	}
	return c
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// fieldDiff lists the fields of two structs of the same type that differ,
// one line each; "" when none do.
func fieldDiff(got, want any) string {
	g, w := reflect.ValueOf(got), reflect.ValueOf(want)
	var b strings.Builder
	for i := range g.NumField() {
		gf, wf := g.Field(i).Interface(), w.Field(i).Interface()
		if !reflect.DeepEqual(gf, wf) {
			fmt.Fprintf(&b, "  %s: %s, %s\n", g.Type().Field(i).Name, show(gf), show(wf))
		}
	}
	return b.String()
}

func show(v any) string {
	switch v := v.(type) {
	case []byte:
		return fmt.Sprintf("%x", v)
	case time.Time:
		return v.Format(time.RFC3339Nano)
	case *time.Time:
		if v == nil {
			return "nil"
		}
		return v.Format(time.RFC3339Nano)
	}
	return fmt.Sprintf("%+v", v)
}

// clone returns a deep copy of c, to compare with after the original is
// changed.
func clone(c *cert.Certificate) *cert.Certificate {
	cp := *c
	cp.Sites = append([]cert.Site(nil), c.Sites...)
	cp.Events = append([]cert.Event(nil), c.Events...)
	for i, e := range cp.Events {
		cp.Events[i].Until = utcPtr(e.Until)
	}
	return &cp
}

// ids returns the ids of cs in order.
func ids(cs []*cert.Certificate) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.ID
	}
	return out
}
