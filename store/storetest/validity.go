package storetest

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/store"
)

var validityTests = []test{
	{"validity/ranges", testValidityRanges},
}

func testValidityRanges(t *testing.T, s store.Store) {
	idx, ok := s.(store.ValidityIndex)
	if !ok {
		t.Fatalf("%T does not implement store.ValidityIndex", s)
	}
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var cs []*cert.Certificate
	for i := range 12 {
		issuer := "cb"
		if i%4 == 3 {
			issuer = "other"
		}
		c := NewCertificate(t, issuer)
		c.ValidFrom = base.AddDate(0, 0, 10*(i%6))
		c.ValidUntil = c.ValidFrom.AddDate(3, 0, i)
		cs = append(cs, c)
	}
	create(t, s, cs...)
	// A write keeps the dates indexed where they are.
	event(cs[0], cert.EventSuspended)
	update(t, s, cs[0])
	for _, tc := range []struct {
		name     string
		until    bool
		from, to time.Time
	}{
		{"from/all", false, base, base.AddDate(1, 0, 0)},
		{"from/some", false, base.AddDate(0, 0, 10), base.AddDate(0, 0, 30)},
		{"from/none", false, base.AddDate(0, 0, 1), base.AddDate(0, 0, 9)},
		{"until/some", true, base.AddDate(3, 0, 0), base.AddDate(3, 0, 25)},
	} {
		for _, issuer := range []string{"cb", "other"} {
			var want []*cert.Certificate
			for _, c := range cs {
				d := c.ValidFrom
				if tc.until {
					d = c.ValidUntil
				}
				if c.Issuer == issuer && !d.Before(tc.from) && d.Before(tc.to) {
					want = append(want, c)
				}
			}
			slices.SortFunc(want, func(a, b *cert.Certificate) int {
				da, db := a.ValidFrom, b.ValidFrom
				if tc.until {
					da, db = a.ValidUntil, b.ValidUntil
				}
				if c := da.Compare(db); c != 0 {
					return c
				}
				return strings.Compare(a.ID, b.ID)
			})
			var wantIDs []string
			for _, c := range want {
				wantIDs = append(wantIDs, c.ID)
			}
			for _, limit := range []int{1, 2, 100} {
				var got []string
				q := store.ValidityQuery{Issuer: issuer, Until: tc.until, From: tc.from, To: tc.to, Limit: limit}
				for pages := 0; ; pages++ {
					page, next, err := idx.CertificatesByValidity(t.Context(), q)
					if err != nil {
						t.Fatalf("%s %s: %v", tc.name, issuer, err)
					}
					if len(page) > limit || pages > len(cs) {
						t.Fatalf("%s %s: page of %d, limit %d", tc.name, issuer, len(page), limit)
					}
					for _, c := range page {
						got = append(got, c.ID)
					}
					if next == "" {
						break
					}
					q.Cursor = next
				}
				if !slices.Equal(got, wantIDs) {
					t.Errorf("%s %s, %d a page: %v, want %v", tc.name, issuer, limit, got, wantIDs)
				}
			}
		}
	}
	if _, _, err := idx.CertificatesByValidity(t.Context(), store.ValidityQuery{Issuer: "cb", From: base, To: base.AddDate(1, 0, 0), Cursor: "not a cursor"}); !errors.Is(err, cert.ErrInvalid) {
		t.Fatalf("malformed cursor: %v, want ErrInvalid", err)
	}
}
