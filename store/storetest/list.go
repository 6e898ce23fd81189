package storetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/store"
)

var listTests = []test{
	{"certificates/list-empty", testListEmpty},
	{"certificates/list-order", testListOrder},
	{"certificates/list-created-at-order", testListCreatedAtOrder},
	{"certificates/list-filters", testListFilters},
	{"certificates/list-pagination", testListPagination},
	{"certificates/list-exact-pages", testListExactPages},
	{"certificates/list-default-limit", testListDefaultLimit},
	{"certificates/list-filtered-pagination", testListFilteredPagination},
}

// assertList pages through q with the limit and checks that the pages
// hold exactly want, in order: every page but the last is full, the last
// returns the cursor "", and no id repeats.
func assertList(t testing.TB, s store.Store, q store.Query, limit int, want []string) {
	t.Helper()
	full := limit
	if full == 0 {
		full = 100
	}
	q.Limit = limit
	var got []string
	for page := 1; ; page++ {
		cs, next, err := s.ListCertificates(t.Context(), q)
		if err != nil {
			t.Fatalf("ListCertificates(%+v), page %d: %v", q, page, err)
		}
		if len(cs) > full {
			t.Fatalf("ListCertificates(%+v), page %d: %d certificates, more than the limit %d", q, page, len(cs), full)
		}
		for _, c := range cs {
			if c == nil {
				t.Fatalf("ListCertificates(%+v), page %d: nil certificate", q, page)
			}
		}
		got = append(got, ids(cs)...)
		if next == "" {
			break
		}
		if len(cs) != full {
			t.Errorf("ListCertificates(%+v), page %d: %d certificates and a next cursor; want a full page of %d", q, page, len(cs), full)
		}
		if page > len(want)/full+2 {
			t.Fatalf("ListCertificates(%+v): still a next cursor after %d pages for %d certificates", q, page, len(want))
		}
		q.Cursor = next
	}
	seen := make(map[string]bool, len(got))
	for _, id := range got {
		if seen[id] {
			t.Errorf("ListCertificates(%+v): %s returned twice", q, id)
		}
		seen[id] = true
	}
	if !slices.Equal(got, want) {
		t.Errorf("ListCertificates(issuer %q scheme %q uscc %q number %q, limit %d):\n got %v\nwant %v",
			q.Issuer, q.Scheme, q.USCC, q.Number, limit, got, want)
	}
}

func testListEmpty(t *testing.T, s store.Store) {
	for _, q := range []store.Query{{}, {Issuer: "issuer-a"}, {Scheme: "itss"}, {USCC: "91110108MA0123456G"}, {Number: "N-1"}} {
		cs, next, err := s.ListCertificates(t.Context(), q)
		if err != nil || len(cs) != 0 || next != "" {
			t.Errorf("ListCertificates(%+v) on an empty store = %d certificates, cursor %q, %v; want none, \"\", nil", q, len(cs), next, err)
		}
	}
	create(t, s, NewCertificate(t, "issuer-a"))
	cs, next, err := s.ListCertificates(t.Context(), store.Query{Issuer: "issuer-b"})
	if err != nil || len(cs) != 0 || next != "" {
		t.Errorf("ListCertificates(issuer without certificates) = %d certificates, cursor %q, %v; want none, \"\", nil", len(cs), next, err)
	}
}

func testListOrder(t *testing.T, s store.Store) {
	var all, a, b []string
	for i := range 8 {
		issuer := "issuer-a"
		if i%3 == 1 {
			issuer = "issuer-b"
		}
		c := NewCertificate(t, issuer)
		create(t, s, c)
		all = append(all, c.ID)
		if issuer == "issuer-a" {
			a = append(a, c.ID)
		} else {
			b = append(b, c.ID)
		}
	}
	assertList(t, s, store.Query{}, 0, all)
	assertList(t, s, store.Query{Issuer: "issuer-a"}, 0, a)
	assertList(t, s, store.Query{Issuer: "issuer-b"}, 0, b)
	assertList(t, s, store.Query{}, 3, all)
}

// testListCreatedAtOrder stores certificates out of CreatedAt order (as an
// import may) and expects them listed by CreatedAt.
func testListCreatedAtOrder(t *testing.T, s store.Store) {
	base := time.Date(2024, 3, 1, 8, 0, 0, 0, shanghai(t))
	cs := numbered(t, "issuer-a", 4)
	for i, c := range cs {
		c.CreatedAt = base.Add(time.Duration(len(cs)-i) * time.Hour)
	}
	create(t, s, cs...)
	want := []string{cs[3].ID, cs[2].ID, cs[1].ID, cs[0].ID}
	assertList(t, s, store.Query{Issuer: "issuer-a"}, 0, want)
	assertList(t, s, store.Query{}, 2, want)
}

func testListFilters(t *testing.T, s store.Store) {
	sharedUSCC := uscc(t, "91310115MA1K00001")
	a := numbered(t, "issuer-a", 6)
	b := numbered(t, "issuer-b", 3)
	a[1].Scheme, a[4].Scheme, b[0].Scheme = "iso17021", "iso17021", "iso17021"
	a[2].Organization.USCC, b[1].Organization.USCC = sharedUSCC, sharedUSCC
	b[2].Number = a[3].Number
	// Interleave the issuers in creation (and CreatedAt) order.
	order := []*cert.Certificate{a[0], b[0], a[1], a[2], b[1], a[3], a[4], b[2], a[5]}
	for i, c := range order {
		c.CreatedAt = epoch.Add(time.Duration(i) * time.Minute)
	}
	create(t, s, order...)

	cases := []struct {
		name string
		q    store.Query
		want []*cert.Certificate
	}{
		{"all", store.Query{}, order},
		{"issuer", store.Query{Issuer: "issuer-b"}, []*cert.Certificate{b[0], b[1], b[2]}},
		{"issuer+scheme", store.Query{Issuer: "issuer-a", Scheme: "iso17021"}, []*cert.Certificate{a[1], a[4]}},
		{"scheme", store.Query{Scheme: "iso17021"}, []*cert.Certificate{b[0], a[1], a[4]}},
		{"uscc", store.Query{USCC: sharedUSCC}, []*cert.Certificate{a[2], b[1]}},
		{"uscc+issuer", store.Query{USCC: sharedUSCC, Issuer: "issuer-b"}, []*cert.Certificate{b[1]}},
		{"uscc+scheme", store.Query{USCC: sharedUSCC, Scheme: "iso17021"}, nil},
		{"number", store.Query{Number: a[3].Number}, []*cert.Certificate{a[3], b[2]}},
		{"number+issuer", store.Query{Number: a[3].Number, Issuer: "issuer-b"}, []*cert.Certificate{b[2]}},
		{"number+uscc", store.Query{Number: a[3].Number, USCC: a[3].Organization.USCC}, []*cert.Certificate{a[3]}},
		{"unknown-number", store.Query{Number: "NO-SUCH"}, nil},
		{"unknown-scheme", store.Query{Scheme: "nope"}, nil},
		{"unknown-issuer", store.Query{Issuer: "issuer-z"}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assertList(t, s, tc.q, 0, ids(tc.want))
			assertList(t, s, tc.q, 1, ids(tc.want))
		})
	}
}

// testListPagination pages through 250 certificates of one issuer, 100 at
// a time, with another issuer's certificates around them.
func testListPagination(t *testing.T, s store.Store) {
	a := numbered(t, "issuer-a", 250)
	createAll(t, s, a)
	createAll(t, s, numbered(t, "issuer-b", 5))

	q := store.Query{Issuer: "issuer-a", Limit: 100}
	var sizes []int
	for {
		cs, next, err := s.ListCertificates(t.Context(), q)
		if err != nil {
			t.Fatalf("ListCertificates: %v", err)
		}
		sizes = append(sizes, len(cs))
		if next == "" || len(sizes) > 5 {
			break
		}
		q.Cursor = next
	}
	if want := []int{100, 100, 50}; !slices.Equal(sizes, want) {
		t.Errorf("page sizes = %v, want %v", sizes, want)
	}
	assertList(t, s, store.Query{Issuer: "issuer-a"}, 100, ids(a))
}

// testListExactPages checks that the page that ends the listing returns
// the cursor "" even when it is full.
func testListExactPages(t *testing.T, s store.Store) {
	a := numbered(t, "issuer-a", 200)
	createAll(t, s, a)
	q := store.Query{Issuer: "issuer-a", Limit: 100}
	first, next, err := s.ListCertificates(t.Context(), q)
	if err != nil || len(first) != 100 || next == "" {
		t.Fatalf("first page = %d certificates, cursor %q, %v; want 100 and a cursor", len(first), next, err)
	}
	q.Cursor = next
	second, next, err := s.ListCertificates(t.Context(), q)
	if err != nil {
		t.Fatalf("second page: %v", err)
	}
	if len(second) != 100 || next != "" {
		t.Errorf("second (last) page = %d certificates, cursor %q; want 100 and \"\"", len(second), next)
	}
	if got := append(ids(first), ids(second)...); !slices.Equal(got, ids(a)) {
		t.Errorf("the two pages do not hold the 200 certificates in creation order")
	}
}

func testListDefaultLimit(t *testing.T, s store.Store) {
	a := numbered(t, "issuer-a", 150)
	createAll(t, s, a)
	cs, next, err := s.ListCertificates(t.Context(), store.Query{Issuer: "issuer-a"})
	if err != nil {
		t.Fatalf("ListCertificates: %v", err)
	}
	if len(cs) != 100 || next == "" {
		t.Errorf("Limit 0: %d certificates, cursor %q; want 100 (the default) and a cursor", len(cs), next)
	}
	assertList(t, s, store.Query{Issuer: "issuer-a"}, 0, ids(a))
}

// testListFilteredPagination pages with a filter that the backend checks
// certificate by certificate (scheme), so pages skip what does not match.
func testListFilteredPagination(t *testing.T, s store.Store) {
	a := numbered(t, "issuer-a", 30)
	var want []string
	for i, c := range a {
		if i%3 == 0 {
			c.Scheme = "iso17021"
			want = append(want, c.ID)
		}
	}
	createAll(t, s, a)
	for _, limit := range []int{1, 4, 10} {
		t.Run(fmt.Sprintf("limit-%d", limit), func(t *testing.T) {
			assertList(t, s, store.Query{Issuer: "issuer-a", Scheme: "iso17021"}, limit, want)
			assertList(t, s, store.Query{Scheme: "iso17021"}, limit, want)
		})
	}
}
